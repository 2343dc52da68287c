"""Build the committed locality index from the open geography in ``shared/data/geo``.

Usage::

    python -m beatdesk.language.locality.training.build_index [--data DIR] [--out FILE]

Deterministic: the same inputs give byte-identical output (sorted keys, fixed gzip
mtime, rounded coordinates). Single process, a few seconds.

Local authorities are the 2021 LADs of the ONS LAD21->CSP21->PFA21 lookup for England
and Wales (later reorganisations such as Cumberland or North Yorkshire Council are areas
over their 2021 districts; police force areas did not change), and the current council
areas of Scotland and districts of Northern Ireland from mySociety's register.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import math
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from beatdesk.language.locality.normalise import fold
from beatdesk.language.locality.training import curated

DEFAULT_DATA = Path("/work/shared/data/geo/uk_gazetteer")
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "artefacts" / "locality_index.json.gz"
SCHEMA = 1

# Place ranks: larger means a bigger settlement and a stronger prior.
RANK_BY_OS_TYPE = {
    "City": 5,
    "Town": 4,
    "Suburban Area": 3,
    "Village": 2,
    "Hamlet": 1,
    "Other Settlement": 1,
}
RANK_WARD = 3
SAME_PLACE_KM = 5.0


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance in km; accurate enough at UK scale."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6371.0 * math.hypot(x, y)


def rank_from_population(population: int) -> int:
    if population >= 100_000:
        return 5
    if population >= 10_000:
        return 4
    if population >= 2_000:
        return 3
    return 2


class Builder:
    """Accumulates local authorities, places, areas and postcode districts."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.forces: list[tuple[str, str]] = []  # (PFA21CD, PFA21NM)
        self.force_index: dict[str, int] = {}
        # LA: code, name, force index (-1 for Scotland/NI), country letter, lat, lon
        self.las: list[list[Any]] = []
        self.la_index: dict[str, int] = {}
        self.la_by_name: dict[str, int] = {}
        self.places: list[dict[str, Any]] = []
        self.places_by_name: dict[str, list[int]] = defaultdict(list)
        self.areas: dict[str, list[list[Any]]] = defaultdict(list)
        self.postcode_districts: dict[str, list[Any]] = {}

    # -- local authorities -------------------------------------------------------------

    def load_local_authorities(self) -> None:
        ons = self.data / "source" / "ons_LAD21_CSP21_PFA21_lookup_EW.csv"
        with ons.open(encoding="utf-8-sig") as handle:
            rows = sorted(csv.DictReader(handle, delimiter=";"), key=lambda r: r["lad-code"])
        seen: set[str] = set()
        for row in rows:
            if row["PFA21CD"] not in self.force_index:
                self.force_index[row["PFA21CD"]] = -1
            if row["lad-code"] in seen:
                continue
            seen.add(row["lad-code"])
        for code, name in sorted({(r["PFA21CD"], r["PFA21NM"]) for r in rows}):
            self.force_index[code] = len(self.forces)
            self.forces.append((code, name))
        centroids, alt_names, scot_ni = self._mysociety()
        for row in rows:
            code = row["lad-code"]
            if code in self.la_index:
                continue
            lat, lon = centroids.get(code, (0.0, 0.0))
            self._add_la(
                code,
                row["lad-name"],
                self.force_index[row["PFA21CD"]],
                code[0],
                lat,
                lon,
                alt_names.get(code, []),
            )
        for code, name, lat, lon, names in scot_ni:
            self._add_la(code, name, -1, code[0], lat, lon, names)

    def _add_la(
        self,
        code: str,
        name: str,
        force: int,
        country: str,
        lat: float,
        lon: float,
        alt_names: Iterable[str],
    ) -> None:
        index = len(self.las)
        self.las.append([code, name, force, country, round(lat, 4), round(lon, 4)])
        self.la_index[code] = index
        names = {fold(name), *(fold(n) for n in alt_names)}
        # "Kingston upon Hull, City of" is written "Hull" or "Kingston upon Hull".
        if "," in name:
            head, tail = name.split(",", 1)
            names.add(fold(head))
            names.add(fold(f"{tail} {head}"))
        for key in sorted(n for n in names if n):
            self.la_by_name.setdefault(key, index)
            self.add_area(key, "la", name, [index])

    def _mysociety(
        self,
    ) -> tuple[
        dict[str, tuple[float, float]],
        dict[str, list[str]],
        list[tuple[str, str, float, float, list[str]]],
    ]:
        path = self.data / "source" / "mysociety_uk_local_authorities.csv"
        centroids: dict[str, tuple[float, float]] = {}
        alt_names: dict[str, list[str]] = defaultdict(list)
        scot_ni: list[tuple[str, str, float, float, list[str]]] = []
        self.former_codes: dict[str, str] = {}
        self.replaced_by: dict[str, list[str]] = defaultdict(list)
        self.new_authorities: dict[str, tuple[str, str]] = {}
        with path.open(encoding="utf-8") as handle:
            rows = sorted(csv.DictReader(handle), key=lambda r: r["local-authority-code"])
        register_to_gss = {r["local-authority-code"]: r["lad-code"] for r in rows}
        for row in rows:
            code = row["lad-code"]
            # mySociety's "lat" column holds the longitude and "long" the latitude.
            try:
                lat, lon = float(row["long"]), float(row["lat"])
            except ValueError:
                lat, lon = 0.0, 0.0
            centroids[code] = (lat, lon)
            names = [n for n in row["alt-names"].split(",") if n]
            alt_names[code].extend(names)
            if row["replaced-by"]:
                self.replaced_by[register_to_gss.get(row["replaced-by"], "")].append(code)
            if row["current-authority"] != "True":
                continue
            if row["nation"] in {"Scotland", "Northern Ireland"}:
                scot_ni.append((code, row["nice-name"].strip(), lat, lon, names))
                for former in row["former-gss-codes"].split(","):
                    if former:
                        self.former_codes[former] = code
            elif row["nation"] in {"England", "Wales"}:
                self.new_authorities[code] = (row["nice-name"], row["official-name"])
        return centroids, alt_names, scot_ni

    # -- areas -------------------------------------------------------------------------

    def add_area(self, key: str, kind: str, display: str, las: Iterable[int]) -> None:
        members = sorted(set(las))
        if not key or not members:
            return
        record = [kind, display, members]
        if record not in self.areas[key]:
            self.areas[key].append(record)

    def la_indices_by_names(self, names: Iterable[str]) -> list[int]:
        found = []
        for name in names:
            index = self.la_by_name.get(fold(name))
            if index is None:
                raise SystemExit(f"curated table names an unknown local authority: {name}")
            found.append(index)
        return found

    def build_areas(self, os_rows: list[dict[str, str]]) -> None:
        by_county: dict[str, set[int]] = defaultdict(set)
        by_region: dict[str, set[int]] = defaultdict(set)
        for row in os_rows:
            la = self.os_row_la(row)
            if la is None:
                continue
            if row["county_unitary_type"] == "County":
                by_county[row["county_unitary"]].add(la)
            if row["region"] not in {"Scotland", "Wales"}:
                by_region[row["region"]].add(la)
        force_members: dict[int, set[int]] = defaultdict(set)
        for position, authority in enumerate(self.las):
            if authority[2] >= 0:
                force_members[authority[2]].add(position)
        met = self.force_index["E23000001"]
        yorkshire_forces = {
            self.force_index[c] for c in ("E23000009", "E23000010", "E23000011", "E23000012")
        }
        yorkshire = {i for f in yorkshire_forces for i in force_members[f]}
        yorkshire -= set(
            self.la_indices_by_names(["North Lincolnshire", "North East Lincolnshire"])
        )
        for name, member_names in sorted(curated.COUNTY_MEMBERS.items()):
            listed = set(self.la_indices_by_names(member_names))
            if name == "Greater London":
                listed |= force_members[met]
            if name == "Yorkshire":
                listed |= yorkshire
            if name == "Sussex":
                listed |= by_county["East Sussex"] | by_county["West Sussex"]
            administrative = by_county.get(name, set())
            if administrative:
                # As an answer a county is its administrative area plus the unitaries in
                # its police force ("Essex" + Southend); the postal and historic members
                # ("Romford, Essex") only qualify.
                modal = Counter(self.las[i][2] for i in administrative).most_common(1)[0][0]
                answer = administrative | {i for i in listed if self.las[i][2] == modal}
            else:
                answer = listed
            self.add_area(fold(name), "county", name, answer)
            if listed | answer != answer:
                self.add_area(fold(name), "postal", name, listed | answer)
        for name, county_las in sorted(by_county.items()):
            if name not in curated.COUNTY_MEMBERS:
                self.add_area(fold(name), "county", name, county_las)
        for abbreviation, name in sorted(curated.COUNTY_ABBREVIATIONS.items()):
            for record in list(self.areas.get(fold(name), [])):
                self.add_area(abbreviation, record[0], record[1], record[2])
        for force_index, (_code, name) in enumerate(self.forces):
            keys = {fold(name)}
            if name == "London, City of":
                continue
            if name == "Metropolitan Police":
                keys |= {"met", "metropolitan police", "met police"}
            for key in sorted(keys):
                self.add_area(key, "force", name, force_members[force_index])
        region_names = {
            "Eastern": ["East of England", "East Anglia"],
            "Yorkshire and the Humber": ["Yorkshire and Humber"],
        }
        for region, region_las in sorted(by_region.items()):
            for name in [region, *region_names.get(region, [])]:
                key = fold(name)
                if key not in self.areas:
                    self.add_area(key, "region", name, region_las)
                self.add_area(fold(f"the {name}"), "region", name, region_las)
        # Authorities created after 2021 (Cumberland, North Yorkshire Council, ...) cover
        # their predecessors' districts.
        for code, (nice, official) in sorted(self.new_authorities.items()):
            if code in self.la_index:
                continue
            predecessors = [
                self.la_index[c] for c in self.replaced_by.get(code, []) if c in self.la_index
            ]
            for name in (nice, official):
                self.add_area(fold(name), "county", nice, predecessors)
        countries = {
            "England": "E",
            "Wales": "W",
            "Scotland": "S",
            "Northern Ireland": "N",
        }
        every = list(range(len(self.las)))
        for name, letter in countries.items():
            in_country = [i for i, la in enumerate(self.las) if la[3] == letter]
            self.add_area(fold(name), "country", name, in_country)
        for alias, name in {
            "cymru": "Wales",
            "alba": "Scotland",
            "ni": "Northern Ireland",
            "n ireland": "Northern Ireland",
            "eng": "England",
            "scot": "Scotland",
        }.items():
            self.add_area(alias, "country", name, self.areas[fold(name)][0][2])
        for name in (
            "uk",
            "u k",
            "united kingdom",
            "united kingdon",
            "united kindgom",
            "great britain",
            "britain",
            "gb",
            "gbr",
            "the uk",
            "england uk",
            "blighty",
            "uk and ireland",
            "british isles",
        ):
            self.add_area(name, "country", "United Kingdom", every)

    # -- places ------------------------------------------------------------------------

    def os_row_la(self, row: dict[str, str]) -> int | None:
        if row["lad21cd"]:
            return self.la_index.get(row["lad21cd"])
        if row["country"] == "Scotland" and row["county_unitary"]:
            return self.la_by_name.get(fold(row["county_unitary"]))
        return None

    def add_place(
        self,
        name: str,
        lat: float,
        lon: float,
        la: int,
        rank: int,
        population: int,
        aliases: Iterable[str] = (),
    ) -> int:
        key = fold(name)
        for existing in self.places_by_name.get(key, []):
            place = self.places[existing]
            if km_between(place["lat"], place["lon"], lat, lon) <= SAME_PLACE_KM:
                place["rank"] = max(place["rank"], rank)
                place["pop"] = max(place["pop"], population)
                self._add_aliases(existing, aliases)
                return existing
        index = len(self.places)
        self.places.append(
            {
                "name": name,
                "lat": round(lat, 4),
                "lon": round(lon, 4),
                "la": la,
                "rank": rank,
                "pop": population,
            }
        )
        self.places_by_name[key].append(index)
        self._add_aliases(index, aliases)
        return index

    def _add_aliases(self, index: int, aliases: Iterable[str]) -> None:
        for alias in aliases:
            key = fold(alias)
            if key and index not in self.places_by_name[key]:
                self.places_by_name[key].append(index)

    def load_geonames(self, scottish_polygons: list[tuple[str, Any]]) -> int:
        path = self.data / "derived" / "geonames_gb_places_with_lad_pfa.csv"
        ni = [i for i, la in enumerate(self.las) if la[3] == "N"]
        added = 0
        with path.open(encoding="utf-8") as handle:
            rows = sorted(csv.DictReader(handle), key=lambda r: int(r["geonameid"]))
        for row in rows:
            lat, lon = float(row["lat"]), float(row["lon"])
            la = self.la_index.get(row["lad_current_cd"]) if row["lad_current_cd"] else None
            if la is None and row["admin1code"] == "SCT":
                code = point_in_polygons(lon, lat, scottish_polygons)
                code = self.former_codes.get(code or "", code)
                la = self.la_index.get(code or "")
            if la is None and row["admin1code"] == "NIR":
                # No NI boundaries in the data: nearest district centroid (documented gap).
                la = min(ni, key=lambda i: km_between(lat, lon, self.las[i][4], self.las[i][5]))
            if la is None:
                continue
            population = int(row["population"] or 0)
            aliases = [a for a in row["alternatenames"].split("|") if is_latin(a) and len(a) > 3]
            self.add_place(
                row["name"], lat, lon, la, rank_from_population(population), population, aliases
            )
            added += 1
        return added

    def load_os_open_names(self) -> list[dict[str, str]]:
        path = self.data / "derived" / "os_open_names_populated_places_PARTIAL.csv"
        with path.open(encoding="utf-8") as handle:
            rows = sorted(csv.DictReader(handle), key=lambda r: r["os_id"])
        district_las: dict[str, Counter[int]] = defaultdict(Counter)
        district_points: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)
        for row in rows:
            la = self.os_row_la(row)
            if la is None:
                continue
            lat, lon = float(row["lat"]), float(row["lon"])
            aliases = [row["name2"]] if row["name2"] else []
            self.add_place(
                row["name1"], lat, lon, la, RANK_BY_OS_TYPE.get(row["local_type"], 1), 0, aliases
            )
            if row["postcode_district"]:
                district_las[row["postcode_district"]][la] += 1
                district_points[(row["postcode_district"], la)].append((lat, lon))
        for district, counts in sorted(district_las.items()):
            la, _n = max(counts.items(), key=lambda item: (item[1], -item[0]))
            points = district_points[(district, la)]
            lat = sum(p[0] for p in points) / len(points)
            lon = sum(p[1] for p in points) / len(points)
            self.postcode_districts[district] = [la, round(lat, 4), round(lon, 4), 1]
        return rows

    def load_gm_wards(self) -> None:
        path = self.data / "derived" / "gm_wards_2023_with_lad.csv"
        with path.open(encoding="utf-8") as handle:
            rows = sorted(csv.DictReader(handle), key=lambda r: r["ward_code"])
        wards: dict[str, tuple[float, float, int]] = {}
        for row in rows:
            la = self.la_index[row["lad_code"]]
            lat, lon = float(row["centroid_lat"]), float(row["centroid_lon"])
            wards[row["ward_name"]] = (lat, lon, la)
            self.add_place(row["ward_name"], lat, lon, la, RANK_WARD, 0)
        for name, members in sorted(curated.WARD_COMPOSITES.items()):
            points = [wards[m] for m in members]
            lat = sum(p[0] for p in points) / len(points)
            lon = sum(p[1] for p in points) / len(points)
            self.add_place(name, lat, lon, points[0][2], RANK_WARD + 1, 0)

    def load_curated_postcodes(self) -> None:
        for district, la_name in sorted(curated.GM_POSTCODE_DISTRICTS.items()):
            la = self.la_indices_by_names([la_name])[0]
            self.postcode_districts[district] = [la, self.las[la][4], self.las[la][5], 2]

    def add_nicknames(self) -> None:
        for nickname, target in sorted(curated.NICKNAMES.items()):
            key = fold(target)
            targets = list(self.places_by_name.get(key, []))
            for index in targets:
                if index not in self.places_by_name[nickname]:
                    self.places_by_name[nickname].append(index)
            for record in list(self.areas.get(key, [])):
                self.add_area(nickname, record[0], record[1], record[2])
            if not targets and key not in self.areas:
                raise SystemExit(f"nickname target unknown: {target}")

    # -- output ------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        foreign = sorted(
            {
                fold(n)
                for n in [
                    *curated.FOREIGN_COUNTRIES,
                    *curated.FOREIGN_CITIES,
                    *curated.US_STATES,
                    *curated.OTHER_FOREIGN_REGIONS,
                ]
            }
            - {""}
        )
        names = {key: sorted(set(ids)) for key, ids in sorted(self.places_by_name.items()) if ids}
        return {
            "schema": SCHEMA,
            "forces": [list(f) for f in self.forces],
            "las": self.las,
            "place_name": [p["name"] for p in self.places],
            "place_lat": [p["lat"] for p in self.places],
            "place_lon": [p["lon"] for p in self.places],
            "place_la": [p["la"] for p in self.places],
            "place_rank": [p["rank"] for p in self.places],
            "place_pop": [p["pop"] for p in self.places],
            "names": names,
            "areas": {k: v for k, v in sorted(self.areas.items())},
            "postcode_districts": dict(sorted(self.postcode_districts.items())),
            "postcode_areas": {k: fold(v) for k, v in sorted(curated.POSTCODE_AREA_TOWNS.items())},
            "foreign": foreign,
            "foreign_regions": sorted(
                {
                    fold(n)
                    for n in [
                        *curated.FOREIGN_COUNTRIES,
                        *curated.US_STATES,
                        *curated.OTHER_FOREIGN_REGIONS,
                    ]
                }
                - {""}
            ),
            "foreign_qualifiers": sorted(set(curated.FOREIGN_QUALIFIER_CODES)),
            "common_words": sorted(set(curated.COMMON_WORDS)),
        }


def is_latin(text: str) -> bool:
    return all(ord(ch) < 0x250 for ch in text) and any(ch.isalpha() for ch in text)


# -- TopoJSON point-in-polygon (Scottish GeoNames places have no LAD in the data) ----------


def decode_topojson_polygons(path: Path, prefix: str) -> list[tuple[str, Any]]:
    topo = json.loads(path.read_text(encoding="utf-8"))
    scale_x, scale_y = topo["transform"]["scale"]
    shift_x, shift_y = topo["transform"]["translate"]
    arcs: list[list[tuple[float, float]]] = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * scale_x + shift_x, y * scale_y + shift_y))
        arcs.append(points)

    def ring(indices: list[int]) -> list[tuple[float, float]]:
        points: list[tuple[float, float]] = []
        for index in indices:
            part = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
            points.extend(part[1:] if points else part)
        return points

    polygons = []
    for geometry in topo["objects"]["lad"]["geometries"]:
        code = geometry["properties"]["LAD13CD"]
        if not code.startswith(prefix):
            continue
        shapes = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        rings = [ring(r) for shape in shapes for r in shape]
        xs = [p[0] for r in rings for p in r]
        ys = [p[1] for r in rings for p in r]
        polygons.append((code, (min(xs), min(ys), max(xs), max(ys), rings)))
    return polygons


def point_in_polygons(x: float, y: float, polygons: list[tuple[str, Any]]) -> str | None:
    """Even-odd rule over all rings of each LAD; the nearest bbox wins ties."""
    for code, (x0, y0, x1, y1, rings) in polygons:
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            continue
        inside = False
        for points in rings:
            j = len(points) - 1
            for i in range(len(points)):
                xi, yi = points[i]
                xj, yj = points[j]
                if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
                    inside = not inside
                j = i
        if inside:
            return code
    return None


def write_index(index: dict[str, Any], out: Path) -> int:
    payload = json.dumps(index, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(payload.encode("utf-8"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buffer.getvalue())
    return len(buffer.getvalue())


def build(data: Path) -> dict[str, Any]:
    builder = Builder(data)
    builder.load_local_authorities()
    scottish = decode_topojson_polygons(
        data / "source" / "gb_lad2013_topojson_martinjc" / "topo_lad_gb_2013.json", "S"
    )
    geonames = builder.load_geonames(scottish)
    os_rows = builder.load_os_open_names()
    builder.load_gm_wards()
    builder.load_curated_postcodes()
    builder.build_areas(os_rows)
    # "London" is Greater London (a force, many authorities), not the GeoNames point in
    # Westminster; the City of London keeps its own name.
    builder.places_by_name.pop("london", None)
    # "London" is answered as the Metropolitan Police area (its 32 boroughs); the City of
    # London and its own police are named as such.
    for record in builder.areas["greater london"]:
        builder.add_area("london", record[0], "London", record[2])
    builder.add_nicknames()
    print(
        f"local authorities {len(builder.las)}, forces {len(builder.forces)}, "
        f"places {len(builder.places)} (GeoNames rows {geonames}, OS rows {len(os_rows)}), "
        f"names {len(builder.places_by_name)}, areas {len(builder.areas)}, "
        f"postcode districts {len(builder.postcode_districts)}",
        file=sys.stderr,
    )
    return builder.to_json()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"data directory not found: {args.data}", file=sys.stderr)
        return 2
    size = write_index(build(args.data), args.out)
    print(f"wrote {args.out} ({size:,} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
