"""Behaviour of ``beatdesk.language.triage``: API contract, police rules, priorities, CLI.

Uses only texts written for these tests; needs the shipped artefacts, not ../shared/data.
"""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pytest

from beatdesk.language.triage import CATEGORIES, LABELS, PRIORITIES, Triage, triage
from beatdesk.language.triage.cli import main
from beatdesk.language.triage.embeddings import dimensions, embed, piece_ids
from beatdesk.language.triage.features import DIMENSIONS, featurise, normalise
from beatdesk.language.triage.rules import match_rules


def one(text: str) -> Triage:
    return triage([text])[0]


def test_contract_scores_category_priority() -> None:
    results = triage(["Thanks for your help today", "", "   "])
    assert len(results) == 3
    for result in results:
        assert set(result.scores) == set(LABELS)
        assert all(0.0 <= s <= 1.0 for s in result.scores.values())
        assert result.category in CATEGORIES
        assert result.priority in PRIORITIES
        assert result.signals
    with pytest.raises(dataclasses.FrozenInstanceError):
        results[0].priority = "P1"  # type: ignore[misc]


def test_empty_input_and_single_string_rejected() -> None:
    assert triage([]) == []
    with pytest.raises(TypeError):
        triage("a single string is not a batch")


def test_order_and_batch_independence() -> None:
    texts = [
        "I'm going to kill myself tonight",
        "lovely weather in the park",
        "free prize txt WIN now",
    ]
    batch = triage(texts)
    assert [r.priority for r in batch] == [one(t).priority for t in texts]
    assert batch[0].scores == one(texts[0]).scores


@pytest.mark.parametrize(
    "text",
    [
        "There's a bloke outside the chip shop on Mill Road waving a knife about, come quick",
        "my partner says he's going to kill me when he gets home, I'm scared",
        "I can't cope anymore and I'm going to end it all tonight",
        "someone is breaking into my flat right now and I'm hiding in the bathroom",
        "lad has just been stabbed outside the Wetherspoons, he's bleeding badly",
        "I've had enough, I'm going to take all my tablets when everyone's asleep",
        "my ex keeps turning up at my house and says he'll kill me if I call you",
        "there's a man with a knife shouting outside the Co-op on Station Road right now",
        "she said she\u2019d stab him if he came back",
    ],
)
def test_threats_to_life_are_p1_emergencies(text: str) -> None:
    result = one(text)
    assert result.priority == "P1"
    assert result.category == "emergency"
    assert result.scores["emergency"] >= 0.9
    assert any("score" not in s for s in result.signals)  # a named reason, not just a number


def test_vulnerable_missing_person_is_p2_missing_person() -> None:
    result = one("My nan has dementia and wandered off from the care home an hour ago")
    assert result.priority == "P2"
    assert result.category == "missing_person"
    assert "vulnerable person gone" in result.signals


def test_news_about_a_suicide_bomber_is_not_self_harm() -> None:
    fired = {rule.signal for rule in match_rules("Reports say a suicide bomber hit the stadium")}
    assert "self-harm or suicide risk" not in fired


@pytest.mark.parametrize(
    "text",
    [
        "WINNER!! You have been selected for a £900 prize. Call 09061701461 to claim, T&Cs apply",
        "Click here to claim your free iPhone, limited offer, text STOP to opt out",
    ],
)
def test_spam_is_p4(text: str) -> None:
    result = one(text)
    assert result.category == "spam"
    assert result.priority == "P4"


def test_everyday_messages_are_not_urgent() -> None:
    texts = [
        "Thank you to the officers who came to the school today, the kids loved it",
        "Happy new year everyone!",
        "What time does the station front desk open on Sunday?",
    ]
    assert all(r.priority in {"P3", "P4"} for r in triage(texts))


def test_police_specific_labels() -> None:
    assert (
        one("I saw the missing girl from your appeal at the bus station ten minutes ago").priority
        == "P2"
    )
    assert (
        one("There's drug dealing from the flat above the bookies every night").scores[
            "intelligence"
        ]
        >= 0.5
    )
    assert (
        one("I want to report that my bike was stolen from the station yesterday").scores[
            "crime_report"
        ]
        >= 0.5
    )
    praise = one("Huge thanks to the officers who found my dad, brilliant work, so grateful")
    assert praise.category == "praise"
    assert praise.priority == "P4"


def test_features_are_stable_and_in_range() -> None:
    indices, values, offsets = featurise(["Hello @MetPoliceUK see https://x.y/z 999", ""])
    assert offsets.tolist()[0] == 0 and offsets[-1] == len(indices)
    assert offsets[2] == offsets[1]  # the empty text has no features
    assert indices.min() >= 0 and indices.max() < DIMENSIONS
    assert (values > 0).all()
    assert (
        normalise("Hello @MetPoliceUK see https://x.y/z 999") == "hello @user see url 000"
    )  # runs of 3+ collapse to 2
    again, _, _ = featurise(["Hello @MetPoliceUK see https://x.y/z 999", ""])
    assert again.tolist() == indices.tolist()  # CRC-32, not the salted hash()


def test_embeddings_are_unit_mean_word_piece_vectors() -> None:
    vectors = embed(["Someone nicked my bike", "", "@MetPoliceUK https://x.y/z", "bike"])
    assert vectors.shape == (4, dimensions())
    assert vectors.dtype.name == "float32"
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-4
    assert not vectors[1].any() and not vectors[2].any()  # nothing known: all zeros
    assert float(vectors[0] @ vectors[3]) > 0.3  # shares "bike"
    assert embed([]).shape == (0, dimensions())


def test_word_pieces_follow_the_vocabulary() -> None:
    # Known words are one piece; an unseen spelling splits into ##-continuations;
    # URLs and handles contribute nothing; accents are stripped.
    assert len(piece_ids("police")) == 1
    assert len(piece_ids("policezzq")) > 1
    assert piece_ids("café") == piece_ids("cafe")
    assert piece_ids("see @MetPoliceUK https://t.co/abc") == piece_ids("see")
    assert piece_ids("HELLO there!") == piece_ids("hello there !")


def run_cli(
    stdin_text: str, argv: list[str] | None = None
) -> tuple[int, list[dict[str, object]], str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(argv or [], stdin=io.StringIO(stdin_text), stdout=out, stderr=err)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return status, lines, err.getvalue()


def test_cli_writes_one_object_per_input_in_order() -> None:
    stdin = "\n".join(
        json.dumps({"id": i, "text": t})
        for i, t in [
            ("a", "Thanks so much, great work"),
            (2, "he has got a gun, help"),
            ("c", "hi"),
        ]
    )
    status, lines, err = run_cli(stdin + "\n")
    assert status == 0 and err == ""
    assert [line["id"] for line in lines] == ["a", 2, "c"]
    assert list(lines[1]) == ["id", "category", "priority", "scores"]
    assert lines[1]["priority"] == "P1"
    scores = lines[0]["scores"]
    assert isinstance(scores, dict) and set(scores) == set(LABELS)


def test_cli_reports_bad_lines_and_exits_2() -> None:
    stdin = "\n".join(
        [
            json.dumps({"id": 1, "text": "first"}),
            "{not json",
            json.dumps({"id": 3}),
            "",
            json.dumps({"id": 5, "text": "last"}),
        ]
    )
    status, lines, err = run_cli(stdin)
    assert status == 2
    assert [line["id"] for line in lines] == [1, 5]
    assert "line 2:" in err and "line 3:" in err
    assert "line 4" not in err  # blank lines are ignored, not errors


def test_cli_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": "x", "text": "My car was broken into last night"}) + "\n")
    out, err = io.StringIO(), io.StringIO()
    assert main(["--in", str(path)], stdout=out, stderr=err) == 0
    assert json.loads(out.getvalue())["id"] == "x"
    assert main(["--in", str(tmp_path / "missing.jsonl")], stdout=out, stderr=err) == 2
    assert "cannot read" in err.getvalue()
