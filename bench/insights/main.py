"""The bench from end to end: its own database, the force-year, the figures build, the
measurements and the summary. ``bench/insights_dashboard.py`` is the command line."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from typing import TYPE_CHECKING

from .generate import generate
from .measure import Timings, breakdown, check_agreement, time_baseline, time_dashboard
from .mix import PERIOD_KINDS, make_requests
from .report import machine_notes, percentile_of, profile, say, size_report, step
from .sql import (
    admin_and_bench_urls,
    create_database,
    database_exists,
    drop_database,
    execute,
    scalar,
)
from .structure import make_structure
from .traffic import SURGE_DAY, Sizes

if TYPE_CHECKING:
    from beatdesk.agencies.models import Agency

TARGET_SECONDS = 1.0  # the dashboard's p95 target at scale 1


def main(description: str) -> int:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 5M messages")
    parser.add_argument("--database-url", default=os.environ.get("BEATDESK_DATABASE_URL", ""))
    parser.add_argument("--database", default="beatdesk_bench_insights")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--baseline-rounds", type=int, default=3)
    parser.add_argument("--baseline-budget", type=float, default=900.0, help="seconds")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    url = args.database_url
    if not url.startswith(("postgres://", "postgresql://")):
        print(
            "insights_dashboard: PostgreSQL only (the target is about PostgreSQL; SQLite "
            "is refused). Run it as\n  scripts/with-postgres.sh .venv/bin/python "
            "bench/insights_dashboard.py [--scale 0.02]\nor give --database-url / "
            f"BEATDESK_DATABASE_URL=postgres://... (got {url.split(':', 1)[0] or 'nothing'})",
            file=sys.stderr,
        )
        return 2
    admin_url, bench_url = admin_and_bench_urls(url, args.database)
    exists = database_exists(admin_url, args.database)
    if exists and not args.reuse:
        print(
            f"database {args.database} exists (kept by an earlier --keep run?): pass --reuse "
            "to measure it, or --database NAME for another",
            file=sys.stderr,
        )
        return 2
    if args.reuse and not exists:
        print(f"--reuse: database {args.database} does not exist", file=sys.stderr)
        return 2
    if not exists:
        create_database(admin_url, args.database)
    # Django reads these when it is set up (in ``run``), so they are set first.
    os.environ["BEATDESK_DATABASE_URL"] = bench_url
    os.environ["BEATDESK_VAR_DIR"] = tempfile.mkdtemp(prefix="beatdesk-insights-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    try:
        return run(args, reuse=args.reuse)
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            say(f"kept database {args.database} (drop it yourself, or measure with --reuse)")
        else:
            drop_database(admin_url, args.database)
            say(f"dropped database {args.database}")


def run(args: argparse.Namespace, *, reuse: bool) -> int:
    import django

    django.setup()

    sizes = Sizes.at(args.scale)
    say(
        f"insights dashboard bench: scale {args.scale} ({sizes.messages:,} messages, "
        f"{sizes.conversations:,} conversations, {sizes.posts:,} posts) in database "
        f"{args.database}"
    )
    agency, last_day = reuse_data() if reuse else generate_data(sizes)
    build_seconds, days, figure_rows = build_figures(agency)

    mix, stress = make_requests(agency, last_day)
    print("\nrequests (each compared with the period just before):")
    for r in mix[:: len(PERIOD_KINDS)]:
        print(f"  {r.scope:<8} {r.label} (id {r.scope_id})")
    for kind in PERIOD_KINDS:
        r = next(m for m in mix if m.kind == kind)
        print(f"  {kind:<8} {r.period} vs {r.compare}")

    rng = random.Random(args.seed)
    dashboard = time_dashboard(agency, mix, stress, args.rounds, rng)
    baseline, first_round = time_baseline(
        agency, mix, args.baseline_rounds, args.baseline_budget, rng
    )
    failures = check_agreement(agency, mix, first_round)

    print("\nwhere a dashboard request's time goes (medians of 5):")
    for request in [m for m in mix if m.scope == "agency"] + [stress]:
        print(breakdown(agency, request))

    print_summary(
        agency,
        args.scale,
        dashboard,
        baseline,
        stress.kind,
        build_seconds=build_seconds,
        days=days,
        figure_rows=figure_rows,
        failures=failures,
    )
    return 1 if failures else 0


def reuse_data() -> tuple[Agency, date]:
    """The agency kept by an earlier ``--keep`` run, and its last day of data."""
    from beatdesk.agencies.models import Agency
    from beatdesk.channels.models import InboundMessage
    from beatdesk.insights.figures import local_day
    from beatdesk.insights.models import Lease

    agency = Agency.objects.get(slug="bench")
    newest = InboundMessage.objects.filter(agency=agency).latest("received_at").received_at
    say(f"reusing the kept data (newest message {newest:%Y-%m-%d %H:%M} UTC)")
    # A run killed during its build leaves the refresh lease held for an hour; nothing
    # but this bench uses its database, so the lease is freed rather than waited for.
    Lease.objects.filter(name=f"refresh:{agency.pk}").delete()
    return agency, local_day(newest)


def generate_data(sizes: Sizes) -> tuple[Agency, date]:
    """Migrate the empty bench database and load the force-year ending last midnight."""
    from django.core.management import call_command
    from django.utils import timezone

    from beatdesk.insights.figures import local_day

    with step("migrate"):
        call_command("migrate", verbosity=0)
    today = local_day(timezone.now())
    structure = make_structure(today)
    last_day = today - timedelta(days=1)
    say(
        f"generating {structure.first_day} to {last_day} (local days), surge week from "
        f"{structure.first_day + timedelta(days=SURGE_DAY)}"
    )
    began = time.perf_counter()
    generate(structure, sizes)
    say(f"generated in {time.perf_counter() - began:.1f} s")
    with step("VACUUM ANALYZE"):
        execute("VACUUM ANALYZE")
    profile(structure.agency)
    return structure.agency, last_day


def build_figures(agency: Agency) -> tuple[float, int, int]:
    """Build every day's figures, timed: (seconds, days built, DailyFigures rows)."""
    from django.db import connection

    from beatdesk.insights.figures import refresh
    from beatdesk.insights.models import DailyFigures

    began = time.perf_counter()
    days = refresh(agency, full=True)
    build_seconds = time.perf_counter() - began
    if days == 0:
        # refresh() returns 0 only when another runner holds the agency's lease.
        raise SystemExit("figures not built: another runner holds the refresh lease")
    figure_rows = DailyFigures.objects.filter(agency=agency).count()
    say(
        f"figures built: refresh(full=True) {build_seconds:.1f} s for {days} days, "
        f"{figure_rows:,} DailyFigures rows ({build_seconds / days * 1000:.0f} ms a day)"
    )
    table = DailyFigures._meta.db_table
    execute(f"ANALYZE {table}")
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT scope, count(*), avg(pg_column_size(figures)), avg(length(figures::text))"
            f" FROM {table} GROUP BY scope ORDER BY scope"
        )
        for scope, count, stored, text in cur.fetchall():
            print(
                f"    {scope:<8} {count:>7,} rows, JSON {float(text):>6.0f} chars a row "
                f"({float(stored):.0f} bytes stored)"
            )
    return build_seconds, days, figure_rows


def print_summary(
    agency: Agency,
    scale: float,
    dashboard: Timings,
    baseline: Timings,
    stress_kind: str,
    *,
    build_seconds: float,
    days: int,
    figure_rows: int,
    failures: int,
) -> None:
    all_dash, all_naive = dashboard.every(), baseline.every()
    dash_p95, naive_p95 = percentile_of(all_dash, 95), percentile_of(all_naive, 95)
    print("\nsummary")
    print(
        f"  dashboard p95 {dash_p95 * 1000:.1f} ms (median "
        f"{statistics.median(all_dash) * 1000:.1f} ms, max {max(all_dash) * 1000:.1f} ms) over "
        f"{len(all_dash)} requests"
    )
    stress = dashboard.by_kind[stress_kind]
    print(
        f"  stress ({stress_kind}, outside the mix): median "
        f"{statistics.median(stress) * 1000:.1f} ms, p95 {percentile_of(stress, 95) * 1000:.1f}"
        f" ms, max {max(stress) * 1000:.1f} ms over {len(stress)} requests"
    )
    print(
        f"  baseline  p95 {naive_p95 * 1000:.1f} ms (median "
        f"{statistics.median(all_naive) * 1000:.1f} ms, max {max(all_naive) * 1000:.1f} ms) over "
        f"{len(all_naive)} requests"
    )
    print(
        f"  ratio baseline/dashboard: p95 {naive_p95 / dash_p95:.1f}x, median "
        f"{statistics.median(all_naive) / statistics.median(all_dash):.1f}x"
    )
    for kind in PERIOD_KINDS:
        dash_median = statistics.median(dashboard.by_kind[kind])
        naive_median = statistics.median(baseline.by_kind[kind])
        print(
            f"    {kind:<8} median dashboard {dash_median * 1000:8.1f} ms,"
            f" baseline {naive_median * 1000:9.1f} ms, ratio {naive_median / dash_median:.0f}x"
        )
    print(
        f"  figures build: {build_seconds:.1f} s for {days} days "
        f"({build_seconds / days * 1000:.0f} ms a day, {figure_rows:,} DailyFigures rows)"
    )
    print("  data:")
    for table, count, size in size_report(agency):
        print(f"    {table:<32} {count:>11,} rows {size / 2**20:>9.1f} MiB")
    database_size = int(scalar("SELECT pg_database_size(current_database())"))
    print(f"    {'whole database':<32} {'':>16} {database_size / 2**20:>9.1f} MiB")
    print("  machine:")
    for line in machine_notes():
        print(f"    {line}")
    verdict = "meets" if dash_p95 < TARGET_SECONDS else "MISSES"
    print(
        f"  target dashboard p95 < {TARGET_SECONDS:.0f} s at scale {scale}: {verdict} "
        f"({dash_p95 * 1000:.1f} ms)"
    )
    print(
        f"  agreement: {'all requests agree' if not failures else f'{failures} requests DISAGREE'}"
    )
