"""Throughput of ``beatdesk.language.locality.locate`` beside an exact-lookup baseline.

Usage::

    python bench/locality_throughput.py [--repeats 7] [--size 20000]

One process, one core. Start-up (loading the index) is timed separately and excluded
from the rates. The workload is synthetic, generated from the committed index (place
names alone, with a qualifier, with "UK", postcodes, nicknames) plus non-place phrases
and places abroad, so no user text is needed. Each call is a fresh ``locate`` (no
memoisation). The baseline is the cheapest possible resolver: fold the whole text and
look it up in the index's name table, nothing else. Reports the median strings/second
over the repeats and the ratio.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from beatdesk.language.locality import locate
from beatdesk.language.locality.index import load_index
from beatdesk.language.locality.normalise import fold

NON_PLACES = [
    "somewhere over the rainbow",
    "wherever the wind blows",
    "in your dreams",
    "cyberspace",
    "12/12/12",
    "on the sofa",
    "@handle",
    "❤️ my family ❤️",
    "Mars",
    "UK",
]
ABROAD = [
    "Manchester, NH",
    "Chicago, IL",
    "Paris",
    "Perth, WA",
    "Penang, Malaysia",
    "Montreal",
    "Berlin / Dresden",
    "Oakland, CA",
]


def workload(size: int, seed: int = 7) -> list[str]:
    index = load_index()
    rng = random.Random(seed)
    towns = [i for i, rank in enumerate(index.place_rank) if rank >= 3]
    districts = sorted(index.postcode_districts)
    texts: list[str] = []
    while len(texts) < size:
        roll = rng.random()
        place = rng.choice(towns)
        name = index.place_name[place]
        if roll < 0.35:
            texts.append(name)
        elif roll < 0.55:
            texts.append(f"{name}, {index.las[index.place_la[place]].name}")
        elif roll < 0.7:
            texts.append(f"{name}, UK")
        elif roll < 0.78:
            texts.append(rng.choice(districts))
        elif roll < 0.9:
            texts.append(rng.choice(NON_PLACES))
        else:
            texts.append(rng.choice(ABROAD))
    return texts


def rate(function: Callable[[str], object], texts: list[str], repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for text in texts:
            function(text)
        rates.append(len(texts) / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--size", type=int, default=20_000)
    args = parser.parse_args()
    start = time.perf_counter()
    index = load_index()
    locate("warm-up")
    startup = time.perf_counter() - start
    names = index.names

    def exact_lookup(text: str) -> object:
        return names.get(fold(text))

    texts = workload(args.size)
    baseline = rate(exact_lookup, texts, args.repeats)
    resolver = rate(locate, texts, args.repeats)
    print(f"start-up (index load): {startup * 1000:.0f} ms")
    print(f"workload: {len(texts)} strings, median of {args.repeats} runs, one core")
    print(f"baseline exact lookup: {baseline:,.0f} strings/s")
    print(f"locate:                {resolver:,.0f} strings/s")
    print(f"ratio locate/baseline: {resolver / baseline:.3f}")


if __name__ == "__main__":
    main()
