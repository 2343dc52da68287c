"""Triage of inbound public messages: ten independent label scores, a category, a priority.

Public API: ``triage(texts) -> list[Triage]`` (pure Python + numpy, no Django).

Scores
    Each of ``LABELS`` gets an independent score in [0, 1] from its own logistic model over
    hashed word and character n-grams (``features.py``) plus the mean of static word-piece
    vectors distilled from all-MiniLM-L6-v2 (``embeddings.py``; the emergency model may
    leave them out, decided out of fold in training), trained offline by
    ``training/train.py``. Each model's decision threshold is folded into its bias, so
    **a score of 0.5 or more means "this label applies"**. Hand-written police lexicons
    (``rules.py``) lift a label's score to at least 0.8 when they fire (0.95 for a threat
    to life), because public training data holds few messages addressed to the police.

Category
    ``"emergency"`` if a threat-to-life rule fired; otherwise the highest-scoring label
    among those scoring 0.5 or more; ``"other"`` (chit-chat) when none does.

Priority (response targets by default: P1 5 min, P2 30 min, P3 4 h, P4 24 h)
    P1  threat to life, crime in progress, self-harm risk, threat to kill: a threat-to-life
        rule fired, or the emergency score is at least ``p1_threshold`` (from the artefact:
        the level that, out of fold in training, fewer than about 0.3% of everyday
        messages and 3% of Low-priority crisis tweets reach).
    P2  likely urgent: emergency score 0.5 or more (set so that 15% of the Low-priority
        crisis tweets of the median training event reach it out of fold); someone says
        they saw a weapon; a vulnerable person has gone; missing-person information
        (sightings are perishable).
    P3  needs a person: crime report, intelligence, complaint, question or rumour scores
        0.5 or more, unless praise is the category (thanks that happen to end in a question
        mark are not work).
    P4  everything else: spam, abuse without a threat, praise, chit-chat. A message whose
        category is spam stays P4 unless a threat-to-life rule fired.
    ``signals`` lists the reasons that decided the priority, strongest first.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from beatdesk.language.triage.embeddings import dimensions as embedding_dimensions
from beatdesk.language.triage.embeddings import embed
from beatdesk.language.triage.features import DIMENSIONS, featurise
from beatdesk.language.triage.rules import LIFE_SCORE, RULE_SCORE, match_rules

__all__ = ["CATEGORIES", "LABELS", "PRIORITIES", "Triage", "triage"]

LABELS: tuple[str, ...] = (
    "emergency",
    "crime_report",
    "intelligence",
    "missing_person",
    "complaint",
    "question",
    "praise",
    "abuse",
    "rumour",
    "spam",
)
CATEGORIES: tuple[str, ...] = (*LABELS, "other")
PRIORITIES: tuple[str, ...] = ("P1", "P2", "P3", "P4")

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
_P3_LABELS = ("crime_report", "intelligence", "complaint", "question", "rumour")


@dataclass(frozen=True)
class Triage:
    """The triage of one message.

    ``scores`` has exactly the keys of ``LABELS``; ``category`` is one of ``CATEGORIES``;
    ``priority`` is one of ``PRIORITIES``; ``signals`` explains the priority.
    """

    category: str
    priority: str
    scores: dict[str, float]
    signals: tuple[str, ...]


@dataclass(frozen=True)
class _Model:
    weights: npt.NDArray[np.float32]  # (DIMENSIONS, len(LABELS))
    embedding_weights: npt.NDArray[np.float32]  # (embedding dimensions, len(LABELS))
    bias: npt.NDArray[np.float32]  # (len(LABELS),)
    p1_threshold: float


@cache
def _model() -> _Model:
    """Load the artefacts once per process (the first ``triage`` call pays for it)."""
    meta = json.loads((ARTEFACTS / "meta.json").read_text(encoding="utf-8"))
    if (
        tuple(meta["labels"]) != LABELS
        or meta["dimensions"] != DIMENSIONS
        or meta["embedding_dimensions"] != embedding_dimensions()
    ):
        raise RuntimeError("triage artefacts do not match this code; rerun training/train.py")
    with np.load(ARTEFACTS / "weights.npz") as data:
        weights = data["weights"].astype(np.float32)
        embedding_weights = data["embedding_weights"].astype(np.float32)
        bias = data["bias"].astype(np.float32)
    return _Model(
        weights=weights,
        embedding_weights=embedding_weights,
        bias=bias,
        p1_threshold=float(meta["p1_threshold"]),
    )


def _model_scores(texts: Sequence[str]) -> npt.NDArray[np.float64]:
    """Model probabilities, shape ``(len(texts), len(LABELS))``."""
    model = _model()
    indices, values, offsets = featurise(texts)
    logits = (embed(texts) @ model.embedding_weights).astype(np.float64) + model.bias
    if len(indices):
        contributions = model.weights[indices] * values[:, None]
        # reduceat needs non-empty segments: sum over the rows that have features only.
        lengths = np.diff(offsets)
        nonempty = lengths > 0
        sums = np.add.reduceat(contributions, offsets[:-1][nonempty], axis=0)
        logits[nonempty] += sums
    return 1.0 / (1.0 + np.exp(-logits))


def _decide(text: str, probabilities: npt.NDArray[np.float64], p1_threshold: float) -> Triage:
    scores = {label: float(p) for label, p in zip(LABELS, probabilities, strict=True)}
    fired = match_rules(text)
    life = [r.signal for r in fired if r.strength == "life"]
    urgent = [r.signal for r in fired if r.strength == "urgent"]
    label_rules: dict[str, list[str]] = {}
    for rule in fired:
        floor = LIFE_SCORE if rule.strength == "life" else RULE_SCORE
        if rule.strength != "urgent" or rule.label != "emergency":
            scores[rule.label] = max(scores[rule.label], floor)
            label_rules.setdefault(rule.label, []).append(rule.signal)
    scores = {label: round(score, 4) for label, score in scores.items()}

    passing = [label for label in LABELS if scores[label] >= 0.5]
    if life:
        category = "emergency"
    elif passing:
        category = max(passing, key=lambda label: scores[label])
    else:
        category = "other"

    def described(label: str) -> list[str]:
        return [f"{label.replace('_', ' ')} score {scores[label]:.2f}", *label_rules.get(label, [])]

    emergency = scores["emergency"]
    if life:
        return Triage(category, "P1", scores, (*life, f"emergency score {emergency:.2f}"))
    if category == "spam":
        return Triage(category, "P4", scores, tuple(described("spam")))
    if emergency >= p1_threshold:
        return Triage(category, "P1", scores, tuple(described("emergency")))
    p2: list[str] = []
    if emergency >= 0.5:
        p2.extend(described("emergency"))
    p2.extend(urgent)
    if scores["missing_person"] >= 0.5:
        p2.extend(described("missing_person"))
    if p2:
        return Triage(category, "P2", scores, tuple(dict.fromkeys(p2)))
    p3 = [s for label in _P3_LABELS if scores[label] >= 0.5 for s in described(label)]
    if p3 and category != "praise":
        return Triage(category, "P3", scores, tuple(p3))
    if category == "other":
        return Triage(category, "P4", scores, ("no label scored 0.5 or more",))
    return Triage(category, "P4", scores, tuple(described(category)))


def triage(texts: Sequence[str]) -> list[Triage]:
    """Triage each text; the result has one ``Triage`` per text, in order.

    Loads the trained artefacts on first use. Empty or whitespace-only texts are allowed
    (they come out as ``other``/P4 unless the model says otherwise).
    """
    if isinstance(texts, str):
        raise TypeError("triage() takes a sequence of texts, not one string")
    if not texts:
        return []
    model = _model()
    probabilities = _model_scores(texts)
    return [
        _decide(text, row, model.p1_threshold)
        for text, row in zip(texts, probabilities, strict=True)
    ]


def logit(p: float) -> float:
    """Inverse of the logistic function (used by training to fold thresholds into biases)."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
