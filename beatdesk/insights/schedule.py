"""Insights work on a schedule: metrics and audience collection, figure refresh every
few minutes, and the weekly leadership report once Monday 06:00 (local) has passed.

The channels loop only *enqueues* the run (``tasks.run_insights``) every five minutes;
the background worker does it, so platform calls, builds and PDFs never delay the
loop's polling (a P1 must surface in seconds). A run still waiting or running is not
enqueued again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.tasks import TaskResultStatus
from django.tasks.exceptions import TaskResultDoesNotExist

from beatdesk.agencies.models import Agency

from . import collect, figures, report

logger = logging.getLogger("beatdesk.insights")
EVERY = timedelta(minutes=5)
_last_enqueued: datetime | None = None
_pending_id: str | None = None


def weekly_due(now: datetime) -> bool:
    """True from Monday 06:00 local time on (the week before is then complete)."""
    today = figures.local_day(now)
    monday = today - timedelta(days=today.weekday())
    return now >= figures.day_bounds(monday)[0] + timedelta(hours=report.WEEKLY_HOUR)


def run_once(now: datetime) -> None:
    """One insights run. Each step and each agency fails alone (logged), so one bad
    agency or platform never stops the others' figures or reports."""
    for step in (collect.collect_metrics, collect.collect_audience):
        try:
            step(now)
        except Exception:
            logger.exception("insights %s failed", step.__name__)
    make_weekly = weekly_due(now)
    for agency in Agency.objects.all():
        try:
            figures.refresh(agency, now=now)
            if make_weekly:
                report.make_weekly(agency, now)
        except Exception:
            logger.exception("insights run for agency %s failed", agency.pk)


def on_tick(now: datetime) -> None:
    global _last_enqueued, _pending_id
    if _last_enqueued is not None and now - _last_enqueued < EVERY:
        return
    from .tasks import run_insights

    if _pending_id is not None:
        try:
            status = run_insights.get_result(_pending_id).status
        except TaskResultDoesNotExist:
            status = TaskResultStatus.FAILED
        if status in (TaskResultStatus.READY, TaskResultStatus.RUNNING):
            return  # the worker has not finished the last one (or is not running)
    _pending_id = run_insights.enqueue().id
    _last_enqueued = now
