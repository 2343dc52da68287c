"""Evaluate the whole screen: UK police posts (flag rates) and the labelled cases.

    .venv/bin/python beatdesk/language/screen/training/evaluate_screen.py [--split dev|heldout]

Police posts (``../shared/data/screening/uk_police_posts_train.csv``, read, never copied):
a post is held out when ``sha1(text) % 4 == 0`` (about a quarter); the rest is the
development part the severities were chosen on. Cases (``cases.jsonl`` beside this
file): ids starting ``d`` are development cases, ``h`` held-out cases written before
the rules were first run. ``--split independent`` reads ``cases_independent.jsonl``:
cases written by a second engineer who never saw the rules or the other cases (used
since to fix the rules, so no longer held out). ``--split blind2`` reads
``cases_blind2.jsonl``, a second blind set written after those fixes. They
are screened with an agency context (``allowed_domains`` police.uk and gov.uk, as a
force's own domains always are in the product) unless the case gives one; the figure
without any context is printed after it.

A case's expectation is *caught* when a finding of the expected kind overlaps the
expected substring with at least the expected severity, and *detected* when such a
finding is at least amber (both are printed per kind); ``risk`` (when given) must match
exactly and ``not_red`` cases must not come out red.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from beatdesk.language.screen import ScreenContext, screen
from beatdesk.language.screen.model import SEVERITY_RANK

HERE = Path(__file__).resolve().parent
POSTS = HERE.parents[4] / "shared" / "data" / "screening" / "uk_police_posts_train.csv"


def police_split(text: str) -> str:
    return "heldout" if int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % 4 == 0 else "dev"  # noqa: S324


def evaluate_posts(split: str, show: int) -> None:
    with POSTS.open(encoding="utf-8") as fh:
        rows = [r["text"] for r in csv.DictReader(fh)]
    texts = [t for t in rows if police_split(t) == split]
    risks: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    examples: list[str] = []
    started = time.perf_counter()
    results = [screen(t) for t in texts]
    elapsed = time.perf_counter() - started
    for text, s in zip(texts, results, strict=True):
        risks[s.risk] += 1
        for kind in {f.kind for f in s.findings if f.severity != "info"}:
            kinds[f"{kind}"] += 1
        if s.risk != "green" and len(examples) < show:
            flagged = "; ".join(
                f"{f.kind}/{f.severity}:{text[f.start : f.end]!r}"
                for f in s.findings
                if f.severity != "info"
            )
            examples.append(f"  [{s.risk}] {flagged}  <<{text[:140]!r}>>")
    n = len(texts)
    print(f"police posts ({split}): {n} posts, {n / elapsed:.0f} posts/s")
    for risk in ("green", "amber", "red"):
        print(f"  {risk:6s} {risks[risk]:5d}  {risks[risk] / n:.1%}")
    print("  posts with an amber/red finding, by kind:", dict(kinds.most_common()))
    for line in examples:
        print(line)


# A force's own domains are always configured in the product, so cases that do not give
# a context are screened as an agency would screen them (``--split independent`` only;
# the d/h cases were written against the bare default and keep it).
AGENCY_CONTEXT = ScreenContext(allowed_domains=("police.uk", "gov.uk"))


def load_cases(split: str) -> list[dict[str, Any]]:
    source = {
        "independent": "cases_independent.jsonl",
        "blind2": "cases_blind2.jsonl",
        "blind3": "cases_blind3.jsonl",
    }.get(split, "cases.jsonl")
    cases = [
        json.loads(line)
        for line in (HERE / source).read_text(encoding="utf-8").splitlines()
        if line
    ]
    return [c for c in cases if c["split"] == split]


def evaluate_cases(
    split: str, verbose: bool, default_context: ScreenContext | None = None, label: str = ""
) -> tuple[int, int, int, int, int]:
    """Print per-kind results; return (expected, caught, detected, risk_ok, risk_total).

    Two views of an expected finding, both printed:

    - *caught*: a finding of the expected kind overlaps the expected text at the expected
      severity or above (``min_severity``, amber when not given);
    - *detected*: a finding of the expected kind overlaps it at amber or above, whatever
      severity the case asked for (the author would still be stopped and told why).
    """
    cases = load_cases(split)
    by_kind: Counter[str] = Counter()
    hit_kind: Counter[str] = Counter()
    seen_kind: Counter[str] = Counter()
    risk_total = risk_ok = 0
    for case in cases:
        ctx = ScreenContext.from_json(case["context"]) if "context" in case else default_context
        text = case["text"]
        s = screen(text, ctx)
        problems: list[str] = []
        for exp in case["expect"]:
            a = text.index(exp["covers"])
            b = a + len(exp["covers"])
            need = SEVERITY_RANK[exp.get("min_severity", "amber")]
            overlapping = [
                SEVERITY_RANK[f.severity]
                for f in s.findings
                if f.kind == exp["kind"] and f.start < b and a < f.end
            ]
            ok = any(r >= need for r in overlapping)
            seen = any(r >= SEVERITY_RANK["amber"] for r in overlapping)
            by_kind[exp["kind"]] += 1
            hit_kind[exp["kind"]] += ok
            seen_kind[exp["kind"]] += seen
            if not ok:
                how = "under-rated" if seen else "missed"
                problems.append(f"{how} {exp['kind']} {exp['covers']!r}")
        if "risk" in case or case.get("not_red"):
            risk_total += 1
            good = s.risk == case["risk"] if "risk" in case else s.risk != "red"
            risk_ok += good
            if not good:
                problems.append(f"risk {s.risk}, wanted {case.get('risk', 'not red')}")
        if problems and verbose:
            found = [(f.kind, f.severity, text[f.start : f.end]) for f in s.findings]
            print(f"  {case['id']}: {'; '.join(problems)} | found {found}")
    total = sum(by_kind.values())
    caught = sum(hit_kind.values())
    detected = sum(seen_kind.values())
    print(
        f"cases ({split}{label}): {len(cases)} cases, {total} expected findings; "
        f"caught at the expected severity {caught} ({caught / max(total, 1):.0%}); "
        f"detected at amber or above {detected} ({detected / max(total, 1):.0%}); "
        f"overall risk right {risk_ok}/{risk_total}"
    )
    print(f"  {'kind':22s} {'caught@expected':>16s} {'detected>=amber':>16s}")
    for kind in sorted(by_kind):
        cell1 = f"{hit_kind[kind]}/{by_kind[kind]}"
        cell2 = f"{seen_kind[kind]}/{by_kind[kind]}"
        print(f"  {kind:22s} {cell1:>16s} {cell2:>16s}")
    return total, caught, detected, risk_ok, risk_total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--split", choices=("dev", "heldout", "independent", "blind2", "blind3"), default="dev"
    )
    parser.add_argument("--show", type=int, default=0, help="print this many flagged posts")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.split in {"independent", "blind2", "blind3"}:
        evaluate_cases(
            args.split, not args.quiet, AGENCY_CONTEXT, ", agency context: police.uk, gov.uk"
        )
        print()
        evaluate_cases(args.split, False, None, ", no context")
        return 0  # police posts have only dev and held-out parts
    evaluate_cases(args.split, not args.quiet)
    if POSTS.exists():
        evaluate_posts(args.split, args.show)
    else:
        print(f"{POSTS} not found: police-post rates skipped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
