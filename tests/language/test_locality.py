"""Tests for ``beatdesk.language.locality``: they use the committed index only."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from beatdesk.language.locality import Gazetteer, Location, locate, locate_many
from beatdesk.language.locality.cli import main
from beatdesk.language.locality.normalise import fold, split_parts


def resolved(text: str, extra: Gazetteer | None = None) -> Location:
    location = locate(text, extra)
    assert location is not None, f"{text!r} did not resolve"
    return location


def test_salford_uk_is_salford_in_greater_manchester() -> None:
    location = resolved("Salford, UK")
    assert location.place == "Salford"
    assert location.local_authority == "Salford"
    assert location.local_authority_code == "E08000006"
    assert location.force == "Greater Manchester"
    assert location.force_code == "E23000005"
    assert location.country == "England"
    assert 0.8 <= location.confidence <= 1.0
    assert location.matched == "Salford"
    assert 53.3 < location.lat < 53.6 and -2.5 < location.lon < -2.1


@pytest.mark.parametrize(
    ("text", "local_authority", "force"),
    [
        ("Manc", "Manchester", "Greater Manchester"),
        ("Wythenshawe", "Manchester", "Greater Manchester"),
        ("M14", "Manchester", "Greater Manchester"),
        ("m14 5ab", "Manchester", "Greater Manchester"),
        ("Sale, Cheshire", "Trafford", "Greater Manchester"),
        ("Swinton, Salford", "Salford", "Greater Manchester"),
        ("Swinton, Rotherham", "Rotherham", "South Yorkshire"),
        ("Leeds/Bradford", "Leeds", "West Yorkshire"),
        ("Manchester 🐝", "Manchester", "Greater Manchester"),
        ("Newport, Gwent", "Newport", "Gwent"),
        ("Bury, Gtr Manchester", "Bury", "Greater Manchester"),
        ("Carshalton, Surrey", "Sutton", "Metropolitan Police"),
        ("#Hull", "Kingston upon Hull, City of", "Humberside"),
        ("the Steel City", "Sheffield", "South Yorkshire"),
        ("London / Abu Dhabi", None, "Metropolitan Police"),
    ],
)
def test_resolves_places_to_authority_and_force(
    text: str, local_authority: str | None, force: str
) -> None:
    location = resolved(text)
    assert location.local_authority == local_authority
    assert location.force == force


@pytest.mark.parametrize(
    "text",
    [
        "Manchester, NH",
        "Manchester NH",
        "Perth, WA",
        "Portland, OR",
        "somewhere over the rainbow",
        "UK",
        "United Kingdom",
        "England",
        "Wales, Great Britain",
        "Yorkshire",
        "Toronto",
        "Chicago, Illinois",
        "@somebody",
        "",
        "   ",
        "23/03/13",
    ],
)
def test_abstains_on_abroad_non_places_and_whole_countries(text: str) -> None:
    assert locate(text) is None


def test_london_is_the_metropolitan_police_area_without_one_authority() -> None:
    location = resolved("London, GB")
    assert location.force == "Metropolitan Police"
    assert location.local_authority is None
    assert resolved("Hackney, Greater London").local_authority == "Hackney"


def test_county_answers_the_force_but_no_authority() -> None:
    location = resolved("Essex")
    assert location.force == "Essex"
    assert location.local_authority is None
    assert location.confidence < resolved("Chelmsford").confidence


def test_scotland_resolves_council_with_no_force() -> None:
    location = resolved("Glasgow, Scotland, GB")
    assert location.local_authority == "Glasgow City"
    assert location.force is None
    assert location.country == "Scotland"


def test_qualifier_beats_population() -> None:
    # Without a qualifier the biggest Newport wins; "Pembrokeshire" picks the small one.
    assert resolved("Newport").local_authority == "Newport"
    assert resolved("Newport (Pembrokeshire)").local_authority == "Pembrokeshire"


def test_agency_gazetteer_extends_and_takes_precedence() -> None:
    assert locate("Beacon Estate") is None
    gazetteer = Gazetteer()
    gazetteer.add(
        "Beacon Estate", 53.49, -2.31, "Salford", "Greater Manchester", aliases=["the Beacon"]
    )
    location = resolved("Beacon Estate, Salford", gazetteer)
    assert location.place == "Beacon Estate"
    assert location.local_authority == "Salford"
    assert location.local_authority_code == "E08000006"  # filled from the index
    assert location.force_code == "E23000005"
    assert resolved("living on the beacon", gazetteer).place == "Beacon Estate"
    # An agency name shadows a same-named place elsewhere.
    gazetteer.add("Ordsall", 53.47, -2.28, "Salford", "Greater Manchester")
    assert resolved("Ordsall", gazetteer).lat == 53.47
    assert len(gazetteer) == 2


def test_gazetteer_rejects_bad_entries() -> None:
    gazetteer = Gazetteer()
    with pytest.raises(ValueError):
        gazetteer.add("!!", 53.0, -2.0, None, None)
    with pytest.raises(ValueError):
        gazetteer.add("Somewhere", 123.0, -2.0, None, None)


def test_locate_many_keeps_order_and_length() -> None:
    results = locate_many(["Salford", "nowhere at all", "Salford", "M14"])
    assert [r.local_authority if r else None for r in results] == [
        "Salford",
        None,
        "Salford",
        "Manchester",
    ]


def test_fold_and_split() -> None:
    assert fold("St. Helen's") == fold("st helens") == "st helens"
    assert fold("Stoke-on-Trent") == "stoke on trent"
    assert split_parts("Salford, UK") == [(False, ["salford"]), (True, ["uk"])]
    assert split_parts("Bath & Bristol")[0][1] == ["bath and bristol", "bath", "bristol"]


def run_cli(text: str, argv: list[str] | None = None) -> tuple[int, list[dict[str, object]], str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    status = main(argv or [], stdin=io.StringIO(text), stdout=stdout, stderr=stderr)
    rows = [json.loads(line) for line in stdout.getvalue().splitlines()]
    return status, rows, stderr.getvalue()


def test_cli_writes_one_object_per_line_with_nulls_when_unresolved() -> None:
    status, rows, errors = run_cli(
        '{"id": 1, "text": "Salford, UK"}\n{"id": "b", "text": "Manchester, NH"}\n'
    )
    assert status == 0 and errors == ""
    assert rows[0]["id"] == 1
    assert rows[0]["place"] == "Salford"
    assert rows[0]["force"] == "Greater Manchester"
    assert rows[0]["local_authority"] == "Salford"
    assert set(rows[0]) == {"id", "place", "lat", "lon", "force", "local_authority", "confidence"}
    assert rows[1] == {
        "id": "b",
        "place": None,
        "lat": None,
        "lon": None,
        "force": None,
        "local_authority": None,
        "confidence": None,
    }


def test_cli_reports_bad_lines_with_numbers_and_exits_2() -> None:
    status, rows, errors = run_cli(
        '{"id": 1, "text": "M14"}\nnot json\n\n{"id": 2}\n{"id": 3, "text": "Leeds"}\n'
    )
    assert status == 2
    assert [r["id"] for r in rows] == [1, 3]
    assert "line 2:" in errors and "line 4:" in errors


def test_cli_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": 7, "text": "Wythenshawe"}\n', encoding="utf-8")
    status, rows, _ = run_cli("", ["--in", str(path)])
    assert status == 0 and rows[0]["local_authority"] == "Manchester"
    status, _, errors = run_cli("", ["--in", str(path) + ".missing"])
    assert status == 2 and "cannot read" in errors
