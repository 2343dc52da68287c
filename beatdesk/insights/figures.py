"""Daily figures: built from the source rows once, read by every dashboard.

A dashboard over a force-year must answer in well under a second, and the source
tables (millions of inbound messages) cannot be aggregated that fast on each page
view. So each agency's figures are built per *local day* and per *scope* (the whole
agency, each area, each team, each account) into ``DailyFigures`` rows, one small
JSON document each; a dashboard reads one row per day of the periods it shows.

The document of one (scope, day)::

    messages            inbound messages received that day
    by_category         {category: n}  (triage category)
    by_priority         {"P1": n, ...}
    response            {"P1": {"started", "responded", "met", "missed", "hist": {bucket: n}}}
                        conversations whose first message came that day (spam and abuse
                        closed as such left out): how many got a first response, within
                        target or not, and a histogram of first-response times
                        (``BUCKET_EDGES``)
    outcomes            {"crime_recorded", "referred_999", "complaint", "intelligence"}:
                        conversations started that day and closed so; "intelligence_reports"
                        raised and "people_found" (appeals marked found) on their own day
    posts, deliveries   posts published that day (a post to three accounts is one post at
                        agency scope, one per account) and their deliveries
    replies_sent        replies to the public delivered that day
    by_purpose          {purpose: posts}
    engagement          latest platform figures of that day's deliveries: likes, reposts,
                        replies, quotes, impressions, reach_posts (deliveries whose platform
                        reports impressions), reach_engagements (their engagements), and the
                        engager sample: sampled, located, local
    audience            {account id: [followers, sampled, located, local]} from that day's
                        snapshots (a level, not a flow: a period takes each account's
                        latest snapshot in it)

Which scopes a row counts in: inbound figures (messages, response, outcomes) follow
where the message is *about* and who *handled* it: the triage area and its parent
areas, the handling team, the receiving account. Publishing figures follow the
*account*: its team and that team's areas (with their parents).

Days are refreshed when their source rows change (``refresh``), so a late reply or
new platform metrics for an old post correct the day they belong to.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from beatdesk.agencies.models import Agency, Area
from beatdesk.channels.models import ConnectedAccount, Delivery, InboundMessage
from beatdesk.inbox.models import Conversation, MessageTriage
from beatdesk.intelligence.models import IntelligenceReport
from beatdesk.publishing.models import POST_SOURCE, Post

from .lease import held
from .models import AudienceSnapshot, BuildState, DailyFigures, Scope

REPLY_SOURCE = "inbox.reply"
OUTCOME_REASONS = (
    Conversation.CloseReason.CRIME_RECORDED,
    Conversation.CloseReason.REFERRED_999,
    Conversation.CloseReason.COMPLAINT,
    Conversation.CloseReason.INTELLIGENCE,
)
NOT_ANSWERED = (Conversation.CloseReason.SPAM, Conversation.CloseReason.ABUSE)
# Changes committed a little after their timestamps (long transactions) are still seen.
CHANGE_OVERLAP = timedelta(minutes=5)
CONVERSATION_SPAN = timedelta(days=31)


def _edges() -> tuple[int, ...]:
    """Upper edges (seconds) of the first-response histogram: 30 s steps to 10 minutes,
    then 1 minute to 30, 5 minutes to 2 hours, 15 minutes to 8 hours, 1 hour to 2 days,
    6 hours to a week. A percentile read from it is within one step of the exact one."""
    edges: list[int] = []
    for step, until in (
        (30, 600),
        (60, 1800),
        (300, 7200),
        (900, 28800),
        (3600, 172800),
        (21600, 604800),
    ):
        start = edges[-1] if edges else 0
        edges.extend(range(start + step, until + 1, step))
    return tuple(edges)


BUCKET_EDGES = _edges()


def bucket_of(seconds: int) -> int:
    """Histogram bucket of a response time; the last bucket is everything above a week."""
    return bisect.bisect_left(BUCKET_EDGES, seconds)


def percentile(hist: dict[str, int], fraction: float) -> float | None:
    """The ``fraction`` percentile (0-1) of a histogram, interpolated within its bucket;
    None for an empty histogram. Above-a-week times count as one week."""
    total = sum(hist.values())
    if total == 0:
        return None
    rank = fraction * total
    seen = 0
    for bucket in sorted(hist, key=int):
        count = hist[bucket]
        index = int(bucket)
        if seen + count >= rank and count:
            low = BUCKET_EDGES[index - 1] if 0 < index <= len(BUCKET_EDGES) else 0
            if index >= len(BUCKET_EDGES):
                return float(BUCKET_EDGES[-1])
            high = BUCKET_EDGES[index]
            return low + (high - low) * max(0.0, rank - seen) / count
        seen += count
    return float(BUCKET_EDGES[-1])


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants a local day starts and ends (23 or 25 hours at clock changes)."""
    zone = local_zone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment, local_zone()).date()


# --------------------------------------------------------------------------- documents


def empty() -> dict[str, Any]:
    return {
        "messages": 0,
        "by_category": {},
        "by_priority": {},
        "response": {},
        "outcomes": {},
        "posts": 0,
        "deliveries": 0,
        "replies_sent": 0,
        "by_purpose": {},
        "engagement": {},
        "audience": {},
    }


def _bump(counter: dict[str, Any], key: str, amount: int = 1) -> None:
    counter[key] = counter.get(key, 0) + amount


def merge_into(total: dict[str, Any], day: dict[str, Any]) -> None:
    """Add one day's document to a running total. Audience is a level, per account: a
    later day's snapshot of an account replaces the earlier one."""
    for key, value in day.items():
        if key == "audience":
            total.setdefault("audience", {}).update(value)
        elif isinstance(value, dict):
            merge_into(total.setdefault(key, {}), value)
        elif isinstance(value, int | float):
            total[key] = total.get(key, 0) + value


# --------------------------------------------------------------------------- structure


@dataclass
class AgencyShape:
    """Which scopes a row counts in: area parents, account teams, the areas an account
    serves (its own and its team's)."""

    area_parent: dict[int, int | None]
    account_team: dict[int, int | None]
    team_areas: dict[int, list[int]]
    account_areas: dict[int, list[int]]

    @classmethod
    def load(cls, agency: Agency) -> AgencyShape:
        from beatdesk.agencies.models import Team

        team_areas: dict[int, list[int]] = defaultdict(list)
        for team_id, area_id in Team.areas.through.objects.filter(team__agency=agency).values_list(
            "team_id", "area_id"
        ):
            team_areas[team_id].append(area_id)
        account_areas: dict[int, list[int]] = defaultdict(list)
        for account_id, area_id in ConnectedAccount.areas.through.objects.filter(
            connectedaccount__agency=agency
        ).values_list("connectedaccount_id", "area_id"):
            account_areas[account_id].append(area_id)
        return cls(
            area_parent=dict(Area.objects.filter(agency=agency).values_list("id", "parent_id")),
            account_team=dict(
                ConnectedAccount.objects.filter(agency=agency).values_list("id", "team_id")
            ),
            team_areas=dict(team_areas),
            account_areas=dict(account_areas),
        )

    def with_parents(self, area_ids: Iterable[int | None]) -> set[int]:
        found: set[int] = set()
        for area_id in area_ids:
            current = area_id
            while current is not None and current not in found:
                found.add(current)
                current = self.area_parent.get(current)
        return found

    def inbound_scopes(
        self, account_id: int | None, team_id: int | None, area_id: int | None
    ) -> list[tuple[str, int]]:
        keys = [(Scope.AGENCY.value, 0)]
        if account_id is not None:
            keys.append((Scope.ACCOUNT.value, account_id))
        if team_id is not None:
            keys.append((Scope.TEAM.value, team_id))
        keys += [(Scope.AREA.value, a) for a in self.with_parents([area_id])]
        return keys

    def account_scopes(self, account_id: int) -> list[tuple[str, int]]:
        keys = [(Scope.AGENCY.value, 0), (Scope.ACCOUNT.value, account_id)]
        served = list(self.account_areas.get(account_id, []))
        team_id = self.account_team.get(account_id)
        if team_id is not None:
            keys.append((Scope.TEAM.value, team_id))
            served += self.team_areas.get(team_id, [])
        keys += [(Scope.AREA.value, a) for a in self.with_parents(served)]
        return keys


# --------------------------------------------------------------------------- building


def compute_day(agency: Agency, day: date, shape: AgencyShape) -> dict[tuple[str, int], Any]:
    """Every scope's document for one local day, from the source rows."""
    start, end = day_bounds(day)
    docs: dict[tuple[str, int], dict[str, Any]] = defaultdict(empty)

    for account_id, team_id, area_id, category, priority, count in (
        MessageTriage.objects.filter(
            # ``message__agency`` too, so PostgreSQL reads the messages' (agency,
            # received_at) index for the day instead of scanning all of it.
            agency=agency,
            message__agency=agency,
            message__received_at__gte=start,
            message__received_at__lt=end,
        )
        .values_list(
            "message__account_id", "conversation__team_id", "area_id", "category", "priority"
        )
        .order_by()
        .annotate(n=Count("pk"))
    ):
        for key in shape.inbound_scopes(account_id, team_id, area_id):
            doc = docs[key]
            doc["messages"] += count
            _bump(doc["by_category"], category, count)
            _bump(doc["by_priority"], priority, count)

    for row in Conversation.objects.filter(
        agency=agency, first_message_at__gte=start, first_message_at__lt=end
    ).values_list(
        "account_id",
        "team_id",
        "area_id",
        "priority",
        "first_response_at",
        "first_response_seconds",
        "first_response_met",
        "breached_at",
        "status",
        "close_reason",
    ):
        (
            account_id,
            team_id,
            area_id,
            priority,
            responded_at,
            seconds,
            met,
            breached,
            status,
            reason,
        ) = row
        keys = shape.inbound_scopes(account_id, team_id, area_id)
        closed = status == Conversation.Status.CLOSED
        if closed and reason in OUTCOME_REASONS:
            # Outcomes belong to the day the conversation started, like its response:
            # a reopened conversation stops counting, and is counted once when closed
            # again (its day is rebuilt whenever the conversation changes).
            for key in keys:
                _bump(docs[key]["outcomes"], reason)
        if closed and reason in NOT_ANSWERED:
            continue  # spam and abuse closed in bulk are not responses to the public
        for key in keys:
            stats = docs[key]["response"].setdefault(priority, {"hist": {}})
            _bump(stats, "started")
            if responded_at is not None:
                _bump(stats, "responded")
                _bump(stats["hist"], str(bucket_of(seconds or 0)))
                if met is True:
                    _bump(stats, "met")
                elif met is False:
                    _bump(stats, "missed")
            elif breached is not None:
                _bump(stats, "missed")

    for account_id, team_id, area_id in IntelligenceReport.objects.filter(
        agency=agency, created_at__gte=start, created_at__lt=end
    ).values_list("conversation__account_id", "conversation__team_id", "conversation__area_id"):
        for key in shape.inbound_scopes(account_id, team_id, area_id):
            _bump(docs[key]["outcomes"], "intelligence_reports")

    found_posts = list(
        Post.objects.filter(
            agency=agency, person_found_at__gte=start, person_found_at__lt=end
        ).values_list("pk", flat=True)
    )
    if found_posts:
        post_accounts: dict[str, set[int]] = {str(p): set() for p in found_posts}
        for source_id, account_id in Delivery.objects.filter(
            agency=agency, source_type=POST_SOURCE, source_id__in=list(post_accounts)
        ).values_list("source_id", "account_id"):
            post_accounts[source_id].add(account_id)
        for accounts in post_accounts.values():
            # Once per scope, however many of its accounts carried the appeal (and at
            # agency scope even when it went out through none).
            found_in = {(Scope.AGENCY.value, 0)} | {
                key for account_id in accounts for key in shape.account_scopes(account_id)
            }
            for key in found_in:
                _bump(docs[key]["outcomes"], "people_found")

    _add_deliveries(agency, start, end, shape, docs)
    _add_audience(agency, day, shape, docs)
    return docs


def _add_deliveries(
    agency: Agency,
    start: datetime,
    end: datetime,
    shape: AgencyShape,
    docs: dict[tuple[str, int], dict[str, Any]],
) -> None:
    rows = list(
        Delivery.objects.filter(
            agency=agency,
            state=Delivery.State.PUBLISHED,
            published_at__gte=start,
            published_at__lt=end,
            source_type__in=[POST_SOURCE, REPLY_SOURCE],
        ).values_list(
            "pk",
            "account_id",
            "source_type",
            "source_id",
            "metrics__likes",
            "metrics__reposts",
            "metrics__replies",
            "metrics__quotes",
            "metrics__impressions",
            "metrics__engagers_sampled",
            "metrics__engagers_located",
            "metrics__engagers_local",
        )
    )
    post_ids = {int(r[3]) for r in rows if r[2] == POST_SOURCE and r[3].isdigit()}
    purposes = dict(Post.objects.filter(pk__in=post_ids).values_list("pk", "purpose"))
    posts_in_scope: dict[tuple[str, int], set[str]] = defaultdict(set)
    for (
        _pk,
        account_id,
        source_type,
        source_id,
        likes,
        reposts,
        replies,
        quotes,
        impressions,
        sampled,
        located,
        local,
    ) in rows:
        keys = shape.account_scopes(account_id)
        if source_type == REPLY_SOURCE:
            for key in keys:
                docs[key]["replies_sent"] += 1
            continue
        engagements = (likes or 0) + (reposts or 0) + (replies or 0) + (quotes or 0)
        for key in keys:
            doc = docs[key]
            doc["deliveries"] += 1
            if source_id not in posts_in_scope[key]:
                posts_in_scope[key].add(source_id)
                doc["posts"] += 1
                purpose = purposes.get(int(source_id)) if source_id.isdigit() else None
                _bump(doc["by_purpose"], purpose or "unknown")
            engagement = doc["engagement"]
            _bump(engagement, "likes", likes or 0)
            _bump(engagement, "reposts", reposts or 0)
            _bump(engagement, "replies", replies or 0)
            _bump(engagement, "quotes", quotes or 0)
            if impressions is not None:
                _bump(engagement, "impressions", impressions)
                _bump(engagement, "reach_posts")
                _bump(engagement, "reach_engagements", engagements)
            _bump(engagement, "sampled", sampled or 0)
            _bump(engagement, "located", located or 0)
            _bump(engagement, "local", local or 0)


def _add_audience(
    agency: Agency, day: date, shape: AgencyShape, docs: dict[tuple[str, int], dict[str, Any]]
) -> None:
    """Each account's snapshot of the day, kept per account (``{account id: [followers,
    sampled, located, local]}``), so a period can take each account's latest one."""
    for account_id, followers, sampled, located, local in AudienceSnapshot.objects.filter(
        agency=agency, day=day, ok=True
    ).values_list("account_id", "followers", "sampled", "located", "local"):
        for key in shape.account_scopes(account_id):
            docs[key]["audience"][str(account_id)] = [followers, sampled, located, local]


def audience_totals(audience: dict[str, list[int | None]]) -> dict[str, int]:
    """Sum the accounts' latest snapshots: followers (of accounts that report them),
    the located sample, and how many accounts there are."""
    totals = {"accounts": len(audience), "followers": 0, "sampled": 0, "located": 0, "local": 0}
    for followers, sampled, located, local in audience.values():
        totals["followers"] += followers or 0
        totals["sampled"] += sampled or 0
        totals["located"] += located or 0
        totals["local"] += local or 0
    return totals


def build_days(agency: Agency, days: Iterable[date], *, now: datetime | None = None) -> int:
    """(Re)build the figures of ``days``; returns how many days were built. Each day is
    replaced whole in its own transaction, so a reader sees the old or the new day."""
    shape = AgencyShape.load(agency)
    built_at = now or timezone.now()
    count = 0
    for day in sorted(set(days)):
        docs = compute_day(agency, day, shape)
        with transaction.atomic():
            DailyFigures.objects.filter(agency=agency, day=day).delete()
            DailyFigures.objects.bulk_create(
                DailyFigures(
                    agency=agency,
                    scope=scope,
                    scope_id=scope_id,
                    day=day,
                    figures=doc,
                    built_at=built_at,
                )
                for (scope, scope_id), doc in docs.items()
            )
        count += 1
    return count


def changed_days(agency: Agency, since: datetime) -> set[date]:
    """The local days whose figures rows changed after ``since`` may have altered."""
    days: set[date] = set()
    days |= _distinct_days(
        InboundMessage.objects.filter(agency=agency, received_at__gt=since), "received_at"
    )
    days |= _distinct_days(
        MessageTriage.objects.filter(agency=agency, triaged_at__gt=since), "message__received_at"
    )
    # A changed conversation (response, routing, priority, close, reopen) changes the
    # figures of every day it has messages on (capped: a thread running for months
    # needs ``beatdesk insights rebuild`` to move its older days).
    for first, last in Conversation.objects.filter(
        Q(agency=agency) & (Q(first_message_at__gt=since) | Q(updated_at__gt=since))
    ).values_list("first_message_at", "last_message_at"):
        day, end = local_day(first), min(local_day(last), local_day(first) + CONVERSATION_SPAN)
        while day <= end:
            days.add(day)
            day += timedelta(days=1)
    days |= _distinct_days(
        IntelligenceReport.objects.filter(agency=agency, created_at__gt=since), "created_at"
    )
    days |= _distinct_days(
        Post.objects.filter(agency=agency, person_found_at__gt=since), "person_found_at"
    )
    days |= _distinct_days(
        Delivery.objects.filter(agency=agency, published_at__gt=since), "published_at"
    )
    days |= _distinct_days(
        Delivery.objects.filter(agency=agency, published_at__isnull=False, updated_at__gt=since),
        "published_at",
    )
    days |= _distinct_days(
        Delivery.objects.filter(
            agency=agency, published_at__isnull=False, metrics__fetched_at__gt=since
        ),
        "published_at",
    )
    days |= set(
        AudienceSnapshot.objects.filter(agency=agency, taken_at__gt=since)
        .values_list("day", flat=True)
        .distinct()
    )
    return days


def _distinct_days(queryset: Any, field: str) -> set[date]:
    return {
        moment.date() for moment in queryset.order_by().datetimes(field, "day", tzinfo=local_zone())
    }


def first_day(agency: Agency) -> date | None:
    """The earliest local day any figure could be built for."""
    candidates = [
        InboundMessage.objects.filter(agency=agency).aggregate(m=Min("received_at"))["m"],
        Conversation.objects.filter(agency=agency).aggregate(m=Min("first_message_at"))["m"],
        Delivery.objects.filter(agency=agency).aggregate(m=Min("published_at"))["m"],
    ]
    snapshot_day = AudienceSnapshot.objects.filter(agency=agency).aggregate(m=Min("day"))["m"]
    days = [local_day(c) for c in candidates if c is not None]
    if snapshot_day is not None:
        days.append(snapshot_day)
    return min(days) if days else None


def _every_day(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def refresh(agency: Agency, *, now: datetime | None = None, full: bool = False) -> int:
    """Bring an agency's daily figures up to date; returns the number of days built.

    The first run (or ``full``) builds every day from the first data to today; later
    runs rebuild today and the days whose source rows changed since the last run. One
    runner per agency at a time (a lease); another finds it busy and returns 0.
    """
    now = now or timezone.now()
    with held(f"refresh:{agency.pk}", minutes=60) as mine:
        if not mine:
            return 0
        state, _ = BuildState.objects.get_or_create(agency=agency)
        today = local_day(now)
        if full or state.changes_seen_until is None:
            first = first_day(agency)
            days = set(_every_day(first, today)) if first else {today}
        else:
            days = changed_days(agency, state.changes_seen_until - CHANGE_OVERLAP) | {today}
        built = build_days(agency, days, now=now)
        BuildState.objects.filter(pk=state.pk).update(
            changes_seen_until=now, built_at=timezone.now()
        )
        return built
