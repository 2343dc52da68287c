"""``beatdesk triage [--in FILE]``: triage JSON Lines messages.

Reads ``{"id", "text"}`` objects, one per line, from ``--in FILE`` or standard input and
writes ``{"id", "category", "priority", "scores": {label: float}}`` for every valid line,
in input order. Bad lines are reported on standard error with their line number and
skipped; the exit status is then 2 (see ``beatdesk.language.jsonl``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO, Any

from beatdesk.language.jsonl import Record, run_jsonl
from beatdesk.language.triage import triage


def _process(records: Sequence[Record]) -> list[dict[str, Any]]:
    return [
        {"category": t.category, "priority": t.priority, "scores": t.scores}
        for t in triage([record.text for record in records])
    ]


def main(
    argv: list[str] | None = None,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Run the command with ``argv`` (without the program name); return the exit status."""
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    parser = argparse.ArgumentParser(
        prog="beatdesk triage",
        description="Classify and prioritise public messages (JSON Lines in, JSON Lines out).",
    )
    parser.add_argument("--in", dest="infile", metavar="FILE", help="read FILE instead of stdin")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return int(exc.code or 0)
    if args.infile is not None:
        try:
            with open(args.infile, encoding="utf-8") as handle:  # noqa: PTH123
                return run_jsonl(handle, stdout, stderr, _process)
        except OSError as exc:
            print(f"beatdesk triage: cannot read {args.infile}: {exc.strerror}", file=stderr)
            return 2
    return run_jsonl(stdin if stdin is not None else sys.stdin, stdout, stderr, _process)


if __name__ == "__main__":
    raise SystemExit(main())
