"""Where a message belongs: the place it is about and the team that serves it.

Place, strongest evidence first: the message's geotag; a place the text names (one of
the agency's own area names, a postcode, "in/at/near <Place>"); the author's profile
location; the areas the receiving account serves. A place is used only if it falls inside one of the
agency's areas. Kind overrides place for the team (threat to life → the 24/7 desk,
intelligence → the intelligence team, complaints → professional standards) but the
place is still recorded, so neighbourhood insight is not lost.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from beatdesk.agencies.geometry import bounds, contains
from beatdesk.agencies.models import Area, Team
from beatdesk.language.locality import locate

_CACHE_SECONDS = 60.0
_MIN_CONFIDENCE = 0.5
_POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?)(?:\s*[0-9][A-Z]{2})?\b")
_PLACE_PHRASE = re.compile(
    r"\b(?:in|at|near|around|outside|by)\s+((?:[A-Z][\w'\u2019-]+)(?:\s+[A-Z][\w'\u2019-]+){0,2})"
)
_KIND_TEAMS = {
    "intelligence": (Team.Kind.INTELLIGENCE, "Intelligence: to the intelligence team"),
    "complaint": (Team.Kind.STANDARDS, "Complaint: to professional standards"),
}
_AREA_DEPTH: dict[str, int] = {
    Area.Kind.NEIGHBOURHOOD: 0,
    Area.Kind.DISTRICT: 1,
    Area.Kind.FORCE_AREA: 2,
}


@dataclass(frozen=True)
class Routing:
    team_id: int | None
    area_id: int | None
    reason: str
    place: str = ""
    place_source: str = ""


@dataclass
class _Area:
    id: int
    name: str
    kind: str
    parent_id: int | None
    boundary: dict[str, Any] | None
    bbox: tuple[float, float, float, float] | None


@dataclass
class AgencyPlaces:
    """An agency's areas and teams, loaded once a minute per process."""

    areas: dict[int, _Area]
    by_name: dict[str, int]
    name_pattern: re.Pattern[str] | None
    # area id → teams serving it, neighbourhood teams first
    teams_for_area: dict[int, list[tuple[int, str, str]]]
    team_by_kind: dict[str, int]
    team_names: dict[int, str]
    loaded_at: float = field(default_factory=time.monotonic)

    def area_at(self, lat: float, lon: float) -> int | None:
        """The most local area of the agency containing the point, or None."""
        best: tuple[int, int] | None = None
        for area in self.areas.values():
            if area.boundary is None or area.bbox is None:
                continue
            west, south, east, north = area.bbox
            if not (west <= lon <= east and south <= lat <= north):
                continue
            if contains(area.boundary, lat, lon):
                depth = _AREA_DEPTH.get(area.kind, 3)
                if best is None or depth < best[0]:
                    best = (depth, area.id)
        return best[1] if best else None

    def team_serving(self, area_id: int) -> tuple[int, str] | None:
        """The team that serves the area, walking up to its district if none does."""
        seen: set[int] = set()
        current: int | None = area_id
        while current is not None and current not in seen:
            seen.add(current)
            for team_id, kind, name in self.teams_for_area.get(current, []):
                if kind != Team.Kind.DIGITAL_DESK:
                    return team_id, name
            current = self.areas[current].parent_id if current in self.areas else None
        return None


_cache: dict[int, AgencyPlaces] = {}


def places_for(agency_id: int) -> AgencyPlaces:
    cached = _cache.get(agency_id)
    if cached and time.monotonic() - cached.loaded_at < _CACHE_SECONDS:
        return cached
    areas: dict[int, _Area] = {}
    for row in Area.objects.filter(agency_id=agency_id).values(
        "id", "name", "kind", "parent_id", "boundary"
    ):
        boundary = row["boundary"]
        areas[row["id"]] = _Area(
            id=row["id"],
            name=row["name"],
            kind=row["kind"],
            parent_id=row["parent_id"],
            boundary=boundary,
            bbox=bounds([boundary]) if boundary else None,
        )
    teams_for_area: dict[int, list[tuple[int, str, str]]] = {}
    team_by_kind: dict[str, int] = {}
    team_names: dict[int, str] = {}
    for team in Team.objects.filter(agency_id=agency_id).prefetch_related("areas"):
        team_names[team.pk] = team.name
        team_by_kind.setdefault(team.kind, team.pk)
        for area in team.areas.all():
            teams_for_area.setdefault(area.pk, []).append((team.pk, team.kind, team.name))
    for entries in teams_for_area.values():
        entries.sort(key=lambda e: (e[1] != Team.Kind.NEIGHBOURHOOD, e[2]))
    # Names of force areas ("Greater Manchester") say nothing local; match the rest.
    by_name = {
        a.name: a.id
        for a in sorted(areas.values(), key=lambda a: -_AREA_DEPTH.get(a.kind, 3))
        if a.kind != Area.Kind.FORCE_AREA and len(a.name) >= 4
    }
    pattern = None
    if by_name:
        alternatives = "|".join(re.escape(n) for n in sorted(by_name, key=len, reverse=True))
        pattern = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")
    places = AgencyPlaces(
        areas=areas,
        by_name=by_name,
        name_pattern=pattern,
        teams_for_area=teams_for_area,
        team_by_kind=team_by_kind,
        team_names=team_names,
    )
    _cache[agency_id] = places
    return places


def forget_cached_places() -> None:
    """For tests and after areas or teams change in this process."""
    _cache.clear()


def _place_in_text(places: AgencyPlaces, text: str) -> tuple[int, str] | None:
    if places.name_pattern is not None:
        found = places.name_pattern.search(text)
        if found:
            return places.by_name[found.group(0)], found.group(0)
    for candidate in [m.group(1) for m in _POSTCODE.finditer(text)] + [
        m.group(1) for m in _PLACE_PHRASE.finditer(text)
    ]:
        location = locate(candidate)
        if location is None or location.confidence < _MIN_CONFIDENCE:
            continue
        area_id = places.area_at(location.lat, location.lon)
        if area_id is not None:
            return area_id, location.place
    return None


def _place_of_profile(places: AgencyPlaces, profile_location: str) -> tuple[int, str] | None:
    if not profile_location.strip():
        return None
    location = locate(profile_location)
    if location is None or location.confidence < _MIN_CONFIDENCE:
        return None
    area_id = places.area_at(location.lat, location.lon)
    return (area_id, location.place) if area_id is not None else None


def route(
    places: AgencyPlaces,
    *,
    text: str,
    geotag: tuple[float, float] | None = None,
    author_location: str,
    priority: str,
    category: str,
    account_area_ids: Sequence[int],
    account_team_id: int | None,
) -> Routing:
    """Decide the area and team for a message. Never raises for odd input."""
    area_id: int | None = None
    place = source = ""
    tagged = places.area_at(*geotag) if geotag else None
    found = _place_in_text(places, text)
    if tagged is not None:
        area_id, place, source = tagged, places.areas[tagged].name, "geotag"
    elif found:
        area_id, place, source = found[0], found[1], "text"
    else:
        profile = _place_of_profile(places, author_location)
        if profile:
            area_id, place, source = profile[0], profile[1], "profile"
        elif account_area_ids:
            area_id = min(
                (a for a in account_area_ids if a in places.areas),
                key=lambda a: _AREA_DEPTH.get(places.areas[a].kind, 3),
                default=None,
            )
            if area_id is not None:
                place, source = places.areas[area_id].name, "account"

    desk = places.team_by_kind.get(Team.Kind.DIGITAL_DESK)
    if priority == "P1" and desk is not None:
        return Routing(desk, area_id, "Threat to life: to the 24/7 desk", place, source)
    if category in _KIND_TEAMS:
        kind, reason = _KIND_TEAMS[category]
        team = places.team_by_kind.get(kind)
        if team is not None:
            return Routing(team, area_id, reason, place, source)
    if area_id is not None:
        serving = places.team_serving(area_id)
        if serving is not None:
            where = {
                "geotag": "the message's geotag",
                "text": "named in the message",
                "profile": "the author's profile",
            }.get(source, "the account's area")
            return Routing(serving[0], area_id, f"{place} ({where}): {serving[1]}", place, source)
    if account_team_id is not None:
        return Routing(account_team_id, area_id, "The account's own team", place, source)
    return Routing(desk, area_id, "No place or team found: to the 24/7 desk", place, source)
