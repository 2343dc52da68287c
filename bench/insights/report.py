"""What the bench prints: timestamped progress, latency tables, row counts and sizes,
and the machine it ran on."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .sql import scalar

if TYPE_CHECKING:
    from beatdesk.agencies.models import Agency

# Progress lines are stamped with the seconds since the bench started (this import).
_started = time.perf_counter()


def say(text: str) -> None:
    print(f"[{time.perf_counter() - _started:7.1f} s] {text}", flush=True)


@contextmanager
def step(label: str) -> Iterator[dict[str, Any]]:
    """Time a block and say how long it took (and how many rows, set in ``note["rows"]``)."""
    note: dict[str, Any] = {}
    began = time.perf_counter()
    yield note
    rows = f"{note['rows']:,} rows, " if "rows" in note else ""
    say(f"{label}: {rows}{time.perf_counter() - began:.1f} s")


def percentile_of(values: Sequence[float], p: float) -> float:
    """The ``p`` percentile (0-100) of measured times: the sorted value at the rounded
    rank ``p% x (n - 1)``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def latency_table(title: str, samples: dict[str, list[float]], kinds: Sequence[str]) -> None:
    print(f"\n{title}")
    print(f"  {'period':<16}{'n':>5}{'median':>12}{'p95':>12}{'max':>12}")
    rows = [(k, samples[k]) for k in kinds if samples.get(k)]
    everything = [v for k in kinds for v in samples.get(k, [])]
    for kind, values in [*rows, ("all", everything)]:
        if not values:
            continue
        print(
            f"  {kind:<16}{len(values):>5}{statistics.median(values) * 1000:>10.1f}ms"
            f"{percentile_of(values, 95) * 1000:>10.1f}ms{max(values) * 1000:>10.1f}ms"
        )


def size_report(agency: Agency) -> list[tuple[str, int, int]]:
    from beatdesk.channels.models import Delivery, InboundMessage
    from beatdesk.inbox.models import Conversation, MessageTriage, PublicContact
    from beatdesk.insights.models import AudienceSnapshot, DailyFigures, PostMetrics
    from beatdesk.intelligence.models import IntelligenceReport
    from beatdesk.publishing.models import Post

    rows = []
    for model in (
        InboundMessage,
        MessageTriage,
        Conversation,
        PublicContact,
        IntelligenceReport,
        Post,
        Delivery,
        PostMetrics,
        AudienceSnapshot,
        DailyFigures,
    ):
        table = model._meta.db_table
        count = int(scalar(f"SELECT count(*) FROM {table}"))
        size = int(scalar(f"SELECT pg_total_relation_size('{table}')"))
        rows.append((table, count, size))
    return rows


def machine_notes() -> list[str]:
    from django.db import connection

    settings = {
        name: scalar(f"SELECT current_setting('{name}')")
        for name in (
            "server_version",
            "shared_buffers",
            "work_mem",
            "effective_cache_size",
            "max_parallel_workers_per_gather",
            "jit",
        )
    }
    load = os.getloadavg()
    return [
        f"cores: {os.cpu_count()} ({platform.machine()}), load average {load[0]:.2f} "
        f"{load[1]:.2f} {load[2]:.2f}; Python {platform.python_version()}, "
        f"Django {__import__('django').get_version()}",
        f"PostgreSQL {settings['server_version']} ({connection.settings_dict['HOST']}): "
        + ", ".join(f"{k} {v}" for k, v in settings.items() if k != "server_version"),
    ]


def profile(agency: Agency) -> None:
    """What was generated, in a few lines: enough to see the shape is plausible."""
    from django.db import connection
    from django.db.models import Max

    from beatdesk.channels.models import ConnectedAccount, Delivery, InboundMessage
    from beatdesk.inbox.models import Conversation, MessageTriage
    from beatdesk.insights.models import AudienceSnapshot
    from beatdesk.publishing.models import Post

    conv = Conversation._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            "SELECT priority, count(*), avg(message_count),"
            " avg((first_response_at IS NOT NULL)::int),"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY first_response_seconds),"
            " percentile_cont(0.9) WITHIN GROUP (ORDER BY first_response_seconds),"
            " avg(first_response_met::int), avg((breached_at IS NOT NULL)::int),"
            " avg((closed_at IS NOT NULL)::int)"
            f" FROM {conv} WHERE agency_id = %s GROUP BY priority ORDER BY priority",
            [agency.pk],
        )
        print("  conversations by priority: n, messages each, responded, median / p90 first")
        print("  response, target met (of responded), breached, closed")
        for p, n, msgs, responded, median, p90, met, breached, closed in cur.fetchall():
            print(
                f"    {p} {n:>9,} {float(msgs):5.2f} {float(responded):6.1%} "
                f"{float(median or 0):8.0f} s {float(p90 or 0):8.0f} s {float(met or 0):6.1%} "
                f"{float(breached):6.1%} {float(closed):6.1%}"
            )
        cur.execute(
            f"SELECT category, count(*) FROM {MessageTriage._meta.db_table}"
            " WHERE agency_id = %s GROUP BY category ORDER BY count(*) DESC",
            [agency.pk],
        )
        print("  messages by category: " + ", ".join(f"{c} {n:,}" for c, n in cur.fetchall()))
        cur.execute(
            f"SELECT close_reason, count(*) FROM {conv} WHERE agency_id = %s"
            " AND close_reason <> '' GROUP BY close_reason ORDER BY count(*) DESC",
            [agency.pk],
        )
        print("  close reasons: " + ", ".join(f"{c} {n:,}" for c, n in cur.fetchall()))
        cur.execute(
            "SELECT min(n), percentile_cont(0.5) WITHIN GROUP (ORDER BY n), max(n),"
            " (array_agg(d ORDER BY n DESC))[1] FROM (SELECT (received_at AT TIME ZONE"
            f" 'Europe/London')::date AS d, count(*) AS n FROM {InboundMessage._meta.db_table}"
            " WHERE agency_id = %s GROUP BY 1) x",
            [agency.pk],
        )
        low, mid, high, busiest = cur.fetchone() or (0, 0, 0, None)
        print(f"  messages a day: min {low:,}, median {float(mid):,.0f}, max {high:,} ({busiest})")
        cur.execute(
            "SELECT count(*), count(DISTINCT source_id), count(*) FILTER (WHERE state <> %s)"
            f" FROM {Delivery._meta.db_table} WHERE agency_id = %s",
            [Delivery.State.PUBLISHED, agency.pk],
        )
        deliveries, posts, failed = cur.fetchone() or (0, 0, 0)
        found = Post.objects.filter(agency=agency, person_found_at__isnull=False).count()
        print(
            f"  deliveries {deliveries:,} ({failed:,} not published) for {posts:,} posts "
            f"({deliveries / max(posts, 1):.2f} accounts a post); appeals found {found:,}"
        )
    snapshots = AudienceSnapshot.objects.filter(agency=agency)
    last = snapshots.aggregate(day=Max("day"))["day"]
    silent = (
        ConnectedAccount.objects.filter(agency=agency)
        .exclude(audience_snapshots__day__gt=last - timedelta(days=7))
        .count()
        if last
        else 0
    )
    print(
        f"  audience snapshots {snapshots.count():,}: {snapshots.filter(ok=False).count():,}"
        f" failed (ok=False); {silent} accounts with none in the last 7 days"
    )
