"""Shared JSON Lines driver for the language command-line tools.

Every tool (``beatdesk triage``, ``beatdesk screen``, ``beatdesk locate``) reads one JSON
object per line with at least ``id`` and ``text`` and writes one JSON object per valid
input line, in input order. A bad line is reported on stderr with its 1-based line
number, skipped, and makes the exit status 2; blank lines are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

EXIT_OK = 0
EXIT_BAD_INPUT = 2


@dataclass(frozen=True)
class Record:
    """One valid input line."""

    line_number: int
    id: Any
    text: str
    raw: dict[str, Any]


def parse_lines(
    lines: Iterable[str], stderr: IO[str], first_line: int = 1
) -> tuple[list[Record], int]:
    """Parse JSONL input; return the valid records and the number of bad lines.

    ``first_line`` is the line number of the first element of ``lines``.

    A line is valid when it is a JSON object with an ``id`` (string or integer) and a
    string ``text``. Bad lines are reported on ``stderr`` as ``line N: reason``.
    """
    records: list[Record] = []
    bad = 0
    for number, line in enumerate(lines, start=first_line):
        if not line.strip():
            continue
        problem: str | None = None
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problem = f"not valid JSON ({exc.msg} at column {exc.colno})"
        else:
            if not isinstance(obj, dict):
                problem = "expected a JSON object"
            elif (
                "id" not in obj
                or not isinstance(obj["id"], (str, int))
                or isinstance(obj["id"], bool)
            ):
                problem = 'missing "id" (a string or an integer)'
            elif not isinstance(obj.get("text"), str):
                problem = 'missing "text" (a string)'
        if problem is not None:
            bad += 1
            print(f"line {number}: {problem}", file=stderr)
            continue
        records.append(Record(line_number=number, id=obj["id"], text=obj["text"], raw=obj))
    return records, bad


def run_jsonl(
    stdin: IO[str],
    stdout: IO[str],
    stderr: IO[str],
    process: Callable[[Sequence[Record]], list[dict[str, Any]]],
    batch_size: int = 512,
) -> int:
    """Stream ``stdin`` through ``process`` in batches; return the exit status.

    ``process`` receives a batch of valid records and returns one output object per
    record (without ``id``: it is added here, first, so every tool's output leads with it).
    Output is flushed per batch so a long run shows progress downstream.
    """
    bad_total = 0
    batch: list[str] = []
    offset = 0

    def flush(chunk: list[str], first_line: int) -> int:
        records, bad = parse_lines(chunk, stderr, first_line)
        if records:
            results = process(records)
            for record, result in zip(records, results, strict=True):
                stdout.write(json.dumps({"id": record.id, **result}, ensure_ascii=False) + "\n")
            stdout.flush()
        return bad

    for line in stdin:
        batch.append(line)
        if len(batch) >= batch_size:
            bad_total += flush(batch, offset + 1)
            offset += len(batch)
            batch = []
    if batch:
        bad_total += flush(batch, offset + 1)
    return EXIT_BAD_INPUT if bad_total else EXIT_OK
