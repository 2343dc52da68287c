"""``beatdesk locate [--in FILE]``: resolve JSONL ``{"id","text"}`` to places.

Writes one ``{"id","place","lat","lon","force","local_authority","confidence"}`` per
valid input line, in order; every field but ``id`` is null when the text is not a UK
place below country level. ``force`` is null in Scotland and Northern Ireland (outside
the ONS force lookup). Bad lines go to stderr with their line number, are skipped, and
make the exit status 2 (``beatdesk.language.jsonl``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from beatdesk.language.jsonl import Record, run_jsonl
from beatdesk.language.locality import Location, locate_many

EMPTY: dict[str, Any] = {
    "place": None,
    "lat": None,
    "lon": None,
    "force": None,
    "local_authority": None,
    "confidence": None,
}


def as_output(location: Location | None) -> dict[str, Any]:
    """The output object for one location (without ``id``)."""
    if location is None:
        return dict(EMPTY)
    return {
        "place": location.place,
        "lat": location.lat,
        "lon": location.lon,
        "force": location.force,
        "local_authority": location.local_authority,
        "confidence": location.confidence,
    }


def process(records: Sequence[Record]) -> list[dict[str, Any]]:
    return [as_output(location) for location in locate_many(r.text for r in records)]


def main(
    argv: list[str] | None = None,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Run ``beatdesk locate``; return the exit status (0, or 2 when a line was bad)."""
    parser = argparse.ArgumentParser(prog="beatdesk locate", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--in", dest="input", metavar="FILE", help="JSONL input (default: standard input)"
    )
    args = parser.parse_args(argv)
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    if args.input:
        try:
            with Path(args.input).open(encoding="utf-8") as handle:
                return run_jsonl(handle, out, err, process)
        except OSError as exc:
            print(f"cannot read {args.input}: {exc.strerror}", file=err)
            return 2
    return run_jsonl(stdin if stdin is not None else sys.stdin, out, err, process)


if __name__ == "__main__":
    raise SystemExit(main())
