"""The baseline and the agreement check.

The baseline answers each request the way a first version would: the ORM aggregates the
source tables for one scope and period on every request (no daily figures, no
histograms: first-response seconds are fetched and their percentiles computed exactly).
It follows the dashboard's rules, written again here from their description in
``beatdesk/insights/figures.py`` rather than taken from it, so that the agreement check
compares two independent readings of the same rules:

- messages by triage category and priority on the day they were received;
- response figures of the conversations *started* in the period, leaving out those
  closed as spam or abuse;
- outcomes of the conversations started in the period and closed (status closed) with
  an outcome reason; intelligence reports on the day raised; appeals on the day the
  person was found, once per scope (at agency scope even with no delivery);
- posts, deliveries, purposes and engagement of the deliveries published in the period;
- audience: each account's latest successful (``ok``) snapshot in the period, summed.

Which rows a scope holds: inbound rows by the triage or conversation area (the scope's
area and the areas below it), the handling team, or the receiving account; publishing
rows by the account, its team, and the areas it or its team serves.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

    from django.db.models import Q

    from beatdesk.agencies.models import Agency
    from beatdesk.insights.dashboard import Period, Summary

    from .mix import Request


def exact_percentile(ordered: Sequence[int], fraction: float) -> float | None:
    """Nearest-rank percentile of sorted values (the value at rank ceil(f * n))."""
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered) - 1e-9))
    return float(ordered[min(rank, len(ordered)) - 1])


@dataclass
class InScope:
    """One scope's filters: triage rows, conversations, intelligence reports, and the
    accounts whose publishing and audience count (None: every account)."""

    triage: Q
    conversations: Q
    reports: Q
    account_ids: list[int] | None = field(default=None)


def in_scope(agency: Agency, scope: str, scope_id: int) -> InScope:
    from django.db.models import Q

    from beatdesk.agencies.models import Area
    from beatdesk.channels.models import ConnectedAccount

    if scope == "area":
        # The bench's areas are three deep (force area, district, neighbourhood).
        areas = list(
            Area.objects.filter(
                Q(pk=scope_id) | Q(parent_id=scope_id) | Q(parent__parent_id=scope_id)
            ).values_list("pk", flat=True)
        )
        return InScope(
            triage=Q(area_id__in=areas),
            conversations=Q(area_id__in=areas),
            reports=Q(conversation__area_id__in=areas),
            account_ids=list(
                ConnectedAccount.objects.filter(
                    Q(areas__in=areas) | Q(team__areas__in=areas), agency=agency
                )
                .values_list("pk", flat=True)
                .distinct()
            ),
        )
    if scope == "team":
        return InScope(
            triage=Q(conversation__team_id=scope_id),
            conversations=Q(team_id=scope_id),
            reports=Q(conversation__team_id=scope_id),
            account_ids=list(
                ConnectedAccount.objects.filter(agency=agency, team_id=scope_id).values_list(
                    "pk", flat=True
                )
            ),
        )
    if scope == "account":
        return InScope(
            triage=Q(message__account_id=scope_id),
            conversations=Q(account_id=scope_id),
            reports=Q(conversation__account_id=scope_id),
            account_ids=[scope_id],
        )
    return InScope(triage=Q(), conversations=Q(), reports=Q())


def naive_period(agency: Agency, scope: str, scope_id: int, period: Period) -> dict[str, Any]:
    """The dashboard's figures for one scope and period, straight from the source tables."""
    from beatdesk.insights.figures import day_bounds

    start, _ = day_bounds(period.start)
    _, end = day_bounds(period.end)
    where = in_scope(agency, scope, scope_id)
    out: dict[str, Any] = {}
    out |= naive_messages(agency, where, start, end)
    out |= naive_responses(agency, where, start, end)
    out["outcomes"] = naive_outcomes(agency, where, start, end)
    out |= naive_publishing(agency, where, start, end)
    out["audience"] = naive_audience(agency, where, period)
    located = out["audience"].get("located") or 0
    out["local_followers"] = 100.0 * out["audience"]["local"] / located if located else None
    e = out["engagement"]
    out["engagement_rate"] = (
        100.0 * e["reach_engagements"] / e["impressions"] if e["impressions"] else None
    )
    return out


def naive_messages(
    agency: Agency, where: InScope, start: datetime, end: datetime
) -> dict[str, Any]:
    from django.db.models import Count

    from beatdesk.inbox.models import MessageTriage

    out: dict[str, Any] = {"messages": 0, "by_category": {}, "by_priority": {}}
    for row in (
        MessageTriage.objects.filter(
            where.triage,
            agency=agency,
            # The messages' agency too, as the daily build does (commit 444d95c): without
            # it PostgreSQL scans every message, and the baseline would be slower than a
            # first version written with the same care.
            message__agency=agency,
            message__received_at__gte=start,
            message__received_at__lt=end,
        )
        .values("category", "priority")
        .annotate(n=Count("pk"))
    ):
        out["messages"] += row["n"]
        out["by_category"][row["category"]] = out["by_category"].get(row["category"], 0) + row["n"]
        out["by_priority"][row["priority"]] = out["by_priority"].get(row["priority"], 0) + row["n"]
    return out


def naive_responses(
    agency: Agency, where: InScope, start: datetime, end: datetime
) -> dict[str, Any]:
    """Started, responded, met and missed by priority, and exact response percentiles."""
    from beatdesk.inbox.models import Conversation

    response: dict[str, dict[str, Any]] = {}
    seconds: dict[str, list[int]] = defaultdict(list)
    conversations = Conversation.objects.filter(
        where.conversations, agency=agency, first_message_at__gte=start, first_message_at__lt=end
    ).exclude(
        # Spam and abuse closed as such are not conversations the public waited on.
        status=Conversation.Status.CLOSED,
        close_reason__in=[Conversation.CloseReason.SPAM, Conversation.CloseReason.ABUSE],
    )
    for priority, responded_at, secs, met, breached in conversations.values_list(
        "priority",
        "first_response_at",
        "first_response_seconds",
        "first_response_met",
        "breached_at",
    ):
        stats = response.setdefault(priority, {"started": 0, "responded": 0, "met": 0, "missed": 0})
        stats["started"] += 1
        if responded_at is not None:
            stats["responded"] += 1
            seconds[priority].append(secs or 0)
            if met is True:
                stats["met"] += 1
            elif met is False:
                stats["missed"] += 1
        elif breached is not None:
            stats["missed"] += 1
    everyone: list[int] = []
    for priority, values in seconds.items():
        values.sort()
        everyone.extend(values)
        response[priority]["median"] = exact_percentile(values, 0.5)
        response[priority]["p90"] = exact_percentile(values, 0.9)
    everyone.sort()
    met = sum(r["met"] for r in response.values())
    missed = sum(r["missed"] for r in response.values())
    return {
        "response": response,
        "median": exact_percentile(everyone, 0.5),
        "p90": exact_percentile(everyone, 0.9),
        "targets_met": 100.0 * met / (met + missed) if met + missed else None,
    }


def naive_outcomes(
    agency: Agency, where: InScope, start: datetime, end: datetime
) -> dict[str, int]:
    from django.db.models import Count

    from beatdesk.channels.models import Delivery
    from beatdesk.inbox.models import Conversation
    from beatdesk.intelligence.models import IntelligenceReport
    from beatdesk.publishing.models import POST_SOURCE, Post

    reasons = [
        Conversation.CloseReason.CRIME_RECORDED,
        Conversation.CloseReason.REFERRED_999,
        Conversation.CloseReason.COMPLAINT,
        Conversation.CloseReason.INTELLIGENCE,
    ]
    # On the day the conversation started, and only while it is closed so (a reopened
    # conversation no longer counts).
    outcomes: dict[str, int] = {
        row["close_reason"]: row["n"]
        for row in Conversation.objects.filter(
            where.conversations,
            agency=agency,
            first_message_at__gte=start,
            first_message_at__lt=end,
            status=Conversation.Status.CLOSED,
            close_reason__in=reasons,
        )
        .values("close_reason")
        .annotate(n=Count("pk"))
    }
    reports = IntelligenceReport.objects.filter(
        where.reports, agency=agency, created_at__gte=start, created_at__lt=end
    ).count()
    if reports:
        outcomes["intelligence_reports"] = reports

    found = [
        str(pk)
        for pk in Post.objects.filter(
            agency=agency, person_found_at__gte=start, person_found_at__lt=end
        ).values_list("pk", flat=True)
    ]
    if where.account_ids is None:
        people = len(found)  # the agency: every appeal found, whatever carried it
    else:
        people = (
            Delivery.objects.filter(
                agency=agency,
                source_type=POST_SOURCE,
                source_id__in=found,
                account_id__in=where.account_ids,
            )
            .values("source_id")
            .distinct()
            .count()
            if found
            else 0
        )
    if people:
        outcomes["people_found"] = people
    return outcomes


def naive_publishing(
    agency: Agency, where: InScope, start: datetime, end: datetime
) -> dict[str, Any]:
    from django.db.models import Count, F, Q, Sum

    from beatdesk.channels.models import Delivery
    from beatdesk.insights.figures import REPLY_SOURCE
    from beatdesk.publishing.models import POST_SOURCE, Post

    published = Delivery.objects.filter(
        agency=agency,
        state=Delivery.State.PUBLISHED,
        published_at__gte=start,
        published_at__lt=end,
    )
    if where.account_ids is not None:
        published = published.filter(account_id__in=where.account_ids)
    posts = published.filter(source_type=POST_SOURCE)
    sums = posts.aggregate(
        deliveries=Count("pk"),
        posts=Count("source_id", distinct=True),
        likes=Sum("metrics__likes"),
        reposts=Sum("metrics__reposts"),
        replies=Sum("metrics__replies"),
        quotes=Sum("metrics__quotes"),
        impressions=Sum("metrics__impressions"),
        reach_posts=Count("metrics__impressions"),
        reach_engagements=Sum(
            F("metrics__likes")
            + F("metrics__reposts")
            + F("metrics__replies")
            + F("metrics__quotes"),
            filter=Q(metrics__impressions__isnull=False),
        ),
        sampled=Sum("metrics__engagers_sampled"),
        located=Sum("metrics__engagers_located"),
        local=Sum("metrics__engagers_local"),
    )
    post_ids = {int(p) for p in posts.values_list("source_id", flat=True) if p.isdigit()}
    return {
        "posts": sums.pop("posts"),
        "deliveries": sums.pop("deliveries"),
        "engagement": {k: v or 0 for k, v in sums.items()},
        "by_purpose": {
            row["purpose"]: row["n"]
            for row in Post.objects.filter(pk__in=post_ids)
            .values("purpose")
            .annotate(n=Count("pk"))
        },
        "replies_sent": published.filter(source_type=REPLY_SOURCE).count(),
    }


def naive_audience(agency: Agency, where: InScope, period: Period) -> dict[str, int]:
    """Each account's latest successful snapshot in the period, summed (empty: none)."""
    from beatdesk.insights.models import AudienceSnapshot

    snapshots = AudienceSnapshot.objects.filter(
        agency=agency, ok=True, day__gte=period.start, day__lte=period.end
    )
    if where.account_ids is not None:
        snapshots = snapshots.filter(account_id__in=where.account_ids)
    latest = (
        snapshots.order_by("account_id", "-day")
        .distinct("account_id")  # PostgreSQL's DISTINCT ON: the first row of each account
        .values_list("followers", "sampled", "located", "local")
    )
    rows = list(latest)
    if not rows:
        return {}
    return {
        "accounts": len(rows),
        "followers": sum(followers or 0 for followers, _, _, _ in rows),
        "sampled": sum(sampled for _, sampled, _, _ in rows),
        "located": sum(located for _, _, located, _ in rows),
        "local": sum(local for _, _, _, local in rows),
    }


def naive_request(agency: Agency, request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        naive_period(agency, request.scope, request.scope_id, request.period),
        naive_period(agency, request.scope, request.scope_id, request.compare),
    )


# --------------------------------------------------------------------------- agreement


def compare_figures(naive: dict[str, Any], totals: dict[str, Any], summary: Summary) -> list[str]:
    """Where one period's naive figures and the dashboard's differ (empty: they agree).
    Counts must be equal; medians and 90th percentiles within their histogram step."""
    from beatdesk.insights.dashboard import PRIORITIES
    from beatdesk.insights.figures import BUCKET_EDGES, bucket_of

    problems: list[str] = []

    def same(name: str, a: Any, b: Any) -> None:
        if a != b:
            problems.append(f"{name}: naive {a!r}, dashboard {b!r}")

    def counts(d: dict[str, Any] | None) -> dict[str, int]:
        # Zero counts are left out on both sides: a document only holds what happened.
        return {k: int(v) for k, v in (d or {}).items() if v}

    def near(name: str, exact: float | None, read: float | None) -> None:
        if exact is None or read is None:
            same(name, exact, read)
            return
        index = bucket_of(int(exact))
        low = BUCKET_EDGES[index - 1] if index > 0 else 0
        step = BUCKET_EDGES[min(index, len(BUCKET_EDGES) - 1)] - low
        if abs(exact - read) > step + 1e-6:
            problems.append(f"{name}: naive {exact:.0f} s, dashboard {read:.0f} s (step {step} s)")

    same("messages", naive["messages"], totals.get("messages", 0))
    same("by_category", counts(naive["by_category"]), counts(totals.get("by_category")))
    same("by_priority", counts(naive["by_priority"]), counts(totals.get("by_priority")))
    for p in PRIORITIES:
        mine = naive["response"].get(p, {})
        theirs = summary.response(p)
        for key in ("started", "responded", "met", "missed"):
            same(f"response {p} {key}", mine.get(key, 0), theirs.get(key, 0))
        near(f"median {p}", mine.get("median"), summary.response_time(p, 0.5))
        near(f"p90 {p}", mine.get("p90"), summary.response_time(p, 0.9))
    near("median", naive["median"], summary.response_time(None, 0.5))
    near("p90", naive["p90"], summary.response_time(None, 0.9))
    a, b = naive["targets_met"], summary.targets_met()
    if (a is None) != (b is None) or (a is not None and b is not None and abs(a - b) > 1e-9):
        problems.append(f"targets met: naive {a}, dashboard {b}")
    same("outcomes", counts(naive["outcomes"]), counts(totals.get("outcomes")))
    same("posts", naive["posts"], totals.get("posts", 0))
    same("deliveries", naive["deliveries"], totals.get("deliveries", 0))
    same("by_purpose", counts(naive["by_purpose"]), counts(totals.get("by_purpose")))
    same("engagement", counts(naive["engagement"]), counts(totals.get("engagement")))
    same("replies_sent", naive["replies_sent"], totals.get("replies_sent", 0))
    # Every key, zeros included: the number of accounts is part of the figure.
    same("audience", naive["audience"], summary.audience)
    a, b = naive["local_followers"], summary.local_share("followers")
    if (a is None) != (b is None) or (a is not None and b is not None and abs(a - b) > 1e-9):
        problems.append(f"local follower share: naive {a}, dashboard {b}")
    return problems
