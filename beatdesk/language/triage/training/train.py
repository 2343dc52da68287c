"""Rebuild the triage artefacts from ../shared/data/triage and evaluate them on held-out data.

Usage (from the repository root, in a virtualenv with scikit-learn, scipy and numpy)::

    /tmp/triage-train/bin/python beatdesk/language/triage/training/train.py \
        [--data /work/shared/data/triage] [--no-docs]

Features are the hashed n-grams of ``features.py`` plus the mean word-piece embedding of
``embeddings.py``; the embedding vectors (``artefacts/embeddings.npz``) are read as
shipped, built once by ``training/distil.py`` in a separate torch virtualenv. The
emergency model may drop the embedding block (``choose_emergency``, training events only).

Deterministic: splits are by event or by a CRC-32 of the text (never random), and the
liblinear solver is seeded. Writes ``artefacts/weights.npz`` and ``artefacts/meta.json``,
``artefacts/evaluation.json``, and the figures block of ``docs/quality/triage.md``.

Held out, never trained on (the shipped artefact is the one trained without them, so the
figures describe exactly what ships):
- TREC-IS: whole events in ``HELD_TREC_EVENTS``; PHEME: whole events in ``HELD_PHEME_EVENTS``;
- CrisisLex T26: all 26 crises (used for evaluation only);
- OLID, SMS spam, airline, complaints: the rows whose text CRC-32 mod 5 is 0 (about 20%;
  identical texts always fall on the same side);
- police cases authored by the team: every fourth case.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped,import-not-found,unused-ignore]
from sklearn.linear_model import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
    LogisticRegression,
)

REPO = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO))

from beatdesk.language import triage as runtime  # noqa: E402
from beatdesk.language.triage.embeddings import (  # noqa: E402
    dimensions as embedding_dimensions,
)
from beatdesk.language.triage.embeddings import embed  # noqa: E402
from beatdesk.language.triage.features import DIMENSIONS, featurise  # noqa: E402

HERE = Path(__file__).resolve().parent
LABELS = runtime.LABELS
HELD_TREC_EVENTS = frozenset(
    {
        "parisAttacks2015",
        "coloradoStemShooting2019",
        "queenslandFloods2013",
        "manilaFloods2013",
        "joplinTornado2011",
        "westTexasExplosion2013",
    }
)
HELD_PHEME_EVENTS = frozenset({"sydneysiege", "putinmissing"})
POLICE_WEIGHT = 5.0
# Emergency P2 cut-off: the score that P2_LOW_SHARE of the Low tweets of the *median*
# training event reach out of fold (each TREC-IS event's scores come from the fold model
# that did not see it; events with fewer than MIN_EVENT_LOW Low tweets are not counted).
# Pooled out-of-fold quantiles are dominated by the few largest events; the median event
# is the rule the brief of this change asked for, fixed before any figure was seen.
P2_LOW_SHARE = 0.15
MIN_EVENT_LOW = 50
CROSS_CAP = 1500  # rows sampled from each other source as negatives for a label
C = 4.0
FOLDS = 4
# The mean word-piece embedding (unit length) enters the design matrix multiplied by this,
# so that its 256 dense columns are not regularised away next to the n-gram families; the
# factor is folded into the shipped embedding weights. 3 beat 1 on the training folds.
EMB_SCALE = 3.0
# (C, NB scaling) tried out of fold per label; labels not listed use (C, no NB).
# (16, no NB) was dropped with the embeddings: it never won and it is the slowest fit.
_NB_GRID = ((1.0, True), (4.0, True))
GRIDS: dict[str, tuple[tuple[float, bool], ...]] = {
    "complaint": _NB_GRID,
    "praise": _NB_GRID,
    "abuse": _NB_GRID,
    "rumour": _NB_GRID,
    "spam": _NB_GRID,
}
# Sources whose own labels decide a label's threshold and regularisation.
PRIMARY_SOURCES: dict[str, list[str]] = {
    "emergency": ["trecis", "police"],
    "complaint": ["complaints", "airline", "police"],
    "praise": ["airline", "police"],
    "question": ["airline", "police"],
    "abuse": ["olid"],
    "rumour": ["pheme"],
    "spam": ["sms", "police"],
}
# Emergency is chosen among (C, with the embedding block?) by how much Critical the P2
# rule above reaches on training events it was not set on (see ``emergency_rule_cv``),
# not by F1: the target is Critical at P1/P2 at a bounded Low rate, and F1 of High and
# Critical against the rest is a different operating point.
EMERGENCY_GRID: tuple[tuple[float, bool], ...] = (
    (0.25, True),
    (1.0, True),
    (0.25, False),
    (1.0, False),
)


@dataclass
class Row:
    """One labelled text. ``targets`` maps label -> (y, weight); absent = not used."""

    text: str
    source: str
    group: str
    held_out: bool
    meta: dict[str, str] = field(default_factory=dict)
    targets: dict[str, tuple[int, float]] = field(default_factory=dict)


def _crc(text: str) -> int:
    return zlib.crc32(text.encode())


def _bucket_held(text: str) -> bool:
    return _crc(text) % 5 == 0


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            {k.strip(): (v or "").strip() for k, v in r.items() if k}
            for r in csv.DictReader(handle)
        ]


def load(data: Path) -> list[Row]:
    """Read every source into ``Row``s with split and per-source metadata (no targets yet)."""
    rows: list[Row] = []
    for r in _csv(data / "trecis_priority_train.csv"):
        if r.get("priority") not in {"Low", "Medium", "High", "Critical"}:
            continue
        rows.append(
            Row(
                r["text"],
                "trecis",
                r["event"],
                r["event"] in HELD_TREC_EVENTS,
                {"priority": r["priority"]},
            )
        )
    for r in _csv(data / "pheme_rumour_train.csv"):
        rows.append(
            Row(
                r["text"],
                "pheme",
                r["event"],
                r["event"] in HELD_PHEME_EVENTS,
                {"rumour": r["rumour_label"]},
            )
        )
    for r in _csv(data / "olid_train.csv"):
        rows.append(
            Row(
                r["text"],
                "olid",
                str(_crc(r["text"]) % FOLDS),
                _bucket_held(r["text"]),
                {"a": r["subtask_a"]},
            )
        )
    for r in _csv(data / "sms_spam_train.csv"):
        rows.append(
            Row(
                r["text"],
                "sms",
                str(_crc(r["text"]) % FOLDS),
                _bucket_held(r["text"]),
                {"label": r["label"]},
            )
        )
    for r in _csv(data / "airline_inbound_train.csv"):
        rows.append(
            Row(
                r["text"],
                "airline",
                str(_crc(r["text"]) % FOLDS),
                _bucket_held(r["text"]),
                {"sentiment": r["airline_sentiment"]},
            )
        )
    for r in _csv(data / "complaints_train.csv"):
        rows.append(
            Row(
                r["text"],
                "complaints",
                str(_crc(r["text"]) % FOLDS),
                _bucket_held(r["text"]),
                {"complaint": r["complaint"], "domain": r["domain"]},
            )
        )
    for folder in sorted((data / "crisislex_t26").iterdir()):
        for path in folder.glob("*-tweets_labeled.csv"):
            for r in _csv(path):
                rows.append(
                    Row(
                        r["Tweet Text"],
                        "crisislex",
                        folder.name,
                        True,
                        {
                            "informativeness": r.get("Informativeness", ""),
                            "source": r.get("Information Source", ""),
                            "type": r.get("Information Type", ""),
                        },
                    )
                )
    cases = (HERE / "police_cases.jsonl").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(cases):
        case = json.loads(line)
        rows.append(
            Row(
                case["text"],
                "police",
                str(i % FOLDS),
                i % 4 == 3,
                {"labels": ",".join(case["labels"]), "priority": case["priority"]},
            )
        )
    return rows


def _is_question(text: str) -> bool:
    return "?" in text


def assign_targets(rows: list[Row]) -> None:
    """Decide, for every training row and label, whether it is a positive, a negative or unused.

    Each label has a primary source; other sources contribute capped negatives where they
    are reliably not that label, so scores stay meaningful on any kind of message.
    """
    everyday = {"airline", "complaints", "sms", "olid"}
    for row in rows:
        m, src, t = row.meta, row.source, row.targets
        if src == "police":
            labels = set(m["labels"].split(",")) - {""}
            for label in LABELS:
                t[label] = (int(label in labels), POLICE_WEIGHT)
            continue
        # emergency: TREC High/Critical against Low; everyday chatter is never an emergency.
        if src == "trecis":
            p = m["priority"]
            if p in {"High", "Critical"}:
                t["emergency"] = (1, 2.0 if p == "Critical" else 1.0)
            elif p == "Low":
                t["emergency"] = (0, 1.0)
            else:  # Medium: mostly not urgent; a weak negative separates Critical best out of fold
                t["emergency"] = (0, 0.5)
        elif src in everyday and not (src == "olid" and m["a"] == "OFF"):
            t["emergency"] = (0, 1.0)
        # complaint
        if src == "complaints":
            t["complaint"] = (int(m["complaint"] == "1"), 1.0)
        elif src == "airline":
            t["complaint"] = (int(m["sentiment"] == "negative"), 1.0)
        elif src in {"trecis", "sms"}:
            t["complaint"] = (0, 1.0)
        # praise
        if src == "airline":
            t["praise"] = (int(m["sentiment"] == "positive"), 1.0)
        elif (
            (src == "complaints" and m["complaint"] == "1")
            or src == "trecis"
            or (src == "olid" and m["a"] == "OFF")
        ):
            t["praise"] = (0, 1.0)
        # question: weak labels from airline neutral questions, else '?'-free rows
        if src == "airline":
            q = m["sentiment"] == "neutral" and _is_question(row.text)
            if q or not _is_question(row.text):
                t["question"] = (int(q), 1.0)
        elif src in {"trecis", "sms", "olid"} and not _is_question(row.text):
            t["question"] = (0, 1.0)
        # abuse
        if src == "olid":
            t["abuse"] = (int(m["a"] == "OFF"), 1.0)
        elif (
            (src == "airline" and m["sentiment"] != "negative")
            or src == "trecis"
            or (src == "sms" and m["label"] == "ham")
        ):
            t["abuse"] = (0, 1.0)
        # rumour
        if src == "pheme":
            t["rumour"] = (int(m["rumour"] == "rumour"), 1.0)
        elif src in {"airline", "sms"} or (src == "complaints" and m["complaint"] == "1"):
            t["rumour"] = (0, 1.0)
        # spam
        if src == "sms":
            t["spam"] = (int(m["label"] == "spam"), 1.0)
        elif src in {"airline", "olid", "trecis", "pheme"} or (
            src == "complaints" and m["domain"] not in {"random_tweet", "random_reply"}
        ):
            t["spam"] = (0, 1.0)
        # labels with police cases as their only positives: every public source is negative
        for label in ("crime_report", "intelligence", "missing_person"):
            if src in {"airline", "sms", "complaints", "trecis"}:
                t[label] = (0, 1.0)


def label_rows(rows: list[Row], label: str) -> list[Row]:
    """Training rows for ``label``: all rows of its primary sources, capped rows of others."""
    pools: dict[str, list[Row]] = {}
    for r in rows:
        if label in r.targets and not r.held_out:
            pools.setdefault(r.source, []).append(r)
    primary = {s for s, pool in pools.items() if any(r.targets[label][0] for r in pool)}
    chosen: list[Row] = []
    for source in sorted(pools):
        pool = pools[source]
        if source not in primary and len(pool) > CROSS_CAP:
            pool = sorted(pool, key=lambda r: _crc(label + r.text))[:CROSS_CAP]
        chosen.extend(pool)
    return chosen


_EMBEDDED: dict[str, np.ndarray] = {}


def matrix(texts: list[str]) -> sp.csr_matrix:
    """Design matrix: hashed n-grams (``DIMENSIONS`` columns), then the scaled embedding."""
    indices, values, offsets = featurise(texts)
    x = sp.csr_matrix((values, indices, offsets), shape=(len(texts), DIMENSIONS))
    x.sum_duplicates()
    missing = [t for t in dict.fromkeys(texts) if t not in _EMBEDDED]
    if missing:
        _EMBEDDED.update(zip(missing, embed(missing), strict=True))
    dense = np.vstack([_EMBEDDED[t] for t in texts]) * EMB_SCALE
    return sp.hstack([x, sp.csr_matrix(dense)], format="csr")


def fit(x: sp.csr_matrix, y: np.ndarray, w: np.ndarray, c: float = C) -> LogisticRegression:
    model = LogisticRegression(
        C=c, solver="liblinear", class_weight="balanced", random_state=0, max_iter=200
    )
    model.fit(x, y, sample_weight=w)
    return model


def nb_ratio(x: sp.csr_matrix, y: np.ndarray) -> np.ndarray:
    """Naive-Bayes log-count ratio per feature (Wang & Manning 2012, NBSVM), +1 smoothed.

    Scaling the features by it before the logistic regression is the same as scaling the
    learnt weights by it afterwards, so the run-time model is unchanged (weights folded).
    """
    present = x.copy()
    present.data[:] = 1.0
    pos = np.asarray(present[y == 1].sum(axis=0)).ravel() + 1.0
    neg = np.asarray(present[y == 0].sum(axis=0)).ravel() + 1.0
    return np.log((pos / pos.sum()) / (neg / neg.sum()))


def fit_config(
    x: sp.csr_matrix, y: np.ndarray, w: np.ndarray, c: float, nb: bool
) -> tuple[np.ndarray, float]:
    """Fit one configuration; return run-time weights (NB ratio folded in) and intercept."""
    ratio = nb_ratio(x, y) if nb else np.ones(x.shape[1])
    model = fit(x.multiply(ratio).tocsr() if nb else x, y, w, c)
    return model.coef_[0] * ratio, float(model.intercept_[0])


def out_of_fold(
    x: sp.csr_matrix,
    y: np.ndarray,
    w: np.ndarray,
    groups: list[str],
    c: float = C,
    nb: bool = False,
    models: list[tuple[np.ndarray, float]] | None = None,
) -> np.ndarray:
    """Out-of-fold probabilities with folds by group (events stay together).

    If ``models`` is given, each fold's (weights, intercept) is appended to it.
    """
    fold = np.array([_crc(g) % FOLDS for g in groups])
    oof = np.zeros(len(y))
    for k in range(FOLDS):
        test = fold == k
        if test.all() or not test.any() or len(set(y[~test])) < 2:
            continue
        coef, intercept = fit_config(x[~test], y[~test], w[~test], c, nb)
        if models is not None:
            models.append((coef, intercept))
        oof[test] = 1 / (1 + np.exp(-(x[test] @ coef + intercept)))
    return oof


def best_f1_threshold(y: np.ndarray, p: np.ndarray, macro: bool = False) -> float:
    best, best_t = -1.0, 0.5
    for t in np.linspace(0.05, 0.95, 91):
        pred = p >= t
        f = _f1(y, pred)
        if macro:
            f = (f + _f1(1 - y, ~pred)) / 2
        if f > best:
            best, best_t = f, float(t)
    return best_t


def _f1(y: np.ndarray, pred: np.ndarray) -> float:
    tp = float(np.sum(pred & (y == 1)))
    fp = float(np.sum(pred & (y == 0)))
    fn = float(np.sum(~pred & (y == 1)))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def median_event_cut(scores: np.ndarray, events: np.ndarray) -> float:
    """The score that ``P2_LOW_SHARE`` of the median event's Low tweets reach.

    ``scores`` are out-of-fold scores of Low TREC-IS tweets and ``events`` their events.
    """
    cuts = [
        float(np.quantile(scores[events == e], 1 - P2_LOW_SHARE))
        for e in sorted(set(events.tolist()))
        if np.sum(events == e) >= MIN_EVENT_LOW
    ]
    return float(np.median(cuts))


def emergency_rule_cv(
    oof: np.ndarray, fold: np.ndarray, low: np.ndarray, crit: np.ndarray, events: np.ndarray
) -> tuple[float, float]:
    """Shares of Low and Critical at or above the P2 cut-off on events it was not set on.

    For each event fold k the cut-off is set by ``median_event_cut`` on the other folds'
    out-of-fold Low scores and applied to fold k's: this mimics setting it on training
    events and meeting new ones. Returns the pooled (Low share, Critical share).
    """
    at_low: list[bool] = []
    at_crit: list[bool] = []
    for k in range(FOLDS):
        rest = low & (fold != k)
        cut = median_event_cut(oof[rest], events[rest])
        at_low.extend((oof[low & (fold == k)] >= cut).tolist())
        at_crit.extend((oof[crit & (fold == k)] >= cut).tolist())
    return float(np.mean(at_low)), float(np.mean(at_crit))


def choose_emergency(
    chosen: list[Row], x: sp.csr_matrix, y: np.ndarray, w: np.ndarray, groups: list[str]
) -> tuple[float, bool, np.ndarray, float, np.ndarray, float]:
    """Pick (C, embeddings?) for emergency and its P2 cut-off, on training events only.

    The candidate whose out-of-fold scores reach the most Critical under
    ``emergency_rule_cv`` wins, among those that keep its pooled Low share within
    ``P2_LOW_SHARE`` (if none does, the lowest Low share wins). Returns C, whether the
    embedding block is used, the winner's out-of-fold scores and its P2 cut-off (set by
    ``median_event_cut`` on all training events), and the shipped model: the mean of the
    winner's fold models (weights over all columns, intercept).

    Why the fold mean and not a refit on all rows: the cut-off is read off fold models'
    scores of events they did not see, and a model fitted on more events scores new
    events hotter (nested on the training events, n-grams, C = 1: a cut-off read off
    2-fold models put 18% of new events' Low above it under a refit on 3 folds, and
    12.5% under the mean of the 2-fold models). Averaging the fold models' weights is
    averaging their logits, so the shipped model is the kind of model the cut-off was
    read from, at no run-time cost.
    """
    trec = np.array([r.source == "trecis" for r in chosen])
    priority = np.array(
        [r.meta.get("priority", "") if r.source == "trecis" else "" for r in chosen]
    )
    low, crit = trec & (priority == "Low"), trec & (priority == "Critical")
    events = np.array([r.group for r in chosen])
    fold = np.array([_crc(g) % FOLDS for g in groups])
    ngrams = x[:, :DIMENSIONS].tocsr()
    best: tuple[bool, float] = (False, -1.0)
    result: tuple[float, bool, np.ndarray, float, np.ndarray, float] = (
        C,
        True,
        np.zeros(len(y)),
        0.5,
        np.zeros(x.shape[1]),
        0.0,
    )
    for c, use_emb in EMERGENCY_GRID:
        models: list[tuple[np.ndarray, float]] = []
        oof = out_of_fold(x if use_emb else ngrams, y, w, groups, c, False, models)
        low_share, crit_share = emergency_rule_cv(oof, fold, low, crit, events)
        print(
            f"  emergency C={c} embeddings={use_emb}: on events the cut-off was not set on, "
            f"Low {low_share:.3f}, Critical {crit_share:.3f} at P2 or above",
            flush=True,
        )
        meets = low_share <= P2_LOW_SHARE
        key = (meets, crit_share if meets else -low_share)
        if key > best:
            best = key
            coef = np.mean([m[0] for m in models], axis=0)
            if not use_emb:  # n-grams only: the label's embedding weights stay zero
                coef = np.concatenate([coef, np.zeros(x.shape[1] - DIMENSIONS)])
            intercept = float(np.mean([m[1] for m in models]))
            cut = median_event_cut(oof[low], events[low])
            result = (c, use_emb, oof, cut, coef, intercept)
    return result


def train(rows: list[Row]) -> dict[str, object]:
    """Fit one model per label, choose its threshold out of fold, write the artefacts."""
    weights = np.zeros((DIMENSIONS, len(LABELS)), dtype=np.float32)
    emb_weights = np.zeros((embedding_dimensions(), len(LABELS)), dtype=np.float32)
    bias = np.zeros(len(LABELS), dtype=np.float32)
    info: dict[str, object] = {}
    p1_threshold = 0.9
    for j, label in enumerate(LABELS):
        chosen = label_rows(rows, label)
        x = matrix([r.text for r in chosen])
        y = np.array([r.targets[label][0] for r in chosen])
        w = np.array([r.targets[label][1] for r in chosen])
        groups = [f"{r.source}:{r.group}" for r in chosen]
        src = np.array([r.source for r in chosen])
        primary = np.isin(src, PRIMARY_SOURCES.get(label, ["police"]))
        macro = label in {"abuse", "rumour"}
        c_best, nb_best, oof, threshold, best = C, False, np.zeros(len(y)), 0.5, -1.0
        emb_best = True
        averaged: tuple[np.ndarray, float] | None = None
        if label == "emergency":
            picked = choose_emergency(chosen, x, y, w, groups)
            c_best, emb_best, oof, threshold = picked[:4]
            averaged = picked[4:]
        for c, nb in () if label == "emergency" else GRIDS.get(label, ((C, False),)):
            candidate = out_of_fold(x, y, w, groups, c, nb)
            t = best_f1_threshold(y[primary], candidate[primary], macro=macro)
            score = _f1(y[primary], candidate[primary] >= t)
            if macro:
                score = (score + _f1(1 - y[primary], candidate[primary] < t)) / 2
            print(f"  {label} C={c} nb={nb}: out-of-fold F1 {score:.3f} at {t:.2f}", flush=True)
            if score > best:
                c_best, nb_best, oof, threshold, best = c, nb, candidate, t, score
        if label == "emergency":
            low = np.array([r.source == "trecis" and r.meta["priority"] == "Low" for r in chosen])
            everyday = np.isin(src, ["airline", "complaints", "sms", "olid"])
            # P1 where fewer than ~0.3% of everyday messages and ~3% of Low crisis tweets reach.
            p1_raw = max(
                float(np.quantile(oof[everyday], 0.997)),
                float(np.quantile(oof[low], 0.97)),
                threshold + 0.05,
            )
        if averaged is not None:  # emergency: the mean of its fold models (see above)
            coef, intercept = averaged
        else:
            coef, intercept = fit_config(x, y, w, c_best, nb_best)
        shift = runtime.logit(threshold)
        weights[:, j] = coef[:DIMENSIONS]
        emb_weights[:, j] = coef[DIMENSIONS:] * EMB_SCALE
        bias[j] = intercept - shift
        if label == "emergency":
            z = runtime.logit(p1_raw) - shift
            p1_threshold = 1 / (1 + np.exp(-z))
        info[label] = {
            "rows": len(y),
            "C": c_best,
            "nb": nb_best,
            "embeddings": emb_best,
            "model": "mean of the fold models" if averaged is not None else "refit on all rows",
            "positives": int(y.sum()),
            "threshold": round(threshold, 3),
            "sources": dict(Counter(src.tolist())),
        }
        print(
            f"{label}: {len(y)} rows, {int(y.sum())} positive, threshold {threshold:.3f}",
            flush=True,
        )
    art = runtime.ARTEFACTS
    art.mkdir(exist_ok=True)
    np.savez_compressed(
        art / "weights.npz",
        weights=weights.astype(np.float16),
        embedding_weights=emb_weights,
        bias=bias,
    )
    meta = {
        "labels": list(LABELS),
        "dimensions": DIMENSIONS,
        "embedding_dimensions": embedding_dimensions(),
        "embedding_scale": EMB_SCALE,
        "p1_threshold": round(float(p1_threshold), 4),
        "C": C,
        "training": info,
        "source": "trained by training/train.py on ../shared/data/triage (train splits) and "
        "training/police_cases.jsonl; hashed n-gram features plus mean word-piece vectors "
        "(artefacts/embeddings.npz, see ATTRIBUTION.md); no texts stored",
    }
    (art / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    runtime._model.cache_clear()
    return meta


# --------------------------------------------------------------------------- evaluation


def prf(y: Iterable[bool], pred: Iterable[bool]) -> dict[str, float]:
    ya, pa = np.array(list(y), dtype=bool), np.array(list(pred), dtype=bool)
    tp, fp, fn = int(np.sum(ya & pa)), int(np.sum(~ya & pa)), int(np.sum(ya & ~pa))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 3),
        "recall": round(r, 3),
        "f1": round(f, 3),
        "n": len(ya),
        "positives": int(ya.sum()),
    }


def evaluate(rows: list[Row]) -> dict[str, object]:
    held = [r for r in rows if r.held_out]
    results = runtime.triage([r.text for r in held])
    by: dict[str, list[tuple[Row, runtime.Triage]]] = {}
    for row, res in zip(held, results, strict=True):
        by.setdefault(row.source, []).append((row, res))
    ev: dict[str, object] = {}

    def binary(source: str, label: str, truth: Callable[[Row], bool]) -> dict[str, float]:
        pairs = by[source]
        return prf((truth(r) for r, _ in pairs), (t.scores[label] >= 0.5 for _, t in pairs))

    ev["spam (SMS)"] = binary("sms", "spam", lambda r: r.meta["label"] == "spam")
    off = binary("olid", "abuse", lambda r: r.meta["a"] == "OFF")
    notoff = prf(
        (r.meta["a"] != "OFF" for r, _ in by["olid"]),
        (t.scores["abuse"] < 0.5 for _, t in by["olid"]),
    )
    ev["abuse OFF (OLID)"], ev["abuse NOT (OLID)"] = off, notoff
    ev["abuse macro-F1 (OLID)"] = round((off["f1"] + notoff["f1"]) / 2, 3)
    ev["complaint (complaints)"] = binary(
        "complaints", "complaint", lambda r: r.meta["complaint"] == "1"
    )
    ev["complaint (airline negative)"] = binary(
        "airline", "complaint", lambda r: r.meta["sentiment"] == "negative"
    )
    ev["praise (airline positive)"] = binary(
        "airline", "praise", lambda r: r.meta["sentiment"] == "positive"
    )
    rum = binary("pheme", "rumour", lambda r: r.meta["rumour"] == "rumour")
    non = prf(
        (r.meta["rumour"] != "rumour" for r, _ in by["pheme"]),
        (t.scores["rumour"] < 0.5 for _, t in by["pheme"]),
    )
    ev["rumour (PHEME held-out events)"], ev["non-rumour (PHEME held-out events)"] = rum, non
    ev["rumour macro-F1 (PHEME)"] = round((rum["f1"] + non["f1"]) / 2, 3)
    for event in sorted(HELD_PHEME_EVENTS):
        pairs = [(r, t) for r, t in by["pheme"] if r.group == event]
        a = prf(
            (r.meta["rumour"] == "rumour" for r, _ in pairs),
            (t.scores["rumour"] >= 0.5 for _, t in pairs),
        )
        b = prf(
            (r.meta["rumour"] != "rumour" for r, _ in pairs),
            (t.scores["rumour"] < 0.5 for _, t in pairs),
        )
        ev[f"rumour macro-F1 ({event})"] = round((a["f1"] + b["f1"]) / 2, 3)
    # urgency on held-out TREC-IS events
    urg: dict[str, dict[str, object]] = {}
    for level in ("Critical", "High", "Medium", "Low"):
        found = [t for r, t in by["trecis"] if r.meta["priority"] == level]
        c = Counter(t.priority for t in found)
        urg[level] = {
            "n": len(found),
            "P1": round(c["P1"] / len(found), 3),
            "P1/P2": round((c["P1"] + c["P2"]) / len(found), 3),
        }
    ev["urgency (TREC-IS held-out events)"] = urg
    # Diagnostic, not used to set anything: how well the emergency score *ranks* held-out
    # events, i.e. the share of Critical above the score that exactly 15% of Low exceed.
    low_scores = [t.scores["emergency"] for r, t in by["trecis"] if r.meta["priority"] == "Low"]
    crit_scores = [
        t.scores["emergency"] for r, t in by["trecis"] if r.meta["priority"] == "Critical"
    ]
    cut = float(np.quantile(low_scores, 0.85))
    ev["emergency ranking: Critical above the 15%-of-Low score (TREC-IS held-out)"] = round(
        float(np.mean(np.array(crit_scores) > cut)), 3
    )
    # everyday messages: share at P1 (and P1/P2)
    every: dict[str, dict[str, object]] = {}
    for name, pairs in {
        "airline (all held-out)": by["airline"],
        "complaints (all held-out)": by["complaints"],
        "SMS ham": [p for p in by["sms"] if p[0].meta["label"] == "ham"],
        "OLID NOT": [p for p in by["olid"] if p[0].meta["a"] == "NOT"],
        "CrisisLex 'Not related'": [
            p for p in by["crisislex"] if p[0].meta["informativeness"] == "Not related"
        ],
    }.items():
        c = Counter(t.priority for _, t in pairs)
        every[name] = {
            "n": len(pairs),
            "P1": round(c["P1"] / len(pairs), 4),
            "P1/P2": round((c["P1"] + c["P2"]) / len(pairs), 4),
        }
    ev["everyday P1 rate"] = every
    crisis: dict[str, dict[str, object]] = {}
    checks: dict[str, Callable[[Row], bool]] = {
        "Eyewitness": lambda r: r.meta["source"] == "Eyewitness",
        "Affected individuals": lambda r: r.meta["type"] == "Affected individuals",
        "Caution and advice": lambda r: r.meta["type"] == "Caution and advice",
        "Sympathy and support": lambda r: r.meta["type"] == "Sympathy and support",
    }
    for name, keep in checks.items():
        found = [t for r, t in by["crisislex"] if keep(r)]
        c = Counter(t.priority for t in found)
        crisis[name] = {"n": len(found), "P1/P2": round((c["P1"] + c["P2"]) / len(found), 3)}
    ev["CrisisLex T26 (all crises, none trained on)"] = crisis
    # police cases
    pairs = by["police"]
    ev["police cases held out: category accuracy"] = round(
        float(np.mean([(r.meta["labels"] or "other") == t.category for r, t in pairs])), 3
    )
    ev["police cases held out: priority accuracy"] = round(
        float(np.mean([r.meta["priority"] == t.priority for r, t in pairs])), 3
    )
    ev["police cases held out: n"] = len(pairs)
    per_class: dict[str, dict[str, float]] = {}
    for category in runtime.CATEGORIES:
        per_class[category] = prf(
            ((r.meta["labels"] or "other") == category for r, _ in pairs),
            (t.category == category for _, t in pairs),
        )
    ev["police cases held out: per category"] = per_class
    ev["police cases held out: misses"] = [
        {
            "text": r.text,
            "want": f"{r.meta['labels'] or 'other'}/{r.meta['priority']}",
            "got": f"{t.category}/{t.priority}",
        }
        for r, t in pairs
        if (r.meta["labels"] or "other") != t.category or r.meta["priority"] != t.priority
    ]
    return ev


def markdown(ev: dict[str, object]) -> str:
    lines = ["| check | n | positives | precision | recall | F1 |", "|---|---|---|---|---|---|"]
    for key, value in ev.items():
        if isinstance(value, dict) and "f1" in value:
            lines.append(
                f"| {key} | {value['n']} | {value['positives']} | {value['precision']:.3f} | "
                f"{value['recall']:.3f} | {value['f1']:.3f} |"
            )
    lines.append("")
    for key, value in ev.items():
        if isinstance(value, float):
            lines.append(f"- {key}: **{value:.3f}**")
    for key in (
        "urgency (TREC-IS held-out events)",
        "everyday P1 rate",
        "CrisisLex T26 (all crises, none trained on)",
    ):
        table = ev[key]
        assert isinstance(table, dict)
        lines += ["", f"{key}:", "", "| group | n | at P1 | at P1 or P2 |", "|---|---|---|---|"]
        for group, v in table.items():
            lines.append(f"| {group} | {v['n']} | {v.get('P1', '-')} | {v['P1/P2']} |")
    lines += [
        "",
        f"Police cases held out ({ev['police cases held out: n']}): category accuracy "
        f"{ev['police cases held out: category accuracy']}, priority accuracy "
        f"{ev['police cases held out: priority accuracy']}.",
        "",
        "Police cases held out, per category (tiny counts: read as a smoke test):",
        "",
        "| category | cases | precision | recall | F1 |",
        "|---|---|---|---|---|",
    ]
    per_class = ev["police cases held out: per category"]
    assert isinstance(per_class, dict)
    for category, v in per_class.items():
        lines.append(
            f"| {category} | {v['positives']} | {v['precision']:.2f} | {v['recall']:.2f} "
            f"| {v['f1']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data/triage"))
    parser.add_argument(
        "--no-docs", action="store_true", help="do not rewrite docs/quality/triage.md"
    )
    parser.add_argument(
        "--evaluate-only", action="store_true", help="evaluate the shipped artefacts, do not train"
    )
    args = parser.parse_args()
    rows = load(args.data)
    assign_targets(rows)
    print(Counter((r.source, r.held_out) for r in rows), flush=True)
    if not args.evaluate_only:
        train(rows)
    ev = evaluate(rows)
    (runtime.ARTEFACTS / "evaluation.json").write_text(
        json.dumps(ev, indent=1) + "\n", encoding="utf-8"
    )
    table = markdown(ev)
    print(table)
    doc = REPO / "docs" / "quality" / "triage.md"
    if not args.no_docs and doc.exists():
        start, end = "<!-- figures:start -->", "<!-- figures:end -->"
        text = doc.read_text(encoding="utf-8")
        if start in text and end in text:
            head, rest = text.split(start, 1)
            doc.write_text(
                f"{head}{start}\n{table}\n{end}{rest.split(end, 1)[1]}", encoding="utf-8"
            )


if __name__ == "__main__":
    main()
