"""The committed gazetteer index: loaded lazily, once per process, read-only.

The file ``artefacts/locality_index.json.gz`` is written by ``training/build_index.py``;
its sources and licences are in ``artefacts/ATTRIBUTION.md``.
"""

from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INDEX_PATH = Path(__file__).resolve().parent / "artefacts" / "locality_index.json.gz"
SCHEMA = 1

COUNTRY_NAMES = {"E": "England", "W": "Wales", "S": "Scotland", "N": "Northern Ireland"}


@dataclass(frozen=True, slots=True)
class LocalAuthority:
    """A 2021 LAD (England and Wales) or a Scottish council / NI district."""

    code: str
    name: str
    force: int  # index into ``Index.forces``; -1 in Scotland and Northern Ireland
    country: str  # "England", "Wales", "Scotland" or "Northern Ireland"
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Area:
    """A named area over whole local authorities: an LA, county, force, region or country."""

    kind: str  # "la", "county", "force", "region", "country"
    name: str
    las: tuple[int, ...]


class Index:
    """Parsed index. Places are held column-wise (parallel tuples) to stay small."""

    def __init__(self, raw: dict[str, Any]) -> None:
        if raw.get("schema") != SCHEMA:
            raise ValueError(f"locality index schema {raw.get('schema')!r}, expected {SCHEMA}")
        self.forces: tuple[tuple[str, str], ...] = tuple((c, n) for c, n in raw["forces"])
        self.las: tuple[LocalAuthority, ...] = tuple(
            LocalAuthority(code, name, force, COUNTRY_NAMES[country], lat, lon)
            for code, name, force, country, lat, lon in raw["las"]
        )
        self.place_name: tuple[str, ...] = tuple(raw["place_name"])
        self.place_lat: tuple[float, ...] = tuple(raw["place_lat"])
        self.place_lon: tuple[float, ...] = tuple(raw["place_lon"])
        self.place_la: tuple[int, ...] = tuple(raw["place_la"])
        self.place_rank: tuple[int, ...] = tuple(raw["place_rank"])
        self.place_pop: tuple[int, ...] = tuple(raw["place_pop"])
        self.names: dict[str, tuple[int, ...]] = {k: tuple(v) for k, v in raw["names"].items()}
        self.areas: dict[str, tuple[Area, ...]] = {
            key: tuple(Area(kind, name, tuple(las)) for kind, name, las in records)
            for key, records in raw["areas"].items()
        }
        self.postcode_districts: dict[str, tuple[int, float, float, int]] = {
            k: (v[0], v[1], v[2], v[3]) for k, v in raw["postcode_districts"].items()
        }
        self.postcode_areas: dict[str, str] = dict(raw["postcode_areas"])
        self.foreign: frozenset[str] = frozenset(raw["foreign"])
        self.foreign_regions: frozenset[str] = frozenset(raw["foreign_regions"])
        self.foreign_qualifiers: frozenset[str] = frozenset(raw["foreign_qualifiers"])
        self.common_words: frozenset[str] = frozenset(raw["common_words"])
        self.la_by_code: dict[str, int] = {la.code: i for i, la in enumerate(self.las)}
        self.la_by_name: dict[str, int] = {}
        for key, areas in self.areas.items():
            for area in areas:
                if area.kind == "la" and len(area.las) == 1:
                    self.la_by_name.setdefault(key, area.las[0])
        self.force_by_name: dict[str, int] = {
            n.casefold(): i for i, (_c, n) in enumerate(self.forces)
        }
        self.max_name_words = max(len(k.split()) for k in (*self.names, *self.areas))


_lock = threading.Lock()
_cached: Index | None = None


def load_index(path: Path | None = None) -> Index:
    """Return the process-wide index, reading it on first use (thread-safe).

    ``path`` is for tests and tools; the cached default is used when it is None.
    """
    global _cached
    if path is not None:
        return _read(path)
    if _cached is None:
        with _lock:
            if _cached is None:
                _cached = _read(INDEX_PATH)
    return _cached


def _read(path: Path) -> Index:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return Index(json.load(handle))
