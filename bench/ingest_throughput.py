"""Ingest throughput: normalise + store inbound messages, against a bare INSERT floor.

    python bench/ingest_throughput.py                       # SQLite in a temp folder
    scripts/with-postgres.sh sh -c '.venv/bin/python bench/ingest_throughput.py \
        --database-url "$BEATDESK_DATABASE_URL"'             # PostgreSQL

Beatdesk path (what the channels worker does per page of 100): parse each recorded
JSON line into an ``InboundItem`` (the replay connector's normaliser), then
``ingest.store_items``: look up existing ids, bulk insert, move the cursor, append one
audit event, all in one transaction.

Floor: the same rows, already normalised, inserted with one ``executemany`` per page
of 100 in one transaction each: the least work any design must do to store them.

Rounds alternate the two so machine noise hits both; the medians and their ratio are
printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PAGE = 100


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="beatdesk-bench-")
    os.environ["BEATDESK_VAR_DIR"] = folder
    os.environ["BEATDESK_DATABASE_URL"] = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    from beatdesk.agencies import actions
    from beatdesk.channels import ingest
    from beatdesk.channels.connectors.replay import ReplayConnector
    from beatdesk.channels.models import ConnectedAccount, InboundMessage

    agency = actions.create_agency(
        actor=None, name="Bench Police", short_name="BENCH", kind="police", slug="bench"
    )
    account = ConnectedAccount.objects.create(agency=agency, kind="replay", label="bench")
    table = InboundMessage._meta.db_table

    def lines(round_no: int, prefix: str) -> list[bytes]:
        return [
            json.dumps(
                {
                    "id": f"{prefix}{round_no}-{n}",
                    "text": f"Message {n}: suspicious car parked outside number {n % 90} again",
                    "author": f"user{n % 500}",
                    "display_name": f"Resident {n % 500}",
                    "location": "Salford",
                    "reply_to": f"{prefix}{round_no}-{n - 1}" if n % 4 == 3 else "",
                }
            ).encode()
            for n in range(args.messages)
        ]

    def beatdesk_round(round_no: int) -> float:
        raw = lines(round_no, "b")
        started = time.perf_counter()
        for start in range(0, len(raw), PAGE):
            items = [
                ReplayConnector._item(1.0, line, json.loads(line))
                for line in raw[start : start + PAGE]
            ]
            cursor = account.inbound_cursor
            ingest.store_items(
                account, items, expected_cursor=cursor, new_cursor=f"{round_no}:{start + PAGE}"
            )
        return float(args.messages / (time.perf_counter() - started))

    def floor_round(round_no: int) -> float:
        raw = lines(round_no, "f")
        items = [ReplayConnector._item(1.0, line, json.loads(line)) for line in raw]
        rows = [
            (
                agency.pk,
                account.pk,
                "replay",
                item.platform_id,
                item.kind.value,
                item.url,
                item.author_id,
                item.author_handle,
                item.author_display_name,
                item.author_location,
                item.text,
                "[]",
                item.reply_to_id,
                item.thread_root_id,
                item.created_at,
                item.created_at,
                item.raw,
            )
            for item in items
        ]
        sql = (
            f"INSERT INTO {table} (agency_id, account_id, platform, platform_id, kind, url, "
            "author_id, author_handle, author_display_name, author_location, text, media, "
            "reply_to_id, thread_root_id, created_at, received_at, raw_payload) "
            "VALUES (" + ", ".join(["%s"] * 17) + ")"
        )
        started = time.perf_counter()
        for start in range(0, len(rows), PAGE):
            with transaction.atomic(), connection.cursor() as cur:
                cur.executemany(sql, rows[start : start + PAGE])
        return float(args.messages / (time.perf_counter() - started))

    beatdesk_rates, floor_rates = [], []
    for round_no in range(args.rounds):
        if round_no % 2:
            floor_rates.append(floor_round(round_no))
            beatdesk_rates.append(beatdesk_round(round_no))
        else:
            beatdesk_rates.append(beatdesk_round(round_no))
            floor_rates.append(floor_round(round_no))
    stored = InboundMessage.objects.count()
    expected = 2 * args.messages * args.rounds
    assert stored == expected, f"stored {stored}, expected {expected}"
    beatdesk_median = statistics.median(beatdesk_rates)
    floor_median = statistics.median(floor_rates)
    print(
        f"database: {connection.vendor}, {args.messages} messages x {args.rounds} rounds, "
        f"pages of {PAGE}"
    )
    print(f"beatdesk ingest (normalise + store): median {beatdesk_median:,.0f} messages/s")
    print(f"bare INSERT floor:                   median {floor_median:,.0f} messages/s")
    print(f"ratio beatdesk/floor: {beatdesk_median / floor_median:.2f}")
    print("rounds (beatdesk):", ", ".join(f"{r:,.0f}" for r in beatdesk_rates))
    print("rounds (floor):   ", ", ".join(f"{r:,.0f}" for r in floor_rates))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
