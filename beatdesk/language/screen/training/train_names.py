"""Train the person-name tagger and rebuild ``artefacts/names_model.json.gz``.

Run from the repository root, in a throw-away virtualenv outside the repository that has
Faker (used only for its first-name and surname lists) and numpy:

    /root/.pyenv/versions/3.12.1/bin/python3.12 -m venv /tmp/screen-train
    /tmp/screen-train/bin/pip install numpy faker
    PYTHONPATH=. /tmp/screen-train/bin/python beatdesk/language/screen/training/train_names.py

Data (read, never copied into the repository): ``../shared/data/screening``
(``btc/btc.train`` and ``wnut17/wnut17train.conll`` for training; ``btc/btc.dev`` and
``wnut17/emerging.dev.conll`` held out, scored only with ``--report-dev``). Word-piece
vectors: ``beatdesk/language/triage/artefacts/embeddings.npz`` (a Model2vec distillation
of all-MiniLM-L6-v2; see that folder's ATTRIBUTION.md); only their dot products with the
learned weight vectors go into the artefact. Deterministic: fixed seed, sorted output.
Single process; about two minutes on one idle core.

Model: averaged perceptron over sparse features (``names.self_features`` and friends)
plus linear "channels" on the mean word-piece vector of the token (one per case class)
and of its two neighbours on each side, trained with structured-perceptron updates
under the same two-state Viterbi decoding the runtime uses.

Split: whole blocks of 100 consecutive training tweets, every 10th block, are set aside to
choose the decision threshold (the highest threshold whose token recall there reaches
0.85); blocks keep near-duplicate tweets about one event on one side. The "names seen in
training" feature is cross-fitted the same way (alternate blocks). WNUT does not label
handles, so its handles give no training signal and are not scored in the tune split.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from beatdesk.language.screen.names import (
    ARTEFACT_PATH,
    BOS,
    EOS,
    NEIGHBOUR_CHANNELS,
    RELATIONS,
    SELF_CHANNELS,
    Gazetteer,
    NameTagger,
    case_bucket,
    case_class,
    dynamic_features,
    find_person_names,
    neighbour_features,
    self_features,
    token_pieces,
    viterbi_margins,
)

DATA = Path(__file__).resolve().parents[5] / "shared" / "data" / "screening"
EMBEDDINGS = Path(__file__).resolve().parents[2] / "triage" / "artefacts" / "embeddings.npz"
Sentence = tuple[list[str], list[bool]]
# training labels: None where the corpus does not annotate the token (WNUT's handles)
Labelled = tuple[list[str], list[bool | None]]
Vector = npt.NDArray[np.float64]
Dense = list[tuple[int, Vector]]


def read_conll(path: Path, person_labels: tuple[str, ...]) -> list[Sentence]:
    """Read token<TAB>label files; merge BTC's split ``@`` + ``name`` back into a handle."""
    sentences: list[Sentence] = []
    tokens: list[str] = []
    labels: list[bool] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.rstrip("\n")
        if not line.strip():
            if tokens:
                sentences.append((tokens, labels))
            tokens, labels = [], []
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            parts = line.split()
        if len(parts) < 2:
            continue
        tok, lab = parts[0], parts[-1]
        is_person = lab[2:] in person_labels if lab != "O" else False
        if tokens and tokens[-1] == "@" and tok[:1].isalnum():
            tokens[-1] = "@" + tok
            labels[-1] = labels[-1] or is_person
            continue
        tokens.append(tok)
        labels.append(is_person)
    if tokens:
        sentences.append((tokens, labels))
    return sentences


def load_gazetteer() -> Gazetteer:
    """First names and surnames from Faker's person providers (Latin-script locales)."""
    import importlib

    first: set[str] = set()
    last: set[str] = set()
    locales = [
        "en_GB",
        "en_US",
        "en_IE",
        "en_IN",
        "en_PK",
        "en_NG",
        "en_KE",
        "en_NZ",
        "pl_PL",
        "ro_RO",
        "it_IT",
        "fr_FR",
        "es_ES",
        "de_DE",
        "pt_PT",
        "tr_TR",
        "nl_NL",
    ]
    for loc in locales:
        provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female"):
            first.update(str(n).lower() for n in getattr(provider, attr, ()) or ())
        last.update(str(n).lower() for n in getattr(provider, "last_names", ()) or ())

    def clean(names: set[str]) -> frozenset[str]:
        return frozenset(
            n for n in names if n.replace("-", "").replace("'", "").isalpha() and len(n) > 1
        )

    return Gazetteer(first=clean(first), last=clean(last))


def static_features(tokens: list[str], gaz: Gazetteer) -> list[list[str]]:
    """All non-dynamic sparse features for each token of one sentence (mirrors NameTagger)."""
    padded = [BOS, BOS, *tokens, EOS, EOS]
    out: list[list[str]] = []
    for i in range(len(tokens)):
        k = i + 2
        feats = self_features(tokens[i], gaz)
        neighbours = (padded[k - 1], padded[k - 2], padded[k + 1], padded[k + 2])
        for rel, tok in zip(RELATIONS, neighbours, strict=True):
            # the runtime substitutes BOS for every missing left neighbour, EOS on the right
            feats.extend(neighbour_features(tok, gaz, rel))
        out.append(feats)
    return out


class PieceVectors:
    """Static word-piece vectors (read from the triage artefact at training time only)."""

    def __init__(self, path: Path) -> None:
        with np.load(path) as data:
            vocab = [str(v) for v in data["vocab"]]
            vectors = data["vectors"].astype(np.float64)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.unit: Vector = vectors / np.maximum(norms, 1e-9)
        self.vocab = vocab
        self.index = {piece: i for i, piece in enumerate(vocab)}
        self.dims = int(vectors.shape[1])
        self._cache: dict[str, Vector] = {}

    def token_vector(self, token: str) -> Vector:
        """Mean of the unit vectors of the token's word pieces (zeros if it has none)."""
        got = self._cache.get(token)
        if got is None:
            ids = token_pieces(token, self.index)
            got = self.unit[ids].mean(axis=0) if ids else np.zeros(self.dims)
            self._cache[token] = got
        return got


class AveragedPerceptron:
    """Binary averaged perceptron over sparse features plus dense embedding channels.

    Averaging uses the usual trick: keep the weights ``w`` and the time-weighted sum of
    updates ``u``; the average over all steps is ``w - u / t``.
    """

    def __init__(self, channels: int, dims: int) -> None:
        self.w: dict[str, float] = defaultdict(float)
        self.u: dict[str, float] = defaultdict(float)
        self.wd: Vector = np.zeros((channels, dims))
        self.ud: Vector = np.zeros((channels, dims))
        self.t = 0

    def score(self, feats: list[str], dense: Dense) -> float:
        w = self.w
        total = sum(w.get(f, 0.0) for f in feats)
        wd = self.wd
        for ch, vec in dense:
            total += float(wd[ch] @ vec)
        return total

    def update(self, feats: list[str], dense: Dense, delta: float) -> None:
        t = self.t
        for f in feats:
            self.w[f] += delta
            self.u[f] += t * delta
        for ch, vec in dense:
            self.wd[ch] += delta * vec
            self.ud[ch] += (t * delta) * vec

    def averaged(self) -> tuple[dict[str, float], Vector]:
        t = max(self.t, 1)
        out: dict[str, float] = {}
        for f, value in self.w.items():
            avg = value - self.u[f] / t
            if abs(avg) >= 1e-3:
                out[f] = round(avg, 3)
        return out, self.wd - self.ud / t


LEXICAL_PREFIXES = ("w=", "p1w=", "p2w=", "n1w=", "n2w=")


def drop_rare_lexical(feats: list[list[list[str]]], min_count: int) -> list[list[list[str]]]:
    """Remove word-identity features seen fewer than ``min_count`` times.

    Why: at run time most names are words the model never saw, so it must learn to
    rely on shape, affixes, gazetteer, embeddings and context; memorising every rare
    training name instead made dev recall collapse (0.45 at threshold 0 in the first run).
    """
    counts: dict[str, int] = defaultdict(int)
    for sent in feats:
        for tok in sent:
            for f in tok:
                if f.startswith(LEXICAL_PREFIXES):
                    counts[f] += 1
    return [
        [
            [f for f in tok if not f.startswith(LEXICAL_PREFIXES) or counts[f] >= min_count]
            for tok in sent
        ]
        for sent in feats
    ]


def names_seen(sentences: list[Labelled]) -> frozenset[str]:
    """Lower-cased words tagged as a name more often than not (handles excluded)."""
    as_name: dict[str, int] = defaultdict(int)
    as_other: dict[str, int] = defaultdict(int)
    for toks, labs in sentences:
        for tok, lab in zip(toks, labs, strict=True):
            if tok[:1].isalpha():
                (as_name if lab else as_other)[tok.lower()] += 1
    return frozenset(w for w, n in as_name.items() if n > as_other.get(w, 0) and len(w) > 1)


_OFFSETS = {"e_p1": -1, "e_p2": -2, "e_n1": 1, "e_n2": 2}


def dense_inputs(
    tokens: list[str], vectors: PieceVectors | None, channels: tuple[str, ...]
) -> list[Dense]:
    """Per token: the (channel index, vector) pairs that the embedding channels score."""
    if vectors is None or not channels:
        return [[] for _ in tokens]
    vecs = [vectors.token_vector(t) for t in tokens]
    n = len(tokens)
    out: list[Dense] = []
    for i, tok in enumerate(tokens):
        row: Dense = []
        cls = case_class(tok)
        for c, ch in enumerate(channels):
            if ch in SELF_CHANNELS:
                if SELF_CHANNELS.index(ch) == cls:
                    row.append((c, vecs[i]))
            else:
                j = i + _OFFSETS[ch]
                if 0 <= j < n:
                    row.append((c, vecs[j]))
        out.append(row)
    return out


def structured_step(
    model: AveragedPerceptron,
    sentence: Labelled,
    feats: list[list[str]],
    dense: list[Dense],
    bucket: int,
    gaz: Gazetteer,
) -> int:
    """One structured-perceptron step: decode the tweet as the runtime does (two-state
    Viterbi) and, if the tagging is wrong, move the weights towards the gold tagging's
    features and away from the predicted one's. Returns the number of wrong tokens."""
    toks, gold = sentence
    n = len(toks)
    local: list[list[str]] = []
    extra: list[list[str]] = []
    base: list[float] = []
    bonus: list[float] = []
    for i, tok in enumerate(toks):
        without = dynamic_features(False, tok, i, bucket, gaz)
        plus = [f for f in dynamic_features(True, tok, i, bucket, gaz) if f not in without]
        f = feats[i] + without
        local.append(f)
        extra.append(plus)
        base.append(model.score(f, dense[i]))
        bonus.append(model.score(plus, []))
    pred = [m > 0 for m in viterbi_margins(base, bonus)]
    model.t += n
    # tokens the corpus does not annotate take the predicted tag: no signal either way
    target = [p if g is None else g for p, g in zip(pred, gold, strict=True)]
    wrong = sum(1 for p, g in zip(pred, target, strict=True) if p != g)
    if wrong:
        for path, sign in ((target, 1.0), (pred, -1.0)):
            for i in range(n):
                if path[i]:
                    f = local[i] + extra[i] if i > 0 and path[i - 1] else local[i]
                    model.update(f, dense[i], sign)
    return wrong


def local_step(
    model: AveragedPerceptron,
    sentence: Labelled,
    feats: list[list[str]],
    dense: list[Dense],
    bucket: int,
    gaz: Gazetteer,
) -> int:
    """Token-by-token perceptron updates with greedy left-to-right previous decisions."""
    toks, gold = sentence
    wrong = 0
    prev = False
    for i, tok in enumerate(toks):
        model.t += 1
        f = feats[i] + dynamic_features(prev, tok, i, bucket, gaz)
        guess = model.score(f, dense[i]) > 0
        label = gold[i]
        if label is not None and guess != label:
            wrong += 1
            model.update(f, dense[i], 1.0 if label else -1.0)
        prev = guess
    return wrong


def train(
    sentences: list[Labelled],
    gaz: Gazetteer,
    epochs: int,
    seed: int,
    min_count: int,
    halves_of: list[int],
    vectors: PieceVectors | None,
    channels: tuple[str, ...],
    structured: bool = True,
) -> tuple[dict[str, float], Vector]:
    """Fit the perceptron; return sparse weights and the (channels x dims) dense weights.

    ``halves_of[i]`` (0/1) says which half sentence ``i`` is in for cross-fitting.
    """
    # Cross-fitted "seen name" gazetteer: each half sees only the other half's names, so
    # the feature is as reliable in training as it will be on unseen text.
    halves: tuple[list[Labelled], list[Labelled]] = ([], [])
    for sent, h in zip(sentences, halves_of, strict=True):
        halves[h].append(sent)
    gaz_for = [
        dataclasses.replace(gaz, seen=names_seen(halves[1])),
        dataclasses.replace(gaz, seen=names_seen(halves[0])),
    ]
    feats = drop_rare_lexical(
        [static_features(toks, gaz_for[halves_of[i]]) for i, (toks, _) in enumerate(sentences)],
        min_count,
    )
    dense = [dense_inputs(toks, vectors, channels) for toks, _ in sentences]
    buckets = [case_bucket(toks) for toks, _ in sentences]
    model = AveragedPerceptron(len(channels), vectors.dims if vectors else 1)
    step = structured_step if structured else local_step
    order = list(range(len(sentences)))
    rng = random.Random(seed)
    for epoch in range(epochs):
        rng.shuffle(order)
        errors = 0
        for idx in order:
            errors += step(
                model, sentences[idx], feats[idx], dense[idx], buckets[idx], gaz_for[halves_of[idx]]
            )
        print(f"  epoch {epoch + 1}: {errors} token errors", file=sys.stderr)
    return model.averaged()


def text_and_gold(tokens: list[str], labels: list[bool]) -> tuple[str, list[tuple[int, int]]]:
    """Rebuild a tweet as space-joined tokens; return text and the gold name-token spans."""
    pieces: list[str] = []
    gold: list[tuple[int, int]] = []
    pos = 0
    for tok, lab in zip(tokens, labels, strict=True):
        if pieces:
            pos += 1
        if lab:
            gold.append((pos, pos + len(tok)))
        pieces.append(tok)
        pos += len(tok)
    return " ".join(pieces), gold


def evaluate(
    sentences: Sequence[tuple[list[str], Sequence[bool | None]]],
    tagger: NameTagger,
    include_handles: bool,
    handles_annotated: list[bool] | None = None,
) -> dict[str, float]:
    """Token recall (a gold name token counts when a finding covers all its characters)
    and character precision (share of predicted characters inside gold name tokens).

    ``handles_annotated[i]`` false: sentence ``i`` comes from a corpus that does not label
    handles (WNUT), so its handles are left out on both sides even with ``include_handles``.
    """
    gold_tokens = hit_tokens = pred_chars = good_chars = 0
    for k, (tokens, labels) in enumerate(sentences):
        text, gold = text_and_gold(tokens, [bool(lab) for lab in labels])
        handles = include_handles and (handles_annotated is None or handles_annotated[k])
        if not handles:
            gold = [g for g in gold if text[g[0]] != "@"]
        spans = [s for s in find_person_names(text, tagger=tagger) if handles or not s.is_handle]
        covered = bytearray(len(text))
        for s in spans:
            covered[s.start : s.end] = b"\x01" * (s.end - s.start)
        gold_mask = bytearray(len(text))
        for a, b in gold:
            gold_mask[a:b] = b"\x01" * (b - a)
            gold_tokens += 1
            hit_tokens += all(covered[a:b])
        for s in spans:
            for c in range(s.start, s.end):
                if not text[c].isspace():
                    pred_chars += 1
                    good_chars += gold_mask[c]
    recall = hit_tokens / max(gold_tokens, 1)
    precision = good_chars / max(pred_chars, 1)
    return {
        "gold_tokens": gold_tokens,
        "recall": round(recall, 3),
        "char_precision": round(precision, 3),
    }


THRESHOLDS = [x / 4 for x in range(60, -161, -1)]


def choose_threshold(
    make: Callable[[float], NameTagger],
    tune: list[Labelled],
    annotated: list[bool],
    target_recall: float,
) -> float:
    """Highest threshold whose tune-split token recall (names and handles) reaches the target.

    Why recall first: a missed name in a victim or child post is the costly error; the
    screen applies its own stricter score cut-off (``NAME_MIN_SCORE``) before it calls a
    name amber, so the tagger's extra low-confidence names only ever become advice or feed
    the victim/child rules.
    """
    for th in THRESHOLDS:
        if evaluate(tune, make(th), True, annotated)["recall"] >= target_recall:
            return th
    return THRESHOLDS[-1]


def export_embedding(
    vectors: PieceVectors | None, dense_weights: Vector, channels: tuple[str, ...]
) -> dict[str, object] | None:
    """Per word piece, its score in each channel (the runtime averages these per token)."""
    if vectors is None or not channels:
        return None
    scores = vectors.unit @ dense_weights.T
    return {
        "channels": list(channels),
        "scale": 1.0,
        "scores": [[round(float(v), 3) for v in row] for row in scores],
    }


def make_tagger(
    weights: dict[str, float],
    gaz: Gazetteer,
    vectors: PieceVectors | None,
    embedding: dict[str, object] | None,
    threshold: float,
) -> NameTagger:
    """The runtime tagger for these weights (same construction as ``names.load_tagger``)."""
    scores = embedding["scores"] if embedding else []
    channels = embedding["channels"] if embedding else []
    assert isinstance(scores, list) and isinstance(channels, list)
    return NameTagger(
        weights,
        gaz,
        threshold,
        pieces=vectors.index if vectors is not None and embedding else None,
        piece_scores=[tuple(row) for row in scores],
        channels=tuple(str(c) for c in channels),
    )


def mask_handles(sentences: list[Sentence]) -> list[Labelled]:
    """WNUT does not annotate handles: make their labels unknown (no training signal)."""
    return [
        (toks, [None if t[:1] == "@" else lab for t, lab in zip(toks, labs, strict=True)])
        for toks, labs in sentences
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--min-count", type=int, default=3)
    parser.add_argument("--target-recall", type=float, default=0.85)
    parser.add_argument(
        "--channels",
        default="self,p1,n1",
        help="embedding channels ('self' = one per case class); empty for none",
    )
    parser.add_argument(
        "--local", action="store_true", help="greedy token-level updates, not structured"
    )
    parser.add_argument(
        "--report-dev", action="store_true", help="also score the held-out dev files"
    )
    parser.add_argument("--out", type=Path, default=ARTEFACT_PATH)
    args = parser.parse_args(argv)
    started = time.time()

    btc_train = read_conll(args.data / "btc" / "btc.train", ("PER",))
    wnut_train = mask_handles(read_conll(args.data / "wnut17" / "wnut17train.conll", ("person",)))
    pool: list[Labelled] = [(t, list[bool | None](labs)) for t, labs in btc_train] + wnut_train
    annotated_pool = [True] * len(btc_train) + [False] * len(wnut_train)
    # whole blocks of 100 consecutive tweets: near-duplicates of one event stay together
    is_tune = [(i // 100) % 10 == 9 for i in range(len(pool))]
    fit = [s for s, t in zip(pool, is_tune, strict=True) if not t]
    tune = [s for s, t in zip(pool, is_tune, strict=True) if t]
    tune_annotated = [a for a, t in zip(annotated_pool, is_tune, strict=True) if t]
    halves_of = [(i // 100) % 2 for i in range(len(fit))]
    print(f"train tweets: fit {len(fit)}, threshold-tune {len(tune)}")

    base = load_gazetteer()
    gaz = Gazetteer(base.first, base.last, names_seen(fit))
    channels = tuple(
        ch
        for part in args.channels.split(",")
        if part
        for ch in (SELF_CHANNELS if part == "self" else ("e_" + part,))
    )
    unknown = [ch for ch in channels if ch not in SELF_CHANNELS + NEIGHBOUR_CHANNELS]
    if unknown:
        parser.error(f"unknown channels: {unknown}")
    vectors = PieceVectors(EMBEDDINGS) if channels else None
    weights, dense_weights = train(
        fit,
        gaz,
        args.epochs,
        args.seed,
        args.min_count,
        halves_of,
        vectors,
        channels,
        structured=not args.local,
    )
    embedding = export_embedding(vectors, dense_weights, channels)

    def make(th: float) -> NameTagger:
        return make_tagger(weights, gaz, vectors, embedding, th)

    threshold = choose_threshold(make, tune, tune_annotated, args.target_recall)
    tagger = make(threshold)
    print(f"features kept: {len(weights)}; threshold {threshold}")
    print("tune split (threshold: names+handles R/P | names only R/P):")
    for th in (threshold + d for d in (-6, -4, -2, -1, 0, 1, 2, 4, 6)):
        curve = make(th)
        a = evaluate(tune, curve, True, tune_annotated)
        b = evaluate(tune, curve, False)
        print(
            f"  {th:6.2f}: R {a['recall']:.3f} P {a['char_precision']:.3f} | "
            f"R {b['recall']:.3f} P {b['char_precision']:.3f}"
        )

    if args.report_dev:
        btc_dev = read_conll(args.data / "btc" / "btc.dev", ("PER",))
        wnut_dev = read_conll(args.data / "wnut17" / "emerging.dev.conll", ("person",))
        for name, data in (
            ("btc.dev", btc_dev),
            ("wnut17.dev", wnut_dev),
            ("both dev", btc_dev + wnut_dev),
        ):
            for handles in (True, False):
                label = "names+handles" if handles else "names only"
                print(f"{name:11s} {label:14s} {evaluate(data, tagger, handles)}")
        both = btc_dev + wnut_dev
        print("held-out trade-off, both dev files (threshold: names+handles | names only):")
        for th in (threshold + d for d in (-12, -8, -6, -4, -2, 0, 2, 4, 6, 8)):
            curve = make(th)
            a, b = evaluate(both, curve, True), evaluate(both, curve, False)
            print(
                f"  {th:6.2f}: R {a['recall']:.3f} P {a['char_precision']:.3f} | "
                f"R {b['recall']:.3f} P {b['char_precision']:.3f}"
            )

    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": 2,
        "threshold": threshold,
        "weights": dict(sorted(weights.items())),
        "first_names": sorted(gaz.first),
        "surnames": sorted(gaz.last),
        "seen_names": sorted(gaz.seen),
        "pieces": vectors.vocab if vectors is not None else [],
        "embedding": embedding,
    }
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with (
        args.out.open("wb") as fh,
        gzip.GzipFile(filename="", fileobj=fh, mode="wb", mtime=0) as gz,
    ):
        gz.write(raw)
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) in {time.time() - started:.0f}s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
