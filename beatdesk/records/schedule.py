"""Run the disposal job once a day from the channels loop's tick."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from .actions import run_disposal

logger = logging.getLogger("beatdesk.records")
EVERY = timedelta(days=1)
_last_run: datetime | None = None


def on_tick(now: datetime) -> None:
    global _last_run
    if _last_run is not None and now - _last_run < EVERY:
        return
    # Rows are claimed with SKIP LOCKED, so two loops running this at once never erase
    # or log the same record twice; a failed run is tried again on the next tick.
    report = run_disposal(now=now)
    _last_run = now
    total = sum(len(ids) for ids in report.erased.values())
    if total:
        logger.info("records disposal erased %d record(s)", total)
