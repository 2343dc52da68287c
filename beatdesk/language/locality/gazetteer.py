"""Public value types: :class:`Location` (an answer) and :class:`Gazetteer` (an agency's
own place names that extend the committed index)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from beatdesk.language.locality.normalise import fold


@dataclass(frozen=True, slots=True)
class Location:
    """A resolved place in the United Kingdom.

    ``local_authority`` is the LAD name as in the ONS LAD21->CSP21->PFA21 lookup
    (England and Wales) or the council name (Scotland, Northern Ireland); None when
    the text names an area larger than one authority ("Essex", "London").
    ``force`` is the police force area name as in that ONS lookup; None in Scotland and
    Northern Ireland (single national forces outside the lookup: read ``country``) and
    when the area spans several forces. ``confidence`` is in [0, 1]. ``matched`` is the
    span of the input text that was resolved.
    """

    place: str
    lat: float
    lon: float
    local_authority: str | None
    local_authority_code: str | None
    force: str | None
    force_code: str | None
    country: str | None
    confidence: float
    matched: str


@dataclass(frozen=True, slots=True)
class ExtraPlace:
    """One agency-supplied place (see :meth:`Gazetteer.add`)."""

    name: str
    lat: float
    lon: float
    local_authority: str | None
    local_authority_code: str | None
    force: str | None
    force_code: str | None
    country: str | None


class Gazetteer:
    """An agency's own place names (wards, estates, neighbourhood-team areas).

    Names added here take precedence over the committed index when they match the same
    words, because the agency knows its own patch. Local authority and force names are
    free text; when a code is not given the resolver fills it from the index if the
    name is known there.
    """

    def __init__(self) -> None:
        self._by_name: dict[str, list[ExtraPlace]] = {}

    def add(
        self,
        name: str,
        lat: float,
        lon: float,
        local_authority: str | None,
        force: str | None,
        *,
        local_authority_code: str | None = None,
        force_code: str | None = None,
        country: str | None = None,
        aliases: Iterable[str] = (),
    ) -> ExtraPlace:
        """Add a place under ``name`` and each of ``aliases``; return the stored entry.

        Raises ValueError for an empty name or coordinates outside -90..90 / -180..180.
        """
        if not fold(name):
            raise ValueError("a place needs a name with letters or digits")
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            raise ValueError(f"coordinates out of range: {lat}, {lon}")
        place = ExtraPlace(
            name, lat, lon, local_authority, local_authority_code, force, force_code, country
        )
        for key in {fold(name), *(fold(a) for a in aliases)} - {""}:
            self._by_name.setdefault(key, []).append(place)
        return place

    def lookup(self, folded_name: str) -> list[ExtraPlace]:
        """Places stored under an already folded name (see ``normalise.fold``)."""
        return self._by_name.get(folded_name, [])

    @property
    def max_name_words(self) -> int:
        return max((len(k.split()) for k in self._by_name), default=0)

    def __len__(self) -> int:
        return len({id(p) for places in self._by_name.values() for p in places})

    def __iter__(self) -> Iterator[ExtraPlace]:
        seen: set[int] = set()
        for places in self._by_name.values():
            for place in places:
                if id(place) not in seen:
                    seen.add(id(place))
                    yield place
