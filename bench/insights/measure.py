"""The measurements: the dashboard's requests, the baseline's, the agreement of their
figures, and where a dashboard request's time goes."""

from __future__ import annotations

import json
import random
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .baseline import compare_figures, naive_request
from .mix import PERIOD_KINDS, Request, dashboard_request
from .report import latency_table, say
from .sql import scalar

if TYPE_CHECKING:
    from beatdesk.agencies.models import Agency


@dataclass
class Timings:
    """Seconds per request, by period kind and by request name."""

    by_kind: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    by_request: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, request: Request, seconds: float) -> None:
        self.by_kind[request.kind].append(seconds)
        self.by_request[request.name].append(seconds)

    def every(self) -> list[float]:
        """The mix's times (the stress request is not one of its kinds)."""
        return [v for kind in PERIOD_KINDS for v in self.by_kind.get(kind, [])]

    def print_per_request(self, mix: list[Request]) -> None:
        print("  per request (median / max):")
        for request in mix:
            values = self.by_request[request.name]
            print(
                f"    {request.name:<16} {statistics.median(values) * 1000:8.1f} ms"
                f" {max(values) * 1000:8.1f} ms"
            )


def time_dashboard(
    agency: Agency, mix: list[Request], stress: Request, rounds: int, rng: random.Random
) -> Timings:
    """``rounds`` shuffled rounds of the mix after one warm-up round, then the stress
    request ``rounds`` times on its own."""
    for request in [*mix, stress]:  # warm-up round, not counted
        dashboard_request(agency, request)
    timings = Timings()
    began = time.perf_counter()
    for _ in range(rounds):
        order = list(mix)
        rng.shuffle(order)
        for request in order:
            t0 = time.perf_counter()
            dashboard_request(agency, request)
            timings.add(request, time.perf_counter() - t0)
    for _ in range(rounds):
        t0 = time.perf_counter()
        dashboard_request(agency, stress)
        timings.add(stress, time.perf_counter() - t0)
    say(f"dashboard: {rounds} rounds in {time.perf_counter() - began:.1f} s")
    latency_table(
        f"dashboard (build_dashboard + page_context), {rounds} shuffled rounds x "
        f"{len(mix)} requests, after one warm-up round",
        timings.by_kind,
        PERIOD_KINDS,
    )
    latency_table(
        "  stress, outside the mix: agency, the year compared with itself",
        timings.by_kind,
        (stress.kind,),
    )
    timings.print_per_request(mix)
    return timings


def time_baseline(
    agency: Agency, mix: list[Request], rounds: int, budget: float, rng: random.Random
) -> tuple[Timings, dict[Request, tuple[dict[str, Any], dict[str, Any]]]]:
    """Shuffled rounds of the naive aggregation until ``rounds`` are done or ``budget``
    seconds spent (the first round always completes); returns the timings and the first
    round's figures, for the agreement check."""
    timings = Timings()
    first_round: dict[Request, tuple[dict[str, Any], dict[str, Any]]] = {}
    began = time.perf_counter()
    rounds_done = 0
    stopped = ""
    for round_no in range(rounds):
        if round_no and time.perf_counter() - began > budget:
            stopped = (
                f"stopped after {rounds_done} of {rounds} rounds: the "
                f"{budget:.0f} s budget was spent"
            )
            break
        order = list(mix)
        rng.shuffle(order)
        for request in order:
            t0 = time.perf_counter()
            result = naive_request(agency, request)
            timings.add(request, time.perf_counter() - t0)
            if round_no == 0:
                first_round[request] = result
        rounds_done += 1
        say(f"baseline round {rounds_done}: {time.perf_counter() - began:.1f} s so far")
    latency_table(
        f"baseline: naive ORM aggregation per request, {rounds_done} shuffled rounds x "
        f"{len(mix)} requests (no warm-up round; each request computes both periods)",
        timings.by_kind,
        PERIOD_KINDS,
    )
    if stopped:
        print(f"  {stopped}")
    timings.print_per_request(mix)
    return timings, first_round


def check_agreement(
    agency: Agency,
    mix: list[Request],
    naive: dict[Request, tuple[dict[str, Any], dict[str, Any]]],
) -> int:
    """Every request's naive figures (both periods) against the dashboard's; returns how
    many requests disagree."""
    print("\nagreement: naive figures (first baseline round) against the dashboard's")
    failures = 0
    for request in mix:
        dashboard = dashboard_request(agency, request)
        current, previous = naive[request]
        problems = compare_figures(current, dashboard.current.totals, dashboard.current) + [
            "previous period " + p
            for p in compare_figures(previous, dashboard.previous.totals, dashboard.previous)
        ]
        median = dashboard.current.response_time(None, 0.5)
        audience = current["audience"]
        verdict = "agree" if not problems else f"DISAGREE ({len(problems)})"
        print(
            f"  {request.name:<16} {verdict}: messages {current['messages']:,}, posts "
            f"{current['posts']:,}, outcomes {sum(current['outcomes'].values()):,}, "
            f"followers {audience.get('followers', 0):,} of {audience.get('accounts', 0)} "
            f"accounts, median first response {current['median'] or 0:.0f} s exact / "
            f"{median or 0:.0f} s read"
        )
        for problem in problems[:8]:
            print(f"      {problem}")
        failures += bool(problems)
    return failures


def breakdown(agency: Agency, request: Request, repeats: int = 5) -> str:
    """Where one dashboard request's time goes: the rows' SQL, their JSON, the merging
    of the days, and the page's derived values."""
    from django.db import connection

    from beatdesk.insights.dashboard import Summary
    from beatdesk.insights.figures import empty, merge_into
    from beatdesk.insights.models import DailyFigures

    table = DailyFigures._meta.db_table
    sql = (
        f"SELECT day, figures::text FROM {table} WHERE agency_id = %s AND scope = %s"
        " AND scope_id = %s AND day >= %s AND day <= %s ORDER BY day"
    )
    fetch, decode, merge, page, rows, chars = [], [], [], [], 0, 0
    for _ in range(repeats):
        results = []
        t0 = time.perf_counter()
        for period in (request.period, request.compare):
            with connection.cursor() as cur:
                cur.execute(
                    sql,
                    [agency.pk, request.scope, request.scope_id, period.start, period.end],
                )
                results.append(cur.fetchall())
        t1 = time.perf_counter()
        docs = [[(day, json.loads(text)) for day, text in result] for result in results]
        t2 = time.perf_counter()
        summaries = []
        for result in docs:
            totals = empty()
            for _, doc in result:
                merge_into(totals, doc)
            summaries.append(Summary(totals, dict(result)))
        t3 = time.perf_counter()
        dashboard_request(agency, request)
        t4 = time.perf_counter()
        fetch.append(t1 - t0)
        decode.append(t2 - t1)
        merge.append(t3 - t2)
        page.append(t4 - t3)
        rows = sum(len(r) for r in results)
        chars = sum(len(text) for r in results for _, text in r)
    explain = scalar(
        "EXPLAIN (ANALYZE, FORMAT JSON) " + sql.replace("figures::text", "figures"),
        [agency.pk, request.scope, request.scope_id, request.period.start, request.period.end],
    )
    plan = explain[0] if isinstance(explain, list) else json.loads(explain)[0]
    return (
        f"  {request.name} ({rows} day rows, {chars / 1024:.0f} KiB of JSON): "
        f"SQL fetch {statistics.median(fetch) * 1000:.1f} ms (server execution "
        f"{plan['Execution Time']:.1f} ms for the current period), JSON decode "
        f"{statistics.median(decode) * 1000:.1f} ms, merging days "
        f"{statistics.median(merge) * 1000:.1f} ms, one whole request (build_dashboard "
        f"+ page_context) {statistics.median(page) * 1000:.1f} ms"
    )
