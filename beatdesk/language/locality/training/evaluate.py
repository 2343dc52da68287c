"""Evaluate ``locate`` on held-out real profile locations and on gazetteer names.

Usage::

    python -m beatdesk.language.locality.training.evaluate [--data DIR] [--show dev]

Two separate sets, reported separately:

1. **Profile locations** (``profile_location_strings.csv``, real user texts, not in the
   repository). Rows are split by a fixed hash of the row number: the development half
   may be read while building; the held-out half was labelled by hand before the
   resolver was first run on it. Labels live in ``heldout_labels.csv`` as
   ``row,expected`` with expected one of: a local authority code, ``PFA:<force code>``
   (the text names an area over several authorities but inside one force, e.g.
   "London", "Essex"), ``ABSTAIN`` (not a place, abroad, or a whole country), or
   ``UNSURE`` (excluded: the labeller could not decide).
2. **Gazetteer names**: a fixed 5% sample of OS Open Names towns, villages and suburbs,
   asked alone and with their district or county as a qualifier. These names are in the
   index, so this measures disambiguation, not coverage.

Exits 0 with a message when the shared data directory is absent (the tests do not need
it). ``--show dev`` prints the development half's answers for inspection (never the
held-out half's texts).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from beatdesk.language.locality import Location, locate
from beatdesk.language.locality.index import load_index

DEFAULT_DATA = Path("/work/shared/data/geo")
LABELS = Path(__file__).resolve().parent / "heldout_labels.csv"
SCOTLAND = "SCOTLAND"
NORTHERN_IRELAND = "NORTHERN-IRELAND"


def is_heldout(row: int) -> bool:
    """The fixed split: about half the rows, by a hash of the 1-based data row number."""
    return hashlib.sha256(f"beatdesk-locality-split:{row}".encode()).digest()[0] % 2 == 1


def force_of_code(la_code: str) -> str | None:
    """The force code of a local authority; Scotland and NI count as one force each."""
    if la_code.startswith("S"):
        return SCOTLAND
    if la_code.startswith("N"):
        return NORTHERN_IRELAND
    index = load_index()
    la = index.las[index.la_by_code[la_code]] if la_code in index.la_by_code else None
    return index.forces[la.force][0] if la is not None and la.force >= 0 else None


def predicted_force(location: Location) -> str | None:
    if location.force_code:
        return location.force_code
    if location.local_authority_code:
        return force_of_code(location.local_authority_code)
    return None


@dataclass
class Tally:
    uk_rows: int = 0
    force_right: int = 0
    la_rows: int = 0
    la_right: int = 0
    abstain_rows: int = 0
    abstained: int = 0
    unsure: int = 0

    def add(self, expected: str, location: Location | None) -> None:
        if expected == "UNSURE":
            self.unsure += 1
            return
        if expected == "ABSTAIN":
            self.abstain_rows += 1
            self.abstained += location is None
            return
        self.uk_rows += 1
        if expected.startswith("PFA:"):
            want_force: str | None = expected[4:]
        else:
            want_force = force_of_code(expected)
            self.la_rows += 1
            self.la_right += location is not None and location.local_authority_code == expected
        self.force_right += location is not None and predicted_force(location) == want_force

    def lines(self, title: str) -> list[str]:
        def pct(a: int, b: int) -> str:
            return f"{a}/{b} = {100 * a / b:.1f}%" if b else "n/a"

        return [
            f"## {title}",
            f"force area right (UK places):          {pct(self.force_right, self.uk_rows)}",
            f"local authority right (LA-level places): {pct(self.la_right, self.la_rows)}",
            f"abstained (non-places, abroad, country): {pct(self.abstained, self.abstain_rows)}",
            f"excluded as UNSURE: {self.unsure}",
        ]


def profile_rows(data: Path) -> list[str] | None:
    path = data / "profile_location_strings.csv"
    if not path.is_file():
        return None
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        return [row[0] if row else "" for row in reader]


def evaluate_profiles(rows: list[str]) -> list[str]:
    with LABELS.open(encoding="utf-8", newline="") as handle:
        labels = {int(r["row"]): r["expected"] for r in csv.DictReader(handle)}
    dev_texts = {text for number, text in enumerate(rows, start=1) if not is_heldout(number)}
    by_row, by_text, novel = Tally(), Tally(), Tally()
    seen: set[str] = set()
    errors: Counter[str] = Counter()
    for number, text in enumerate(rows, start=1):
        if not is_heldout(number):
            continue
        expected = labels[number]
        location = locate(text)
        by_row.add(expected, location)
        if text not in seen:
            seen.add(text)
            by_text.add(expected, location)
            if text not in dev_texts:
                novel.add(expected, location)
        errors[_error_kind(expected, location)] += 1
    lines = [f"held-out rows: {len(labels)} ({len(seen)} distinct texts)", ""]
    lines += by_row.lines("Held-out profile locations, every row")
    lines += ["", *by_text.lines("Held-out profile locations, each distinct text once")]
    lines += ["", *novel.lines("Held-out texts that never occur in the development half")]
    lines += ["", "## Outcomes by kind (rows)"]
    lines += [f"{kind}: {count}" for kind, count in sorted(errors.items())]
    return lines


def _error_kind(expected: str, location: Location | None) -> str:
    if expected == "UNSURE":
        return "unsure"
    if expected == "ABSTAIN":
        return "abstained correctly" if location is None else "answered a non-place/abroad"
    if location is None:
        return "missed a UK place"
    want = expected[4:] if expected.startswith("PFA:") else force_of_code(expected)
    if predicted_force(location) != want:
        return "wrong force"
    if not expected.startswith("PFA:") and location.local_authority_code != expected:
        return "right force, wrong authority"
    return "right"


def evaluate_gazetteer(data: Path) -> list[str]:
    path = data / "uk_gazetteer" / "derived" / "os_open_names_populated_places_PARTIAL.csv"
    if not path.is_file():
        return ["gazetteer sample: data absent, skipped"]
    index = load_index()
    scottish = {la.name.casefold(): la.code for la in index.las if la.country == "Scotland"}
    scottish["scottish borders"] = scottish.get("the scottish borders", "")
    alone, qualified = Tally(), Tally()
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["local_type"] not in {"Town", "Village", "Suburban Area"}:
                continue
            if hashlib.sha256(row["os_id"].encode()).digest()[0] % 20 != 0:
                continue
            code = row["lad21cd"] or scottish.get(row["county_unitary"].casefold(), "")
            if not code:
                continue
            qualifier = row["district_borough"] or row["county_unitary"]
            alone.add(code, locate(row["name1"]))
            qualified.add(code, locate(f"{row['name1']}, {qualifier}"))
    return [
        *alone.lines("Gazetteer sample, name alone (in-index names; disambiguation)"),
        "",
        *qualified.lines("Gazetteer sample, 'name, district or county'"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--show", choices=["dev"], help="print the development half's answers")
    args = parser.parse_args(argv)
    rows = profile_rows(args.data)
    if rows is None:
        print(
            f"skipped: {args.data / 'profile_location_strings.csv'} is absent "
            "(the evaluation needs the shared data; the tests do not)"
        )
        return 0
    if args.show == "dev":
        shown: set[str] = set()
        for number, text in enumerate(rows, start=1):
            if is_heldout(number) or text in shown:
                continue
            shown.add(text)
            found = locate(text)
            answer = (
                f"{found.place} | {found.local_authority} | {found.force} | {found.confidence}"
                if found
                else "-"
            )
            print(f"{text!r:50} {answer}")
        return 0
    print("\n".join(evaluate_profiles(rows)))
    print()
    print("\n".join(evaluate_gazetteer(args.data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
