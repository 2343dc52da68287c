"""Throughput of the pre-publication screen on one core.

Usage::

    python bench/screen_throughput.py [--posts 5000] [--runs 5] [--real]

Prints posts per second (median of ``--runs`` timed passes over the same batch; start-up
and the first, artefact-loading call excluded) for

- ``screen()`` called directly,
- the ``beatdesk screen`` command (``cli.main`` in-process, JSON Lines in and out), and
- a baseline in the same process: five regular expressions for phone numbers, emails,
  postcodes, registrations and NI numbers (the cheapest thing that could be called a
  personal-data screen; no names, no context rules).

Texts are synthetic police-style posts from templates written for this bench, so no
third-party data is needed. ``--real`` uses the UK police posts in
``../shared/data/screening`` instead when present (read only, never copied). Pin to one
core with ``taskset -c 0`` for a strict figure.
"""

from __future__ import annotations

import argparse
import csv
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

from beatdesk.language.screen import screen
from beatdesk.language.screen.cli import main as screen_cli

REAL_POSTS = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "screening"
    / ("uk_police_posts_train.csv")
)

_TEMPLATES = (
    "#APPEAL | We're appealing for witnesses after a {crime} on {street}, {town} on {day}. "
    "Anyone with information should call 101 quoting log {log}.",
    "{first} {last}, {age}, of {town}, has been charged with {crime} and will appear at "
    "{town} Magistrates' Court on {day}.",
    "Road closed: {street} in {town} is shut after a collision. Please avoid the area.",
    "Well done to PC {first} {last} who was commended today for bravery in {town}.",
    "@{handle} Hi {first}, thanks for getting in touch. Please report this online or call 101.",
    "Have you seen this {colour} {car}, reg {plate}? It was stolen from {street} overnight.",
    "MISSING | {first}, {age}, was last seen in {town} on {day}. Please share.",
    "Our {team} team will be at the {place} on {day} from 10am for a beat surgery. Pop in!",
    "Lock it or lose it: most bike thefts in {town} are from unlocked sheds. #CrimePrevention",
    "Call {first} on 07700 900{log3} if you saw the {crime} near {postcode}.",
)
_FILL = {
    "crime": ("burglary", "robbery", "assault", "theft", "criminal damage"),
    "street": ("Station Road", "High Street", "Moss Lane", "Church Street", "Mill Road"),
    "town": ("Wigan", "Kendal", "Stockport", "Barnsley", "Truro", "Wrexham"),
    "day": ("Monday", "Tuesday 3 May", "Friday", "Sunday evening"),
    "first": ("Sarah", "Mohammed", "Aisha", "Callum", "Olivia", "Piotr", "Grace"),
    "last": ("Hughes", "Khan", "Murphy", "Nowak", "Okafor", "Reid"),
    "age": ("17", "24", "31", "45", "68"),
    "handle": ("local_resident1", "cyclistpete", "MrsB_2019"),
    "colour": ("silver", "black", "red", "blue"),
    "car": ("Ford Focus", "Vauxhall Corsa", "VW Golf", "Transit van"),
    "plate": ("KM19 XYZ", "LD21 KPW", "T456 HJK", "YKS 372R"),
    "place": ("library", "Co-op", "leisure centre", "community centre"),
    "team": ("neighbourhood", "roads policing", "rural crime"),
    "postcode": ("M1 1AE", "LS6 3HN", "B33 8TH"),
}
_BASELINE = [
    re.compile(r"(?:\+44\s?|0)\d[\d\s-]{8,12}\d"),
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b"),
    re.compile(r"\b[A-Z]{2}\d{2} ?[A-Z]{3}\b"),
    re.compile(r"\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"),
]


def synthetic_posts(count: int, seed: int = 11) -> list[str]:
    """``count`` synthetic posts from the templates (deterministic)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        fill = {k: rng.choice(v) for k, v in _FILL.items()}
        fill["log"] = str(rng.randint(1, 999))
        fill["log3"] = f"{rng.randint(0, 999):03d}"
        out.append(rng.choice(_TEMPLATES).format(**fill))
    return out


def real_posts(count: int) -> list[str]:
    with REAL_POSTS.open(encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    return (texts * (count // len(texts) + 1))[:count]


def baseline(texts: Sequence[str]) -> int:
    """Count regex hits: the cheapest possible format-only screen."""
    return sum(1 for t in texts for rx in _BASELINE if rx.search(t))


def screen_all(texts: Sequence[str]) -> int:
    return sum(screen(t).risk != "green" for t in texts)


def make_cli_runner(texts: Sequence[str]) -> Callable[[Sequence[str]], int]:
    payload = "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts))

    def run(_: Sequence[str]) -> int:
        out = io.StringIO()
        return screen_cli([], stdin=io.StringIO(payload), stdout=out, stderr=io.StringIO())

    return run


def rate(function: Callable[[Sequence[str]], object], texts: Sequence[str], runs: int) -> float:
    """Median posts per second over ``runs`` passes of ``function(texts)``."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        function(texts)
        timings.append(time.perf_counter() - start)
    return len(texts) / statistics.median(timings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--real", action="store_true", help="use the shared UK police posts")
    args = parser.parse_args(argv)
    texts = real_posts(args.posts) if args.real else synthetic_posts(args.posts)
    screen("warm-up: loads the name model once")  # start-up excluded
    source = "UK police posts" if args.real else "synthetic posts"
    print(f"{len(texts)} {source}, median of {args.runs} runs, one process")
    print(f"  screen() direct        {rate(screen_all, texts, args.runs):8.0f} posts/s")
    print(f"  beatdesk screen (CLI)  {rate(make_cli_runner(texts), texts, args.runs):8.0f} posts/s")
    print(f"  baseline: 5 regexes    {rate(baseline, texts, args.runs):8.0f} posts/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
