"""Insights on the background worker (enqueued by the channels loop's tick)."""

from __future__ import annotations

from django.tasks import task
from django.utils import timezone

from . import schedule


@task()
def run_insights() -> str:
    schedule.run_once(timezone.now())
    return "done"
