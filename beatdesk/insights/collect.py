"""Collect what the platforms say about our accounts and posts.

* Post metrics: likes, reposts, replies, quotes and (where reported) impressions of
  every delivery published in the last 30 days, fetched hourly on its first day, every
  six hours in its first week, then daily.
* Engagers: people who liked or reposted a post, sampled (up to ``ENGAGER_SAMPLE``),
  and followers, sampled once a day (up to ``FOLLOWER_SAMPLE``). Each profile's stated
  place is resolved offline and counted as local when it falls inside the areas the
  account serves (its team's areas and everything below them; the whole agency for a
  force-wide account). Only the counts are stored, never who the people are.

Platform trouble is recorded on the channel's health like any other call; a platform
that does not offer a figure is simply not asked again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from beatdesk.channels import health
from beatdesk.channels.contract import (
    Capability,
    Connector,
    ConnectorError,
    ErrorReason,
    ProfilePage,
)
from beatdesk.channels.models import ConnectedAccount, Delivery
from beatdesk.channels.registry import connector_class
from beatdesk.channels.runtime import open_connector
from beatdesk.inbox.routing import places_for
from beatdesk.language.locality import locate
from beatdesk.language.locality.profile import stated_place

from .figures import REPLY_SOURCE, local_day
from .models import AudienceSnapshot, PostMetrics

logger = logging.getLogger("beatdesk.insights")

METRICS_WINDOW = timedelta(days=30)
METRICS_BATCH = 25
ENGAGER_SAMPLE = 100
FOLLOWER_SAMPLE = 500
PAGE = 100
MIN_CONFIDENCE = 0.5


def next_fetch(published_at: datetime, now: datetime) -> datetime:
    age = now - published_at
    if age < timedelta(days=1):
        return now + timedelta(hours=1)
    if age < timedelta(days=7):
        return now + timedelta(hours=6)
    return now + timedelta(days=1)


@dataclass
class LocalCount:
    sampled: int = 0
    located: int = 0
    local: int = 0


class AudienceJudge:
    """Decides whether profiles are local to one account's areas."""

    def __init__(self, account: ConnectedAccount) -> None:
        self.places = places_for(account.agency_id)
        served: set[int] = set()
        roots = list(account.areas.values_list("pk", flat=True))
        if account.team is not None:
            roots += list(account.team.areas.values_list("pk", flat=True))
        if not roots:  # a force-wide account serves the whole agency
            roots = list(self.places.areas)
        children: dict[int | None, list[int]] = defaultdict(list)
        for area in self.places.areas.values():
            children[area.parent_id].append(area.id)
        stack = list(roots)
        while stack:
            area_id = stack.pop()
            if area_id not in served:
                served.add(area_id)
                stack.extend(children.get(area_id, []))
        self.served = served

    def count(self, profiles: Iterable[tuple[str, str]]) -> LocalCount:
        """Count (location, description) pairs: sampled, located in the UK, local."""
        result = LocalCount()
        for location, description in profiles:
            result.sampled += 1
            text = stated_place(location, description)
            found = locate(text) if text else None
            if found is None or found.confidence < MIN_CONFIDENCE:
                continue
            result.located += 1
            area_id = self.places.area_at(found.lat, found.lon)
            if area_id is not None and area_id in self.served:
                result.local += 1
        return result


def _sample(fetch: Callable[[str], ProfilePage], limit: int) -> list[tuple[str, str]]:
    """Up to ``limit`` distinct profiles from a paged listing."""
    seen: dict[str, tuple[str, str]] = {}
    cursor = ""
    while len(seen) < limit:
        page = fetch(cursor)
        for profile in page.profiles:
            seen.setdefault(profile.platform_id, (profile.location, profile.description))
        if not page.cursor or page.cursor == cursor or not page.profiles:
            break
        cursor = page.cursor
    return list(seen.values())[:limit]


def _supports(account: ConnectedAccount, capability: Capability) -> bool:
    try:
        return capability in connector_class(account.kind).capabilities
    except LookupError:
        return False


def _usable(now: datetime) -> Q:
    return Q(status=ConnectedAccount.Status.ACTIVE) & (
        Q(paused_until__isnull=True) | Q(paused_until__lte=now)
    )


def _failed(account: ConnectedAccount, error: ConnectorError) -> None:
    if error.reason != ErrorReason.UNSUPPORTED:
        health.note_failure(account, error)


def collect_metrics(now: datetime | None = None, *, limit: int = 500) -> int:
    """Fetch metrics for the deliveries that are due; returns how many were updated."""
    now = now or timezone.now()
    due = (
        Delivery.objects.filter(
            state=Delivery.State.PUBLISHED,
            deleted_at__isnull=True,
            published_at__gte=now - METRICS_WINDOW,
        )
        .exclude(source_type=REPLY_SOURCE)
        .exclude(platform_id="")
        .filter(Q(metrics__isnull=True) | Q(metrics__next_fetch_at__lte=now))
        .filter(account__in=ConnectedAccount.objects.filter(_usable(now)))
        .select_related("account", "account__team")
        .order_by("published_at")[:limit]
    )
    by_account: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in due:
        by_account[delivery.account_id].append(delivery)
    updated = 0
    for deliveries in by_account.values():
        account = deliveries[0].account
        if not _supports(account, Capability.METRICS):
            continue
        updated += _collect_account_metrics(account, deliveries, now)
    return updated


def _collect_account_metrics(
    account: ConnectedAccount, deliveries: Sequence[Delivery], now: datetime
) -> int:
    judge = AudienceJudge(account) if _supports(account, Capability.AUDIENCE) else None
    updated = 0
    with open_connector(account) as connector:
        for start in range(0, len(deliveries), METRICS_BATCH):
            batch = deliveries[start : start + METRICS_BATCH]
            try:
                figures = {
                    m.platform_id: m
                    for m in connector.fetch_metrics([d.platform_id for d in batch])
                }
            except ConnectorError as error:
                _failed(account, error)
                return updated
            health.note_success(account, connector)
            for delivery in batch:
                metric = figures.get(delivery.platform_id)
                row = PostMetrics.objects.filter(delivery=delivery).first() or PostMetrics(
                    delivery=delivery, agency_id=delivery.agency_id
                )
                # Re-sample engagers only when likes + reposts moved since the last sample.
                sampled_at = (row.likes + row.reposts) if row.engagers_sampled else -1
                if metric is None:
                    # Gone from the platform (deleted there, or hidden): keep the last
                    # figures and stop asking daily.
                    row.last_error = "The platform no longer returns this post."
                else:
                    row.likes, row.reposts = metric.likes, metric.reposts
                    row.replies, row.quotes = metric.replies, metric.quotes
                    row.impressions = metric.impressions
                    row.last_error = ""
                    engaged = metric.likes + metric.reposts
                    if judge is not None and engaged and engaged != sampled_at:
                        sample = _engager_sample(connector, account, delivery.platform_id)
                        if sample is not None:
                            counted = judge.count(sample)
                            row.engagers_sampled = counted.sampled
                            row.engagers_located = counted.located
                            row.engagers_local = counted.local
                row.fetched_at = now
                row.next_fetch_at = next_fetch(delivery.published_at or now, now)
                row.save()
                updated += 1
    return updated


def _engager_sample(
    connector: Connector, account: ConnectedAccount, platform_id: str
) -> list[tuple[str, str]] | None:
    try:
        return _sample(
            lambda cursor: connector.fetch_engagers(platform_id, cursor, PAGE), ENGAGER_SAMPLE
        )
    except ConnectorError as error:
        _failed(account, error)
        return None


def collect_audience(now: datetime | None = None, *, limit: int = 50) -> int:
    """Take today's audience snapshot of each account that has none yet."""
    now = now or timezone.now()
    today = local_day(now)
    taken = AudienceSnapshot.objects.filter(day=today).values_list("account_id", flat=True)
    accounts = (
        ConnectedAccount.objects.filter(_usable(now))
        .exclude(pk__in=taken)
        .select_related("team", "agency")
        .order_by("pk")[:limit]
    )
    count = 0
    for account in accounts:
        if not _supports(account, Capability.PROFILES):
            continue
        snapshot = _snapshot(account, now)
        if snapshot is not None:
            count += 1
    return count


def _snapshot(account: ConnectedAccount, now: datetime) -> AudienceSnapshot | None:
    followers: int | None = None
    counted = LocalCount()
    notes: list[str] = []
    with open_connector(account) as connector:
        try:
            profile = connector.fetch_profile(account.platform_account_id or account.handle)
            followers = profile.followers
        except ConnectorError as error:
            _failed(account, error)
            if error.reason != ErrorReason.UNSUPPORTED:
                return None  # try again on a later tick
            notes.append("The platform does not give a follower count.")
        if _supports(account, Capability.AUDIENCE):
            try:
                sample = _sample(
                    lambda cursor: connector.fetch_followers(cursor, PAGE), FOLLOWER_SAMPLE
                )
                counted = AudienceJudge(account).count(sample)
            except ConnectorError as error:
                _failed(account, error)
                notes.append(f"Followers could not be sampled: {error.message}"[:200])
        else:
            notes.append("The platform does not list followers.")
        health.note_success(account, connector)
    snapshot, _ = AudienceSnapshot.objects.update_or_create(
        account=account,
        day=local_day(now),
        defaults={
            "agency_id": account.agency_id,
            "followers": followers,
            "sampled": counted.sampled,
            "located": counted.located,
            "local": counted.local,
            "taken_at": now,
            "note": " ".join(notes)[:300],
        },
    )
    return snapshot
