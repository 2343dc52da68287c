"""Rebuild ``greater_manchester.json.gz`` from the OGL boundaries in ../shared/data/geo.

Run: ``.venv/bin/python -m beatdesk.agencies.demo_data.build_greater_manchester``.
Reads the Trafford Data Lab 2023 generalised (20 m) layers: the combined authority
outline (= Greater Manchester Police force area), its ten local authorities and 215
wards. Coordinates are rounded to 5 decimal places (about 1 m) to keep the file small.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

SOURCE = (
    Path(__file__).resolve().parents[3].parent
    / "shared/data/geo/uk_gazetteer/source/greater_manchester_trafforddatalab"
)
TARGET = Path(__file__).with_name("greater_manchester.json.gz")


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value


def _load(name: str) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = json.loads((SOURCE / name).read_text())["features"]
    return features


def build() -> dict[str, Any]:
    outline = _load("combined_authority_2023_gm_combined_authority_generalised.geojson")[0]
    districts = _load("local_authority_2023_gm_local_authority_generalised.geojson")
    wards = _load("ward_2023_gm_ward_generalised.geojson")

    def geometry(feature: dict[str, Any]) -> dict[str, Any]:
        g = feature["geometry"]
        return {"type": g["type"], "coordinates": _round(g["coordinates"])}

    return {
        "attribution": (
            "Contains National Statistics and OS data © Crown copyright and database right "
            "2023. Boundaries via Trafford Data Lab (OGL v3)."
        ),
        "force_area": {
            "name": "Greater Manchester",
            "code": outline["properties"]["area_code"],
            "boundary": geometry(outline),
        },
        "districts": sorted(
            (
                {
                    "name": f["properties"]["area_name"],
                    "code": f["properties"]["area_code"],
                    "boundary": geometry(f),
                }
                for f in districts
            ),
            key=lambda d: d["code"],
        ),
        "wards": sorted(
            (
                {
                    "name": f["properties"]["area_name"],
                    "code": f["properties"]["area_code"],
                    "district_code": f["properties"]["local_authority_area_code"],
                    "boundary": geometry(f),
                }
                for f in wards
            ),
            key=lambda w: w["code"],
        ),
    }


def main() -> int:
    if not SOURCE.exists():
        print(f"Source boundaries not found at {SOURCE}", file=sys.stderr)
        return 1
    data = json.dumps(build(), separators=(",", ":"), sort_keys=True).encode()
    # mtime=0 makes the archive byte-identical on every rebuild.
    TARGET.write_bytes(gzip.compress(data, mtime=0))
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
