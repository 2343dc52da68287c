"""Throughput and latency of ``beatdesk.language.triage.triage`` on one core.

Usage: ``python bench/triage_throughput.py [--messages 5000] [--runs 5]``

Prints messages per second (median of ``--runs`` timed passes over the same batch,
start-up and the first, artefact-loading call excluded) for ``triage()``, for the
``beatdesk triage`` command's ``main()`` (JSON Lines parsed and written), and, in the same
process, for a baseline: a naive keyword classifier (lower-case, regex tokenise, set
look-ups), i.e. the cheapest thing that could be called triage. Also prints the median
latency of a single-message call. Texts are synthetic (templates written for this bench),
so no third-party data is needed. Pin to one core with ``taskset -c 0`` for a strict figure.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from beatdesk.language.triage import triage
from beatdesk.language.triage.cli import main as cli_main

_TEMPLATES = (
    "There's a man with a {weapon} outside the {place} on {street}, please hurry",
    "My {thing} was stolen from outside the {place} on {street} last night",
    "I reported my {thing} stolen two weeks ago and nobody has called me back, useless",
    "Thank you to the officers at the {place} today, brilliant work",
    "Is the road by the {place} on {street} still closed?",
    "WIN a free {thing}!! Text CLAIM to 80088 now, T&Cs apply",
    "Heard there was a stabbing near the {place}, is it true?",
    "Drug dealing every night from the flat above the {place} on {street}",
    "I think I saw the missing lad from your appeal near the {place}",
    "you lot are useless, absolute clowns the lot of you",
    "lovely morning for a walk along {street} with the dog",
)
_FILL = {
    "weapon": ("knife", "machete", "bat", "gun"),
    "place": ("Co-op", "library", "chippy", "bus station", "school", "leisure centre"),
    "street": ("Station Road", "High Street", "Moss Lane", "Church Street", "Mill Road"),
    "thing": ("bike", "car", "phone", "van", "iPhone", "handbag"),
}
_KEYWORDS = {
    "emergency": {"knife", "gun", "help", "kill", "stabbed", "hurry"},
    "crime_report": {"stolen", "burgled", "broken", "report"},
    "complaint": {"useless", "nobody", "disgraceful"},
    "praise": {"thank", "thanks", "brilliant"},
    "spam": {"win", "free", "claim", "prize"},
}
_WORD = re.compile(r"[a-z0-9']+")


def messages(count: int, seed: int = 7) -> list[str]:
    """``count`` synthetic messages from the templates (deterministic)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        template = rng.choice(_TEMPLATES)
        out.append(template.format(**{k: rng.choice(v) for k, v in _FILL.items()}))
    return out


def keyword_baseline(texts: Sequence[str]) -> list[str]:
    """Naive classifier: the first label with a keyword in the text, else "other"."""
    result = []
    for text in texts:
        words = set(_WORD.findall(text.lower()))
        result.append(next((label for label, keys in _KEYWORDS.items() if words & keys), "other"))
    return result


def rate(function: Callable[[Sequence[str]], object], texts: Sequence[str], runs: int) -> float:
    """Median messages per second over ``runs`` passes of ``function(texts)``."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        function(texts)
        timings.append(time.perf_counter() - start)
    return len(texts) / statistics.median(timings)


def cli_rate(texts: Sequence[str], runs: int) -> float:
    """Median messages per second through ``beatdesk triage`` (JSONL in and out, in memory)."""
    jsonl = "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts))
    timings = []
    for _ in range(runs):
        out = io.StringIO()
        start = time.perf_counter()
        cli_main([], stdin=io.StringIO(jsonl), stdout=out, stderr=io.StringIO())
        timings.append(time.perf_counter() - start)
    return len(texts) / statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description="triage() throughput and latency")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    texts = messages(args.messages)
    start = time.perf_counter()
    triage(texts[:1])  # loads the artefacts: start-up, excluded from the figures below
    print(f"start-up (first call, loads artefacts): {(time.perf_counter() - start) * 1000:.0f} ms")
    ours = rate(triage, texts, args.runs)
    base = rate(keyword_baseline, texts, args.runs)
    print(f"triage():           {ours:10,.0f} messages/s  (median of {args.runs} x {len(texts)})")
    print(f"beatdesk triage CLI: {cli_rate(texts, args.runs):9,.0f} messages/s  (JSONL in and out)")
    print(f"keyword baseline:   {base:10,.0f} messages/s")
    print(f"ratio triage/baseline: {ours / base:.3f}")
    single = []
    for text in texts[:300]:
        start = time.perf_counter()
        triage([text])
        single.append(time.perf_counter() - start)
    single.sort()
    print(
        f"single-message call: median {statistics.median(single) * 1000:.2f} ms, "
        f"p99 {single[int(len(single) * 0.99) - 1] * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
