"""The channels loop: poll accounts that are due, send and reconcile deliveries.

Run as ``beatdesk channels run`` beside the task worker. Every step is an action
that is safe to run concurrently (conditional claims, per-page transactions), so
several loops may run for capacity; one is enough for a force.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType

from django.db import close_old_connections
from django.utils import timezone

from . import health, ingest, publish
from .contract import Capability
from .models import ConnectedAccount
from .registry import connector_class

logger = logging.getLogger("beatdesk.channels")

TOKEN_CHECK_EVERY = timedelta(minutes=10)
# Re-reading recent messages is how platform edits and deletions reach the desk.
REFRESH_EVERY = timedelta(minutes=5)
# Other apps' work for every tick (the inbox sweeps up untriaged messages and checks
# response targets). Each runs after the channels work; one failing never stops the rest.
TICK_LISTENERS: list[Callable[[datetime], None]] = []


@dataclass
class TickReport:
    polled: int = 0
    new_messages: int = 0
    sent: int = 0
    reconciled: int = 0


def run_once(now: datetime | None = None) -> TickReport:
    now = now or timezone.now()
    report = TickReport()
    due_accounts = list(
        ConnectedAccount.objects.filter(
            status=ConnectedAccount.Status.ACTIVE, next_poll_at__lte=now
        ).values_list("pk", flat=True)
    )
    for account_id in due_accounts:
        report.new_messages += ingest.poll_account(account_id).new
        report.polled += 1
    to_send, to_reconcile = publish.due_work(now)
    for delivery_id in to_send:
        publish.send_delivery(delivery_id)
        report.sent += 1
    for delivery_id in to_reconcile:
        publish.reconcile_delivery(delivery_id)
        report.reconciled += 1
    return report


def refresh_recent_messages() -> int:
    """Re-read recent messages of every live account whose platform allows it."""
    changed = 0
    for account_id, kind in ConnectedAccount.objects.filter(
        status=ConnectedAccount.Status.ACTIVE
    ).values_list("pk", "kind"):
        if Capability.REFRESH in connector_class(kind).capabilities:
            result = ingest.refresh_recent(account_id)
            changed += result.edited + result.deleted
    return changed


def run_forever(*, tick_seconds: float = 1.0, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    last_token_check = last_refresh = 0.0
    logger.info("channels loop started")
    while not stop.is_set():
        started = time.monotonic()
        close_old_connections()
        try:
            report = run_once()
            if started - last_token_check > TOKEN_CHECK_EVERY.total_seconds():
                health.check_token_expiry()
                last_token_check = started
            if started - last_refresh > REFRESH_EVERY.total_seconds():
                refresh_recent_messages()
                last_refresh = started
            if report.new_messages or report.sent or report.reconciled:
                logger.info(
                    "polled %d accounts, %d new messages, %d sent, %d reconciled",
                    report.polled,
                    report.new_messages,
                    report.sent,
                    report.reconciled,
                )
        except Exception:
            # One bad tick (database restart, a connector bug) must not end the loop.
            logger.exception("channels tick failed")
        for listener in TICK_LISTENERS:
            try:
                listener(timezone.now())
            except Exception:
                logger.exception("tick listener %s failed", getattr(listener, "__name__", listener))
        stop.wait(max(0.0, tick_seconds - (time.monotonic() - started)))
    logger.info("channels loop stopped")
