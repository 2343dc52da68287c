"""Tests of the pre-publication screen (own texts only; no shared data needed)."""

from __future__ import annotations

import io
import json

import pytest

from beatdesk.language.screen import (
    Finding,
    ScreenContext,
    Screening,
    screen,
    screening_to_dict,
)
from beatdesk.language.screen.cli import main
from beatdesk.language.screen.names import find_person_names, tokenize


def _kinds(s: Screening, severity: str | None = None) -> set[str]:
    return {f.kind for f in s.findings if severity is None or f.severity == severity}


def _covering(text: str, s: Screening, fragment: str, kind: str) -> Finding:
    start = text.index(fragment)
    end = start + len(fragment)
    for f in s.findings:
        if f.kind == kind and f.start < end and start < f.end:
            return f
    raise AssertionError(f"no {kind} finding over {fragment!r}: {s.findings}")


# --- personal data formats -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Ring Bob on 07700 900456 if you saw it.", "07700 900456"),
        ("Ring +44 7700 900457 about the dog.", "+44 7700 900457"),
        ("Her mobile, 07700-900-458, was on the flyer.", "07700-900-458"),
    ],
)
def test_mobile_numbers_of_private_people_are_red(text: str, fragment: str) -> None:
    s = screen(text)
    assert s.risk == "red"
    f = _covering(text, s, fragment, "personal_data")
    assert f.severity == "red"
    assert "Data Protection Act 2018" in f.explanation
    assert "101" in f.suggestion


def test_public_and_agency_numbers_are_green() -> None:
    text = (
        "Call 101, or 999 in an emergency, or Crimestoppers on 0800 555 111. "
        "Front desk: 01632 960 001."
    )
    s = screen(text, ScreenContext(agency_phone_numbers=("01632 960001",)))
    assert s.risk == "green"
    assert not [f for f in s.findings if f.severity != "info"]
    assert not [f for f in s.findings if any(c.isdigit() for c in text[f.start : f.end])]


def test_reference_numbers_and_dates_are_not_phone_numbers() -> None:
    s = screen("Quote crime reference 06/123456/24 or log 0456 of 12/03/2024.")
    assert not [f for f in s.findings if f.kind == "personal_data" and f.severity != "info"]


@pytest.mark.parametrize("fragment", ["WA4 1DG", "SW1A 2AA", "G2 3AB", "BT7 1NN", "CF10 1EP"])
def test_full_postcodes_are_amber(fragment: str) -> None:
    text = f"A shed was broken into near {fragment} last night."
    f = _covering(text, screen(text), fragment, "personal_data")
    assert f.severity == "amber"
    assert (f.start, f.end) == (text.index(fragment), text.index(fragment) + len(fragment))


def test_outward_code_alone_is_not_a_postcode() -> None:
    assert screen("Burglaries are down across the M14 area this month.").risk == "green"


@pytest.mark.parametrize("fragment", ["YT22 HBV", "PL65BXW", "R492 KLM", "FKE 55W", "reg: 7423 JK"])
def test_vehicle_registrations_current_and_older_formats(fragment: str) -> None:
    text = f"Officers are looking for a grey estate, {fragment}, seen near the shops."
    s = screen(text)
    plate = fragment.removeprefix("reg: ")
    f = _covering(text, s, plate, "personal_data")
    assert f.severity == "amber"


@pytest.mark.parametrize("fragment", ["PX 40 21 97 D", "TB901234A"])
def test_national_insurance_numbers_are_red(fragment: str) -> None:
    text = f"The form listed NI number {fragment} and nothing else."
    s = screen(text)
    assert _covering(text, s, fragment, "personal_data").severity == "red"
    assert s.risk == "red"


def test_emails_and_dates_of_birth() -> None:
    text = "Send clips to pat.kerr77@yahoo.co.uk. The man, DOB 09/11/1984, is described as tall."
    s = screen(text)
    assert _covering(text, s, "pat.kerr77@yahoo.co.uk", "personal_data").severity == "amber"
    assert _covering(text, s, "09/11/1984", "personal_data").severity == "amber"


def test_force_email_is_fine() -> None:
    s = screen("Email the team at roads.policing@example.police.uk with footage.")
    assert "personal_data" not in _kinds(s)


def test_home_address_is_red() -> None:
    text = "The woman lives at 41 Bramble Close, Leigh, and is terrified."
    assert _covering(text, screen(text), "41 Bramble Close", "personal_data").severity == "red"


# --- names -----------------------------------------------------------------------------


def test_name_findings_cover_the_name_not_the_sentence() -> None:
    text = "Could you help us find Priya Raman, who has not been seen since Sunday?"
    spans = [text[n.start : n.end] for n in find_person_names(text) if not n.is_handle]
    assert "Priya Raman" in spans
    assert all(len(s.split()) <= 3 for s in spans)


def test_officer_titles_strip_and_do_not_flag() -> None:
    text = "PC Gareth Lloyd and Sgt Megan Price will host a street surgery on Friday."
    s = screen(text)
    assert s.risk != "red"
    names = [text[n.start : n.end] for n in find_person_names(text)]
    assert "Gareth Lloyd" in names
    assert "Megan Price" in names


def test_reply_greetings_are_not_private_names() -> None:
    s = screen("@Dan_Whitby Hi Daniel, thanks for letting us know. Please report it online.")
    assert s.risk == "green"


def test_wanted_person_is_not_red() -> None:
    s = screen("WANTED | Have you seen Callum Rees, 31? He is wanted for robbery. Call 101.")
    assert s.risk != "red"


# --- victims, children, contempt --------------------------------------------------------


def test_named_sexual_offence_victim_is_red_with_age_suggestion() -> None:
    text = (
        "Olivia Grant, 27, who was raped near the canal, has thanked the public for their support."
    )
    s = screen(text)
    f = _covering(text, s, "Olivia Grant", "victim_identification")
    assert f.severity == "red"
    assert "Sexual Offences (Amendment) Act 1992" in f.explanation
    assert "20s" in f.suggestion


def test_defendant_in_sexual_offence_case_is_not_a_victim() -> None:
    s = screen(
        "Martin Cole, 52, of Wrexham, has been charged with rape and will appear at court "
        "on Monday."
    )
    assert "victim_identification" not in _kinds(s)
    assert s.risk != "red"


def test_child_named_in_criminal_matter_is_red() -> None:
    text = "Ellie Shaw, 15, has been arrested on suspicion of assault in Crewe."
    f = _covering(text, screen(text), "Ellie Shaw", "child_identification")
    assert f.severity == "red"
    assert "s.49" in f.explanation


def test_school_of_a_child_suspect_is_red() -> None:
    text = "A 14-year-old boy arrested over the robbery goes to Millbrook Academy in Stockport."
    f = _covering(text, screen(text), "Millbrook Academy", "child_identification")
    assert f.severity == "red"


def test_child_charged_with_murder_is_red_but_child_who_died_is_not() -> None:
    text = "A 15-year-old boy, Kai Brennan, has been charged with the murder of a man in Hull."
    assert _covering(text, screen(text), "Kai Brennan", "child_identification").severity == "red"
    died = "Detectives investigating the death of 16-year-old Kai Brennan have arrested a man."
    assert "child_identification" not in _kinds(screen(died))


def test_senior_officer_in_sexual_offence_appeal_is_not_a_victim() -> None:
    s = screen("Superintendent Helen Ward is appealing for information after a woman was raped.")
    assert "victim_identification" not in _kinds(s)


def test_missing_child_appeal_is_not_red() -> None:
    assert (
        screen("MISSING | Have you seen Ruby, 13? She was last seen in Rhyl on Tuesday.").risk
        != "red"
    )


def test_contempt_after_charge() -> None:
    text = (
        "Dean Holt, 38, has been charged with burglary. "
        "He has previous convictions and is a menace."
    )
    s = screen(text)
    f = _covering(text, s, "previous convictions", "contempt")
    assert f.severity == "red"
    assert "Contempt of Court Act 1981" in f.explanation


def test_no_contempt_after_sentence() -> None:
    s = screen(
        "Dean Holt, 38, was jailed for six years today. He has previous convictions for burglary."
    )
    assert "contempt" not in _kinds(s)


def test_contempt_uses_charged_names_from_context() -> None:
    text = "Aaron Webb is obviously guilty of this."
    s = screen(text, ScreenContext(charged_names=("Aaron Webb",)))
    assert _covering(text, s, "obviously guilty", "contempt").severity == "red"


# --- operational, tone, accuracy, links -------------------------------------------------


def test_future_operation_with_time_is_red_and_past_is_green() -> None:
    text = "We'll be executing drugs warrants in Moss Side at 5am on Thursday."
    assert _covering(text, screen(text), "warrants", "operational_detail").severity == "red"
    assert (
        screen("We executed a drugs warrant in Moss Side this morning and seized heroin.").risk
        == "green"
    )


def test_staffing_gap_and_broken_security_are_amber() -> None:
    s1 = screen("Only one officer on duty tonight for the whole valley.")
    s2 = screen("The security lights at the car park are not working at the moment.")
    assert "operational_detail" in _kinds(s1, "amber")
    assert "operational_detail" in _kinds(s2, "amber")


def test_officers_private_details_are_red() -> None:
    text = "Our PCSO Jo Reid lives in Hebden Bridge and her personal mobile is on her profile."
    assert "operational_detail" in _kinds(screen(text), "red")


def test_tone_insult_profanity_and_party_politics() -> None:
    assert "tone" in _kinds(screen("Another numpty parked on the zig-zags. Brilliant."), "amber")
    assert "tone" in _kinds(screen("What a load of crap driving."), "amber")
    assert "tone" in _kinds(screen("Vote Reform UK on Thursday for safer streets."), "red")
    # the word "labour" in its everyday sense is not politics
    assert "tone" not in _kinds(
        screen("Two men were arrested on suspicion of forced labour offences.")
    )


def test_accuracy_against_confirmed_facts() -> None:
    ctx = ScreenContext(incident_active=True, confirmed_facts={"arrests": 4, "injured": 1})
    text = "Nine people were arrested after the disorder; one person was injured."
    s = screen(text, ctx)
    f = _covering(text, s, "Nine people were arrested", "accuracy")
    assert "4" in f.explanation
    assert not [
        g for g in s.findings if g.kind == "accuracy" and "one person" in text[g.start : g.end]
    ]


def test_accuracy_accepts_fact_sentences() -> None:
    ctx = ScreenContext(incident_active=True, confirmed_facts=["Two people have died", "3 arrests"])
    assert "accuracy" in _kinds(screen("Four people have died in the crash.", ctx))
    assert "accuracy" not in _kinds(screen("Two people have died in the crash.", ctx))


def test_links_outside_allowed_domains() -> None:
    ctx = ScreenContext(allowed_domains=("cheshire.police.uk",))
    text = "Details: https://www.cheshire.police.uk/news/1 and https://tinyurl.com/x1y2"
    s = screen(text, ctx)
    links = [text[f.start : f.end] for f in s.findings if f.kind == "link"]
    assert links == ["https://tinyurl.com/x1y2"]


# --- contract ---------------------------------------------------------------------------


def test_ordinary_posts_are_green() -> None:
    for text in [
        "Thanks to everyone who came to our open day in Kendal. See you next year!",
        "Road closed: the A590 is shut both ways after a collision. Please avoid the area.",
        "Lock it or lose it: most bike thefts are from unlocked sheds.",
    ]:
        assert screen(text).risk == "green", text


@pytest.mark.parametrize("text", ["", " ", "\n\n", "@", "😀" * 50, "ǅ" * 10, "0" * 400, "x" * 5000])
def test_never_raises_and_offsets_are_in_range(text: str) -> None:
    s = screen(text)
    assert s.risk in {"green", "amber", "red"}
    for f in s.findings:
        assert 0 <= f.start < f.end <= len(text)


def test_screening_to_dict_is_json_ready() -> None:
    s = screen("Call Jo on 07700 900999.")
    d = screening_to_dict(s)
    assert d["risk"] == "red"
    assert json.loads(json.dumps(d)) == d
    assert set(d["findings"][0]) == {
        "kind",
        "start",
        "end",
        "severity",
        "explanation",
        "suggestion",
    }


def test_tokenize_offsets_round_trip() -> None:
    text = "Hi @Someone! Meet O'Neill's dog at https://x.example/a?b=1"
    for tok, start, end in tokenize(text):
        assert text[start:end] == tok


# --- command line -----------------------------------------------------------------------


def _run(lines: list[str]) -> tuple[int, list[dict[str, object]], str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([], stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out, stderr=err)
    return code, [json.loads(x) for x in out.getvalue().splitlines()], err.getvalue()


def test_cli_screens_lines_in_order() -> None:
    code, rows, err = _run(
        [
            json.dumps({"id": "a", "text": "Call Sam on 07700 900111"}),
            json.dumps({"id": 2, "text": "Have a safe weekend."}),
        ]
    )
    assert code == 0
    assert err == ""
    assert [r["id"] for r in rows] == ["a", 2]
    assert rows[0]["risk"] == "red"
    assert rows[1] == {"id": 2, "risk": "green", "findings": []}


def test_cli_uses_context() -> None:
    line = json.dumps(
        {
            "id": 1,
            "text": "See https://bit.ly/abc",
            "context": {"allowed_domains": ["met.police.uk"]},
        }
    )
    code, rows, _ = _run([line])
    assert code == 0
    assert rows[0]["findings"][0]["kind"] == "link"  # type: ignore[index]


def test_cli_bad_lines_are_reported_and_skipped() -> None:
    code, rows, err = _run(
        [
            "not json",
            json.dumps({"id": 1, "text": "fine"}),
            json.dumps({"id": 2, "text": "x", "context": "nope"}),
            json.dumps({"id": 3, "text": "x", "context": {"incident_active": "yes"}}),
            json.dumps({"text": "no id"}),
        ]
    )
    assert code == 2
    assert [r["id"] for r in rows] == [1]
    for n in (1, 3, 4, 5):
        assert f"line {n}:" in err


def test_cli_reads_file(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "in.jsonl"
    path.write_text(json.dumps({"id": 9, "text": "Hello"}) + "\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert main(["--in", str(path)], stdout=out, stderr=err) == 0
    assert json.loads(out.getvalue())["id"] == 9
    assert main(["--in", str(path) + ".missing"], stdout=out, stderr=err) == 1
