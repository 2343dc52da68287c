"""``beatdesk screen [--in FILE]``: screen JSON Lines posts.

Input, one object per line: ``{"id", "text", "context"?}`` where ``context`` (optional)
is an object with the fields of :class:`ScreenContext`. Output, one line per valid input
line, in order: ``{"id", "risk", "findings": [{"kind", "start", "end", "severity",
"explanation", "suggestion"}]}``.

Bad lines (invalid JSON, missing ``id``/``text``, a ``context`` that is not an object or
has a field of the wrong type) are reported on stderr as ``line N: reason``, skipped, and
make the exit status 2 (the shared driver ``beatdesk.language.jsonl.run_jsonl``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, cast

from beatdesk.language.jsonl import EXIT_BAD_INPUT, EXIT_OK, Record, run_jsonl
from beatdesk.language.screen import ScreenContext, screen, screening_to_dict

EXIT_CANNOT_READ = 1


class _ContextChecked:
    """Line source that blanks out lines whose ``context`` is invalid, after reporting them.

    Why a wrapper: the shared driver validates ``id`` and ``text`` only. A blanked line is
    ignored by the driver, so its own line numbers stay right for the other lines. The
    driver only iterates over its input, which is all this class offers.
    """

    def __init__(self, source: IO[str], stderr: IO[str]) -> None:
        self._source = source
        self._stderr = stderr
        self.bad = 0

    def __iter__(self) -> Iterator[str]:
        for number, line in enumerate(self._source, start=1):
            problem = _line_context_problem(line)
            if problem is None:
                yield line
            else:
                self.bad += 1
                print(f"line {number}: {problem}", file=self._stderr)
                yield "\n"


def _line_context_problem(line: str) -> str | None:
    if '"context"' not in line:
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None  # the driver reports it
    if not isinstance(obj, dict) or "context" not in obj:
        return None
    return _context_problem(obj["context"])


def _context_problem(value: Any) -> str | None:
    if not isinstance(value, dict):
        return '"context" must be a JSON object'
    try:
        ScreenContext.from_json(value)
    except ValueError as exc:
        return f"bad context: {exc}"
    return None


def _process(records: Sequence[Record]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for record in records:
        raw_context = record.raw.get("context")
        context = ScreenContext.from_json(raw_context) if isinstance(raw_context, dict) else None
        out.append(screening_to_dict(screen(record.text, context)))
    return out


def main(
    argv: list[str] | None = None,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Run ``beatdesk screen``; return 0, 2 when any line was bad, 1 when input is unreadable."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = argparse.ArgumentParser(
        prog="beatdesk screen", description="Screen posts before publication."
    )
    parser.add_argument(
        "--in", dest="input", metavar="FILE", help="JSONL input (default: standard input)"
    )
    args = parser.parse_args(argv)
    if args.input:
        try:
            source: IO[str] = Path(args.input).open(encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            print(f"cannot read {args.input}: {exc.strerror}", file=err)
            return EXIT_CANNOT_READ
    else:
        source = stdin or sys.stdin
    try:
        checked = _ContextChecked(source, err)
        status = run_jsonl(cast(IO[str], checked), out, err, _process)
    finally:
        if args.input:
            source.close()
    if checked.bad and status == EXIT_OK:
        return EXIT_BAD_INPUT
    return status


if __name__ == "__main__":
    raise SystemExit(main())
