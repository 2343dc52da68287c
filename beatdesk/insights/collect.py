"""Collect what the platforms say about our accounts and posts.

* Post metrics: likes, reposts, replies, quotes and (where reported) impressions of
  every delivery published in the last 30 days, fetched hourly on its first day, every
  six hours in its first week, then daily.
* Engagers: people who liked or reposted a post, sampled (up to ``ENGAGER_SAMPLE``),
  and followers, sampled once a day (up to ``FOLLOWER_SAMPLE``). Each profile's stated
  place is resolved offline and counted as local when it falls inside the areas the
  account serves (its team's areas and everything below them; the whole agency for a
  force-wide account). Only the counts are stored, never who the people are.

Insights is side work: a platform error here never pauses, breaks or counts against
the channel (inbound and publishing go on); the post or account is asked again after
an hour or the platform's retry time. Credentials the connector refreshed are always
kept (refresh tokens may be single-use). One runner at a time, by lease.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db.models import Q
from django.utils import timezone

from beatdesk.channels.contract import (
    Capability,
    Connector,
    ConnectorError,
    ErrorReason,
    ProfilePage,
)
from beatdesk.channels.contract import PostMetrics as PostMetrics_
from beatdesk.channels.health import keep_refreshed_credentials
from beatdesk.channels.models import ConnectedAccount, Delivery
from beatdesk.channels.registry import connector_class
from beatdesk.channels.runtime import open_connector
from beatdesk.inbox.routing import places_for
from beatdesk.language.locality import locate
from beatdesk.language.locality.profile import stated_place

from .figures import REPLY_SOURCE, local_day
from .lease import held
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
    """Up to ``limit`` distinct profiles from a paged listing (a bounded number of
    pages, so a platform whose cursors go round in a circle cannot hold the run)."""
    seen: dict[str, tuple[str, str]] = {}
    cursor = ""
    for _page in range(MAX_PAGES):
        if len(seen) >= limit:
            break
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


RETRY_AFTER_FAILURE = timedelta(hours=1)
MAX_PAGES = ENGAGER_SAMPLE // PAGE + FOLLOWER_SAMPLE // PAGE + 2


def _backoff(error: ConnectorError, now: datetime) -> datetime:
    """When to ask again after a failure: the platform's own time, at least an hour."""
    later = now + RETRY_AFTER_FAILURE
    return max(later, error.retry_after) if error.retry_after else later


def collect_metrics(now: datetime | None = None, *, limit: int = 500) -> int:
    """Fetch metrics for the deliveries that are due; returns how many were updated.

    Insights is side work: its failures never touch the channel's health (no pause, no
    broken channel, no failure count); a failed post is asked again after an hour or
    the platform's retry time, so one bad post or platform never starves the rest.
    One runner at a time (a lease).
    """
    now = now or timezone.now()
    with held("collect-metrics", minutes=30) as mine:
        if not mine:
            return 0
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
            .select_related("account", "account__team", "metrics")
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


def _row(delivery: Delivery) -> PostMetrics:
    """The delivery's metrics row (loaded with it), or a new one."""
    try:
        return delivery.metrics
    except PostMetrics.DoesNotExist:
        return PostMetrics(delivery=delivery, agency_id=delivery.agency_id)


def _fetch(
    connector: Connector, batch: Sequence[Delivery]
) -> tuple[dict[str, PostMetrics_], dict[str, ConnectorError]]:
    """Metrics of a batch; when the platform refuses the batch because one post is gone
    (Meta answers NOT_FOUND for the whole request), each post is asked alone."""
    ids = [d.platform_id for d in batch]
    try:
        return {m.platform_id: m for m in connector.fetch_metrics(ids)}, {}
    except ConnectorError as error:
        if error.reason != ErrorReason.NOT_FOUND or len(ids) == 1:
            raise
    found: dict[str, PostMetrics_] = {}
    failed: dict[str, ConnectorError] = {}
    for platform_id in ids:
        try:
            found.update({m.platform_id: m for m in connector.fetch_metrics([platform_id])})
        except ConnectorError as error:
            if error.reason != ErrorReason.NOT_FOUND:
                raise
            failed[platform_id] = error
    return found, failed


def _collect_account_metrics(
    account: ConnectedAccount, deliveries: Sequence[Delivery], now: datetime
) -> int:
    judge = AudienceJudge(account) if _supports(account, Capability.AUDIENCE) else None
    sampling = judge is not None
    updated = 0
    with open_connector(account) as connector:
        try:
            for start in range(0, len(deliveries), METRICS_BATCH):
                batch = deliveries[start : start + METRICS_BATCH]
                try:
                    figures, gone = _fetch(connector, batch)
                except ConnectorError as error:
                    # The platform is unwell or refuses us: every post still due for
                    # this account waits, and nothing else is asked of it this run.
                    _postpone(deliveries[start:], error, now)
                    return updated
                for delivery in batch:
                    row = _row(delivery)
                    metric = figures.get(delivery.platform_id)
                    if metric is None:
                        # Gone from the platform (deleted or hidden there): the last
                        # figures stay.
                        reason = gone.get(delivery.platform_id)
                        row.last_error = (
                            reason.message if reason else "The platform no longer returns it."
                        )[:300]
                    else:
                        row.likes, row.reposts = metric.likes, metric.reposts
                        row.replies, row.quotes = metric.replies, metric.quotes
                        row.impressions = metric.impressions
                        row.last_error = ""
                        engaged = metric.likes + metric.reposts
                        if sampling and judge is not None and engaged != (row.sample_basis or 0):
                            try:
                                sample = _sample(
                                    partial(_engagers_page, connector, delivery.platform_id),
                                    ENGAGER_SAMPLE,
                                )
                            except ConnectorError as error:
                                # No more samples this run (a 429 here must not cost
                                # the metrics); figures still saved.
                                sampling = False
                                row.last_error = f"Engagers not sampled: {error.message}"[:300]
                            else:
                                counted = judge.count(sample)
                                row.engagers_sampled = counted.sampled
                                row.engagers_located = counted.located
                                row.engagers_local = counted.local
                                row.sample_basis = engaged
                    row.fetched_at = now
                    row.next_fetch_at = next_fetch(delivery.published_at or now, now)
                    row.save()
                    updated += 1
        finally:
            keep_refreshed_credentials(account, connector)
    return updated


def _engagers_page(connector: Connector, platform_id: str, cursor: str) -> ProfilePage:
    return connector.fetch_engagers(platform_id, cursor, PAGE)


def _postpone(deliveries: Sequence[Delivery], error: ConnectorError, now: datetime) -> None:
    later = _backoff(error, now)
    for delivery in deliveries:
        row = _row(delivery)
        row.last_error = error.message[:300]
        row.next_fetch_at = later
        row.save()
    logger.info("insights: metrics of %d post(s) postponed: %s", len(deliveries), error.reason)


def collect_audience(now: datetime | None = None, *, limit: int = 50) -> int:
    """Take today's audience snapshot of each account that has none yet (a failed
    attempt is tried again after an hour); returns how many were taken."""
    now = now or timezone.now()
    with held("collect-audience", minutes=60) as mine:
        if not mine:
            return 0
        today = local_day(now)
        done = AudienceSnapshot.objects.filter(day=today).filter(
            Q(ok=True) | Q(taken_at__gt=now - RETRY_AFTER_FAILURE)
        )
        accounts = (
            ConnectedAccount.objects.filter(_usable(now))
            .exclude(pk__in=done.values_list("account_id", flat=True))
            .select_related("team", "agency")
            .order_by("pk")[:limit]
        )
        count = 0
        for account in accounts:
            if not _supports(account, Capability.PROFILES):
                continue
            if _snapshot(account, now).ok:
                count += 1
        return count


def _snapshot(account: ConnectedAccount, now: datetime) -> AudienceSnapshot:
    followers: int | None = None
    counted = LocalCount()
    notes: list[str] = []
    ok = True
    with open_connector(account) as connector:
        try:
            try:
                profile = connector.fetch_profile(account.platform_account_id or account.handle)
                followers = profile.followers
            except ConnectorError as error:
                if error.reason != ErrorReason.UNSUPPORTED:
                    ok = False
                notes.append(f"No follower count: {error.message}")
            if ok and _supports(account, Capability.AUDIENCE):
                try:
                    sample = _sample(
                        lambda cursor: connector.fetch_followers(cursor, PAGE), FOLLOWER_SAMPLE
                    )
                    counted = AudienceJudge(account).count(sample)
                except ConnectorError as error:
                    notes.append(f"Followers could not be sampled: {error.message}")
            elif ok:
                notes.append("The platform does not list followers.")
        finally:
            keep_refreshed_credentials(account, connector)
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
            "ok": ok,
            "note": " ".join(notes)[:300],
        },
    )
    return snapshot
