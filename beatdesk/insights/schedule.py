"""Insights on the channels loop's tick: metrics and audience collection, figure
refresh every few minutes, and the weekly leadership report on Monday morning."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import DatabaseError

from beatdesk.agencies.models import Agency

from . import collect, figures, report

logger = logging.getLogger("beatdesk.insights")
EVERY = timedelta(minutes=5)
_last_run: datetime | None = None


def run_once(now: datetime) -> None:
    collect.collect_metrics(now)
    collect.collect_audience(now)
    local = figures.local_day(now)
    weekly_due = (
        local.weekday() == 0
        and figures.day_bounds(local)[0] + timedelta(hours=report.WEEKLY_HOUR) <= now
    )
    for agency in Agency.objects.all():
        figures.refresh(agency, now=now)
        if weekly_due:
            report.make_weekly(agency, now)


def on_tick(now: datetime) -> None:
    global _last_run
    if _last_run is not None and now - _last_run < EVERY:
        return
    _last_run = now
    try:
        run_once(now)
    except DatabaseError:
        # A failed run is tried again on the next tick; nothing is half-written (each
        # day and each report is one transaction).
        logger.exception("insights run failed")
