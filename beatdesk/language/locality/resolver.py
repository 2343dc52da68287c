"""Resolve one free-text location to a :class:`Location` or None.

How it reads a text:

1. Split it into *units*: parts between separators (",", "/", "|", " - ", emoji ...);
   a part that is not a known name as a whole is split again on "&", "and", "via" ...
2. Read each unit: an agency place, a place, a local authority, a county, a force area,
   a region, a country, a postcode district, somewhere abroad, or nothing. A unit that is
   not a name as a whole is searched for the leftmost prominent name inside it
   ("my old North London") at lower confidence.
3. The first unit that names somewhere in the UK more precisely than a country is the
   answer; it is abandoned when the unit after it says abroad ("Manchester, NH").
   The other units are qualifiers: a candidate inside a qualifying area ("Swinton,
   Salford", "Sale, Cheshire", "Newport, Wales") or near a qualifying place wins.
4. Among same-named candidates, size decides (city > town > suburb > village > hamlet,
   then population); confidence is the winner's share, scaled by how it was matched.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

from beatdesk.language.locality.gazetteer import ExtraPlace, Gazetteer, Location
from beatdesk.language.locality.index import Index
from beatdesk.language.locality.normalise import fold, split_parts

# How a unit was matched -> the ceiling on confidence.
EXACT = 0.95
INSIDE = 0.7
POSTCODE_CURATED = 0.9
POSTCODE_DERIVED = 0.8
POSTCODE_AREA_ONLY = 0.45
QUALIFIER_ONLY = 0.6

QUALIFIED_BONUS = 4.0
NEAR_BONUS = 2.0
NEAR_KM = 20.0
AGENCY_PRIOR = 9.0
AREA_PRIOR = {"la": 6.0, "county": 5.0, "force": 5.0, "region": 0.0, "country": 0.0, "postal": 0.0}

# Words round a place name that do not change where it is.
LEADING_FILLERS = frozenset(
    [
        "the",
        "based",
        "in",
        "living",
        "live",
        "from",
        "currently",
        "probably",
        "near",
        "nr",
        "around",
        "greater",
        "central",
        "north",
        "south",
        "east",
        "west",
        "northern",
        "southern",
        "eastern",
        "western",
        "n",
        "s",
        "e",
        "w",
        "ne",
        "nw",
        "se",
        "sw",
        "inner",
        "outer",
        "sunny",
        "rural",
        "somewhere",
        "born",
        "and",
        "of",
        "proud",
        "beautiful",
        "lovely",
        "old",
        "downtown",
        "city",
        "centre",
    ]
)
TRAILING_FILLERS = frozenset(
    [
        "city",
        "town",
        "area",
        "based",
        "mostly",
        "uni",
        "university",
        "centre",
        "center",
        "borough",
        "district",
        "council",
        "county",
        "and",
        "ish",
        "way",
        "region",
        "side",
        "of",
    ]
)
# Units that say nothing about where (they neither answer nor qualify).
NEUTRAL = frozenset(
    [
        "europe",
        "eu",
        "earth",
        "world",
        "worldwide",
        "global",
        "international",
        "everywhere",
        "online",
        "internet",
        "web",
        "planet earth",
        "the internet",
    ]
)
POSTCODE = re.compile(r"^([a-z]{1,2})([0-9][0-9a-z]?)$")
INWARD_CODE = re.compile(r"^[0-9][a-z]{2}$")
PROMINENT_RANK = 4
FOREIGN_NAMESAKE_POPULATION = 20_000


@dataclass(slots=True)
class Candidate:
    """One reading of a unit: where it could be, and how plausible a priori."""

    name: str
    lat: float
    lon: float
    las: tuple[int, ...]
    kind: str  # "place", "extra", "postcode", or an Area kind
    prior: float
    ceiling: float
    extra: ExtraPlace | None = None
    rank: int = 0  # settlement size class for places (5 city ... 1 hamlet)


@dataclass(slots=True)
class Unit:
    """One part of the text and what it may mean."""

    text: str
    candidates: list[Candidate] = field(default_factory=list)
    foreign: bool = False
    country: bool = False  # a UK country word, or an area spanning several forces
    foreign_code: bool = False  # "NH", "CA", "WA": abroad only as a qualifier
    after_comma: bool = False  # set on the first unit of a segment that follows a comma
    segment: int = 0  # which separator-delimited part of the text the unit came from
    foreign_region: bool = False  # a foreign country, state or province (can qualify)


class Resolver:
    """Stateless apart from the shared, read-only index."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._centres: dict[tuple[int, ...], tuple[float, float]] = {}
        self._forces: dict[tuple[int, ...], frozenset[int]] = {}

    # -- readings ------------------------------------------------------------------------

    def place_prior(self, place: int) -> float:
        rank = self.index.place_rank[place]
        population = self.index.place_pop[place]
        return rank + 0.6 * math.log10(population + 1)

    def exact(self, key: str, extras: Gazetteer | None) -> list[Candidate]:
        """Every reading of ``key`` as a whole name (agency, place, area, postcode)."""
        index = self.index
        found: list[Candidate] = []
        if extras is not None:
            for extra in extras.lookup(key):
                las = self._extra_las(extra)
                found.append(
                    Candidate(
                        extra.name, extra.lat, extra.lon, las, "extra", AGENCY_PRIOR, EXACT, extra
                    )
                )
        for place in index.names.get(key, ()):
            found.append(
                Candidate(
                    index.place_name[place],
                    index.place_lat[place],
                    index.place_lon[place],
                    (index.place_la[place],),
                    "place",
                    self.place_prior(place),
                    EXACT,
                    rank=index.place_rank[place],
                )
            )
        for area in index.areas.get(key, ()):
            lat, lon = self._area_centre(area.las)
            found.append(
                Candidate(area.name, lat, lon, area.las, area.kind, AREA_PRIOR[area.kind], EXACT)
            )
        if not found:
            found.extend(self.postcode(key))
        return found

    def postcode(self, key: str) -> list[Candidate]:
        words = key.split()
        if not 1 <= len(words) <= 2 or (len(words) == 2 and not INWARD_CODE.match(words[1])):
            return []
        match = POSTCODE.match(words[0])
        if match is None or match.group(1).upper() not in self.index.postcode_areas:
            return []
        district = words[0].upper()
        known = self.index.postcode_districts.get(district)
        if known is not None:
            la, lat, lon, source = known
            ceiling = POSTCODE_CURATED if source == 2 else POSTCODE_DERIVED
            return [Candidate(district, lat, lon, (la,), "postcode", 7.0, ceiling)]
        town = self.index.postcode_areas[match.group(1).upper()]
        readings = self.exact(town, None)
        if not readings:
            return []
        best = max(readings, key=lambda c: c.prior)
        return [
            Candidate(district, best.lat, best.lon, best.las, best.kind, 7.0, POSTCODE_AREA_ONLY)
        ]

    def _extra_las(self, extra: ExtraPlace) -> tuple[int, ...]:
        index = self.index
        if extra.local_authority_code and extra.local_authority_code in index.la_by_code:
            return (index.la_by_code[extra.local_authority_code],)
        if extra.local_authority:
            la = index.la_by_name.get(fold(extra.local_authority))
            if la is not None:
                return (la,)
        return ()

    def _area_centre(self, las: tuple[int, ...]) -> tuple[float, float]:
        centre = self._centres.get(las)
        if centre is None:
            points = [(self.index.las[i].lat, self.index.las[i].lon) for i in las]
            centre = (
                round(sum(p[0] for p in points) / len(points), 4),
                round(sum(p[1] for p in points) / len(points), 4),
            )
            self._centres[las] = centre
        return centre

    def forces_of(self, las: tuple[int, ...]) -> frozenset[int]:
        forces = self._forces.get(las)
        if forces is None:
            forces = frozenset(self.index.las[i].force for i in las)
            self._forces[las] = forces
        return forces

    def read_unit(self, key: str, extras: Gazetteer | None) -> list[Unit]:
        """Read one unit; trailing country words come back as extra units after it."""
        if key in NEUTRAL:
            return []
        unit = self._read_whole(key, extras)
        if unit is not None:
            return [unit]
        words = key.split()
        # Strip filler and country words from both ends and retry ("west leeds",
        # "bath uk", "kent uni"); country and abroad words come back as units.
        tail_units: list[Unit] = []
        start, end = 0, len(words)
        while end - start > 1:
            tail_two = self._read_whole(" ".join(words[end - 2 : end]), None)
            tail_one = self._read_whole(words[end - 1], None)
            if end - start > 2 and tail_two is not None and tail_two.country:
                tail_units.insert(0, tail_two)
                end -= 2
            elif tail_one is not None and (
                tail_one.country or tail_one.foreign or tail_one.foreign_code
            ):
                tail_units.insert(0, tail_one)
                end -= 1
            elif words[end - 1] in TRAILING_FILLERS:
                end -= 1
            elif words[start] in LEADING_FILLERS:
                start += 1
            else:
                break
            reading = self._read_whole(" ".join(words[start:end]), extras)
            if reading is not None and not reading.foreign_code:
                return [reading, *tail_units]
        inside = self._read_inside(words[start:end], extras)
        return [inside, *tail_units] if inside is not None else tail_units

    def _read_whole(self, key: str, extras: Gazetteer | None) -> Unit | None:
        if not key or key in NEUTRAL:
            return None
        candidates = self.exact(key, extras)
        foreign = key in self.index.foreign
        if foreign:
            # A UK namesake wins only when it is a sizeable town ("Perth", "Boston").
            candidates = [c for c in candidates if self._outweighs_abroad(c)]
            return Unit(key, candidates, foreign=not candidates)
        if not candidates:
            if key in self.index.foreign_qualifiers:
                return Unit(key, [], foreign_code=True)
            return None
        if all(self._is_broad(c) for c in candidates) or (
            any(c.kind == "country" for c in candidates)
            and not any(c.kind in {"la", "county", "force"} for c in candidates)
        ):
            # "Wales" is the country, not the village near Rotherham.
            return Unit(key, candidates, country=True)
        if (
            len(key.split()) == 1
            and key in self.index.common_words
            and not any(self._is_prominent(c) for c in candidates)
        ):
            # "Over", "Home", "Street": a word first; kept only as a possible qualifier match.
            return Unit(key, [c for c in candidates if self._is_prominent(c)])
        return Unit(key, candidates)

    def _read_inside(self, words: list[str], extras: Gazetteer | None) -> Unit | None:
        """The leftmost, longest prominent name inside a unit that is not a name itself."""
        longest = max(self.index.max_name_words, extras.max_name_words if extras else 0)
        for start in range(len(words)):
            for size in range(min(longest, len(words) - start), 0, -1):
                gram = " ".join(words[start : start + size])
                if len(gram) < 3 and not POSTCODE.match(gram):
                    continue
                if size == 1 and gram in self.index.common_words:
                    continue
                if gram in self.index.foreign:
                    return Unit(gram, [], foreign=True)
                candidates = [
                    c
                    for c in self.exact(gram, extras)
                    if self._is_prominent(c) and not self._is_broad(c)
                ]
                if candidates:
                    for candidate in candidates:
                        candidate.ceiling = min(candidate.ceiling, INSIDE)
                    return Unit(gram, candidates)
        return None

    def _is_prominent(self, candidate: Candidate) -> bool:
        if candidate.kind in {"extra", "postcode", "la", "county", "force"}:
            return True
        if candidate.kind != "place":
            return False
        return candidate.prior >= PROMINENT_RANK

    def _outweighs_abroad(self, candidate: Candidate) -> bool:
        if candidate.kind in {"extra", "la", "county", "force"}:
            return True
        return candidate.kind == "place" and candidate.prior >= 4 + 0.6 * math.log10(
            FOREIGN_NAMESAKE_POPULATION
        )

    def _is_broad(self, candidate: Candidate) -> bool:
        """A country, or a region or county over several forces: it cannot pick a force."""
        if candidate.kind in {"country", "postal"}:
            return True
        if candidate.kind in {"region", "county", "force"}:
            return len(self.forces_of(candidate.las)) > 1
        return False

    # -- choosing ------------------------------------------------------------------------

    def resolve(self, text: str, extras: Gazetteer | None) -> Location | None:
        units: list[Unit] = []
        for number, (after_comma, segment) in enumerate(split_parts(text)):
            whole, *pieces = segment
            read = self.read_unit(whole, extras) if not pieces else []
            if pieces:
                first = self._read_whole(whole, extras)
                if first is not None:
                    read = [first]
                else:
                    for piece in pieces:
                        read.extend(self.read_unit(piece, extras))
            if not read:
                # Keep the place of an unknown part, so that "Leeds | Graz,
                # Austria" does not read Slovakia as qualifying Birmingham.
                read = [Unit(whole)]
            read[0].after_comma = after_comma
            for unit in read:
                unit.segment = number
                unit.foreign_region = unit.foreign and unit.text in self.index.foreign_regions
            units.extend(read)
        primary_at = self._primary(units)
        if primary_at is None:
            return None
        following = units[primary_at + 1] if primary_at + 1 < len(units) else None
        after = units[primary_at + 2] if primary_at + 2 < len(units) else None
        primary = units[primary_at]
        # "Manchester, NH", "Perth, WA": a foreign state or country that
        # qualifies the place (after a comma or in the same part). A foreign city next to
        # it is a list ("Leeds / Paris"), not a qualifier.
        if (
            following is not None
            and (following.after_comma or following.segment == primary.segment)
            and (
                following.foreign_region
                or (following.foreign_code and (after is None or not after.country))
            )
        ):
            return None
        context = [u for i, u in enumerate(units) if i != primary_at and u.candidates]
        qualifier = following if following is not None and following.after_comma else None
        return self._choose(primary, context, qualifier, text)

    def _primary(self, units: list[Unit]) -> int | None:
        first: int | None = None
        for position, unit in enumerate(units):
            if unit.candidates and not unit.country and not unit.foreign:
                first = position
                break
        if first is None:
            return None
        # An area first ("Fife, Kirkcaldy") gives way to a place inside it.
        if all(c.kind in {"county", "force", "la", "postal"} for c in units[first].candidates):
            area_las = {
                la for c in units[first].candidates if not self._is_broad(c) for la in c.las
            }
            for position in range(first + 1, len(units)):
                unit = units[position]
                if unit.foreign:
                    break
                if (
                    unit.candidates
                    and not unit.country
                    and any(
                        c.kind in {"place", "extra", "postcode"} and set(c.las) & area_las
                        for c in unit.candidates
                    )
                ):
                    return position
        return first

    def _choose(
        self, primary: Unit, context: list[Unit], qualifier: Unit | None, text: str
    ) -> Location | None:
        scored: list[tuple[float, Candidate]] = []
        supported = False
        for candidate in primary.candidates:
            if self._is_broad(candidate):
                continue
            score = candidate.prior
            for unit in context:
                support = self._support(candidate, unit)
                score += support
                supported = supported or (unit is qualifier and support > 0)
            scored.append((score, candidate))
        if not scored:
            return None
        scored.sort(key=lambda item: -item[0])
        best_score, best = scored[0]
        place_las = {c.las for c in primary.candidates if c.kind == "place"}
        doubtful = best.rank <= 3 or len(place_las) > 1 or best.ceiling <= INSIDE
        if qualifier is not None and not supported and best.kind == "place" and doubtful:
            # "Swinton, Rotherham", where the data lacks that Swinton:
            # trust the stated area over a namesake elsewhere.
            stated = [
                c
                for c in qualifier.candidates
                if c.kind in {"la", "county", "force"} and not self._is_broad(c)
            ]
            stated.sort(key=lambda c: {"la": 0, "county": 1, "force": 2}[c.kind])
            if stated:
                area = stated[0]
                ceiling = QUALIFIER_ONLY * (0.85 if area.kind != "la" else 1.0)
                return self._location(area, ceiling, qualifier.text, text)
        # Competitors: the best reading per distinct set of authorities.
        rivals: dict[tuple[int, ...], float] = {}
        for score, candidate in scored:
            rivals.setdefault(candidate.las, score)
        total = sum(math.exp(min(s - best_score, 0.0)) for s in rivals.values())
        share = 1.0 / total
        confidence = best.ceiling * (0.5 + 0.5 * share)
        if best.kind in {"county", "force"}:
            confidence *= 0.85
        return self._location(best, confidence, primary.text, text)

    def _support(self, candidate: Candidate, unit: Unit) -> float:
        """How much a qualifying unit confirms a candidate (0 when it says nothing)."""
        best = 0.0
        mine = set(candidate.las)
        for other in unit.candidates:
            if other is candidate:
                continue
            if other.kind in {"la", "county", "force", "region", "country", "postal"}:
                if mine and mine <= set(other.las):
                    best = max(best, QUALIFIED_BONUS)
            elif mine & set(other.las):
                best = max(best, QUALIFIED_BONUS * 0.75)
            elif _km(candidate.lat, candidate.lon, other.lat, other.lon) <= NEAR_KM:
                best = max(best, NEAR_BONUS)
        return best

    def _location(self, best: Candidate, confidence: float, key: str, text: str) -> Location:
        index = self.index
        la_name = la_code = force = force_code = country = None
        if best.extra is not None:
            la_name, la_code = best.extra.local_authority, best.extra.local_authority_code
            force, force_code = best.extra.force, best.extra.force_code
            country = best.extra.country
        if best.las:
            authorities = [index.las[i] for i in best.las]
            countries = {a.country for a in authorities}
            if len(countries) == 1:
                country = country or authorities[0].country
            if len(best.las) == 1:
                la_name = la_name or authorities[0].name
                la_code = la_code or authorities[0].code
            forces = {a.force for a in authorities}
            if len(forces) == 1 and -1 not in forces:
                code, name = index.forces[forces.pop()]
                force, force_code = force or name, force_code or code
        if force and not force_code and force.casefold() in index.force_by_name:
            force_code = index.forces[index.force_by_name[force.casefold()]][0]
        return Location(
            place=best.name,
            lat=best.lat,
            lon=best.lon,
            local_authority=la_name,
            local_authority_code=la_code,
            force=force,
            force_code=force_code,
            country=country,
            confidence=round(min(max(confidence, 0.0), 1.0), 3),
            matched=_span(key, text),
        )


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return 6371.0 * math.hypot(x, math.radians(lat2 - lat1))


@functools.lru_cache(maxsize=8192)
def _span_pattern(key: str) -> re.Pattern[str]:
    return re.compile(r"\W*".join(re.escape(word) for word in key.split()), re.IGNORECASE)


def _span(key: str, text: str) -> str:
    """The original characters that fold to ``key``, or ``key`` when they cannot be found."""
    found = _span_pattern(key).search(text)
    return found.group(0) if found else key
