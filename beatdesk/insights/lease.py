"""Leases: one runner at a time for each piece of insights work, on any database.

``held("refresh:7", minutes=30)`` claims the lease with one conditional UPDATE (or an
INSERT for a name never used), so of two processes asking at once exactly one wins;
the loser skips the work this time. A runner that dies leaves a lease that simply
expires.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .models import Lease


def claim(name: str, *, minutes: float) -> bool:
    now = timezone.now()
    until = now + timedelta(minutes=minutes)
    if Lease.objects.filter(Q(name=name) & Q(until__lte=now)).update(until=until):
        return True
    if Lease.objects.filter(name=name).exists():
        return False
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, until=until)
    except IntegrityError:
        return False  # another process created it first
    return True


def release(name: str) -> None:
    Lease.objects.filter(name=name).update(until=timezone.now())


@contextmanager
def held(name: str, *, minutes: float) -> Iterator[bool]:
    """``with held(...) as mine:`` do the work only when ``mine``; released after."""
    mine = claim(name, minutes=minutes)
    try:
        yield mine
    finally:
        if mine:
            release(name)
