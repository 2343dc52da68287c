"""Leases: one runner at a time for each piece of insights work, on any database.

``held("refresh:7", minutes=30)`` claims the lease with one conditional UPDATE (or an
INSERT for a name never used), so of two processes asking at once exactly one wins;
the loser skips the work this time. A runner that dies leaves a lease that simply
expires.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .models import Lease


def claim(name: str, *, minutes: float) -> datetime | None:
    """The lease's expiry when claimed (the holder's token for ``release``), else None."""
    now = timezone.now()
    until = now + timedelta(minutes=minutes)
    if Lease.objects.filter(Q(name=name) & Q(until__lte=now)).update(until=until):
        return until
    if Lease.objects.filter(name=name).exists():
        return None
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, until=until)
    except IntegrityError:
        return None  # another process created it first
    return until


def release(name: str, until: datetime) -> None:
    """Give the lease back, only if it is still ours: a runner that overran its lease
    must not free the next holder's."""
    Lease.objects.filter(name=name, until=until).update(until=timezone.now())


@contextmanager
def held(name: str, *, minutes: float) -> Iterator[bool]:
    """``with held(...) as mine:`` do the work only when ``mine``; released after."""
    token = claim(name, minutes=minutes)
    try:
        yield token is not None
    finally:
        if token is not None:
            release(name, token)
