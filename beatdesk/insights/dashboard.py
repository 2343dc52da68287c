"""A dashboard: one scope, a period and the period it is compared with, read from the
daily figures. The page, the CSV and the PDF are all rendered from ``Dashboard``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from beatdesk.agencies.models import Agency
from beatdesk.publishing.models import Purpose

from .figures import audience_totals, empty, merge_into, percentile
from .models import DailyFigures, Scope

PRIORITIES = ("P1", "P2", "P3", "P4")
CATEGORY_LABELS = {
    "emergency": "Emergency",
    "crime_report": "Crime report",
    "intelligence": "Intelligence",
    "missing_person": "Missing person",
    "complaint": "Complaint",
    "question": "Question",
    "praise": "Praise",
    "abuse": "Abuse",
    "rumour": "Rumour",
    "spam": "Spam",
    "other": "Other",
}
OUTCOME_LABELS = {
    "intelligence_reports": "Intelligence reports raised",
    "crime_recorded": "Crimes reported (conversations closed as recorded)",
    "referred_999": "Referred to 999 / control room",
    "intelligence": "Conversations passed to intelligence",
    "complaint": "Complaints passed to standards",
    "people_found": "Missing people found (appeals)",
}
PURPOSE_LABELS = dict(Purpose.choices) | {"unknown": "No purpose recorded"}


def engagement_total(engagement: dict[str, int]) -> int:
    """Likes, reposts, replies and quotes of a document's ``engagement`` part."""
    return int(sum(engagement.get(k, 0) for k in ("likes", "reposts", "replies", "quotes")))


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("A period must end on or after its first day.")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def year_before(self) -> Period:
        return Period(self.start - timedelta(days=364), self.end - timedelta(days=364))

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def __str__(self) -> str:
        if self.start == self.end:
            return self.start.strftime("%-d %b %Y")
        return f"{self.start.strftime('%-d %b %Y')} to {self.end.strftime('%-d %b %Y')}"


@dataclass
class Figure:
    """One row of the headline table: a value in each period and what it means."""

    key: str
    label: str
    current: float | None
    previous: float | None
    unit: str = ""  # "", "%", "s"
    better: str = "up"  # which direction is good: up, down or "" (neither)
    note: str = ""

    @property
    def change(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def change_percent(self) -> float | None:
        if self.current is None or not self.previous:
            return None
        return 100.0 * (self.current - self.previous) / self.previous

    @property
    def verdict(self) -> str:
        """better / worse / same / "" for the eye (colour and words, never colour alone)."""
        change = self.change
        if change is None or not self.better:
            return ""
        if abs(change) < 1e-9:
            return "same"
        return "better" if (change > 0) == (self.better == "up") else "worse"


@dataclass
class Summary:
    """A period's figures summed from its days."""

    totals: dict[str, Any]
    daily: dict[date, dict[str, Any]]

    @property
    def engagement(self) -> dict[str, int]:
        return dict(self.totals.get("engagement", {}))

    def engagements(self) -> int:
        return engagement_total(self.engagement)

    def engagement_rate(self) -> float | None:
        """Engagements per impression, over the posts whose platform reports impressions."""
        e = self.engagement
        if not e.get("impressions"):
            return None
        return 100.0 * e.get("reach_engagements", 0) / e["impressions"]

    @property
    def audience(self) -> dict[str, int]:
        """Each account's latest snapshot in the period, summed (empty: none taken)."""
        per_account = self.totals.get("audience", {})
        return audience_totals(per_account) if per_account else {}

    def local_share(self, kind: str) -> float | None:
        """Share (percent) of the located sample inside the areas served: ``followers`` or
        ``engagers``."""
        source = self.audience if kind == "followers" else self.engagement
        located = source.get("located", 0)
        return 100.0 * source.get("local", 0) / located if located else None

    def response(self, priority: str) -> dict[str, Any]:
        return dict(self.totals.get("response", {}).get(priority, {}))

    def response_time(self, priority: str | None, fraction: float) -> float | None:
        hist: dict[str, int] = {}
        for p in PRIORITIES if priority is None else (priority,):
            for bucket, n in self.response(p).get("hist", {}).items():
                hist[bucket] = hist.get(bucket, 0) + n
        return percentile(hist, fraction)

    def targets_met(self, priority: str | None = None) -> float | None:
        met = missed = 0
        for p in PRIORITIES if priority is None else (priority,):
            stats = self.response(p)
            met += stats.get("met", 0)
            missed += stats.get("missed", 0)
        return 100.0 * met / (met + missed) if met + missed else None


def summarise(agency: Agency, scope: str, scope_id: int, period: Period) -> Summary:
    totals = empty()
    daily: dict[date, dict[str, Any]] = {}
    for day, figures in (
        DailyFigures.objects.filter(
            agency=agency,
            scope=scope,
            scope_id=scope_id,
            day__gte=period.start,
            day__lte=period.end,
        )
        .order_by("day")
        .values_list("day", "figures")
    ):
        daily[day] = figures
        merge_into(totals, figures)
    return Summary(totals, daily)


@dataclass
class Dashboard:
    agency: Agency
    scope: str
    scope_id: int
    scope_label: str
    period: Period
    compare: Period
    current: Summary
    previous: Summary
    headline: list[Figure] = field(default_factory=list)

    def rows_by(self, key: str, labels: dict[str, str]) -> list[tuple[str, int, int]]:
        """(label, current, previous) for a breakdown, known labels first then the rest."""
        now = self.current.totals.get(key, {})
        then = self.previous.totals.get(key, {})
        keys = [k for k in labels if k in now or k in then] + sorted(
            k for k in set(now) | set(then) if k not in labels
        )
        return [(labels.get(k) or k, int(now.get(k, 0)), int(then.get(k, 0))) for k in keys]

    def categories(self) -> list[tuple[str, int, int]]:
        return self.rows_by("by_category", CATEGORY_LABELS)

    def purposes(self) -> list[tuple[str, int, int]]:
        return self.rows_by("by_purpose", PURPOSE_LABELS)

    def outcomes(self) -> list[tuple[str, int, int]]:
        now = self.current.totals.get("outcomes", {})
        then = self.previous.totals.get("outcomes", {})
        return [
            (label, int(now.get(k, 0)), int(then.get(k, 0))) for k, label in OUTCOME_LABELS.items()
        ]

    def response_rows(self) -> list[dict[str, Any]]:
        rows = []
        for p in PRIORITIES:
            now, then = self.current.response(p), self.previous.response(p)
            rows.append(
                {
                    "priority": p,
                    "started": now.get("started", 0),
                    "responded": now.get("responded", 0),
                    "median": self.current.response_time(p, 0.5),
                    "p90": self.current.response_time(p, 0.9),
                    "met": self.current.targets_met(p),
                    "previous_started": then.get("started", 0),
                    "previous_median": self.previous.response_time(p, 0.5),
                    "previous_p90": self.previous.response_time(p, 0.9),
                    "previous_met": self.previous.targets_met(p),
                }
            )
        return rows

    @property
    def series_step(self) -> int:
        """Days per point of the charts and their table: a week for long periods."""
        return 7 if max(self.period.days, self.compare.days) > 31 else 1

    @property
    def series_unit(self) -> str:
        return "week" if self.series_step == 7 else "day"

    def series(self, which: str, step: int | None = None) -> list[tuple[int, float, float]]:
        """Values of both periods by day (or week: ``series_step``) number, aligned:
        (n, current, previous). ``step=1`` forces days."""
        step = step or self.series_step

        def value(doc: dict[str, Any] | None) -> float:
            if not doc:
                return 0.0
            if which == "engagements":
                return float(engagement_total(doc.get("engagement", {})))
            return float(doc.get(which, 0))

        def points(summary: Summary, days: list[date]) -> list[float]:
            return [
                sum(value(summary.daily.get(d)) for d in days[i : i + step])
                for i in range(0, len(days), step)
            ]

        now = points(self.current, self.period.each_day())
        then = points(self.previous, self.compare.each_day())
        length = max(len(now), len(then))
        return [
            (
                i + 1,
                now[i] if i < len(now) else 0.0,
                then[i] if i < len(then) else 0.0,
            )
            for i in range(length)
        ]


def headline_figures(current: Summary, previous: Summary) -> list[Figure]:
    def audience(s: Summary, key: str) -> float | None:
        value = s.audience.get(key)
        return float(value) if value is not None else None

    return [
        Figure(
            "local_followers",
            "Local audience share (followers)",
            current.local_share("followers"),
            previous.local_share("followers"),
            "%",
            note="Of sampled followers who state a place we recognise, the share inside the"
            " areas served.",
        ),
        Figure(
            "local_engagers",
            "Local share of people engaging",
            current.local_share("engagers"),
            previous.local_share("engagers"),
            "%",
            note="Of sampled people who liked or reposted our posts and state a place.",
        ),
        Figure(
            "followers",
            "Followers (last snapshot)",
            audience(current, "followers"),
            audience(previous, "followers"),
            note="A person following two accounts counts twice.",
        ),
        Figure("posts", "Posts published", current.totals["posts"], previous.totals["posts"]),
        Figure(
            "impressions",
            "Reach (impressions)",
            current.engagement.get("impressions"),
            previous.engagement.get("impressions"),
            note="Only platforms that report impressions (X today).",
        ),
        Figure("engagements", "Engagements", current.engagements(), previous.engagements()),
        Figure(
            "engagement_rate",
            "Engagement rate",
            current.engagement_rate(),
            previous.engagement_rate(),
            "%",
            note="Engagements per impression, on posts whose platform reports impressions.",
        ),
        Figure(
            "messages",
            "Messages from the public",
            current.totals["messages"],
            previous.totals["messages"],
            better="",
        ),
        Figure(
            "replies_sent",
            "Replies sent",
            current.totals["replies_sent"],
            previous.totals["replies_sent"],
        ),
        Figure(
            "median_response",
            "Median time to first response",
            current.response_time(None, 0.5),
            previous.response_time(None, 0.5),
            "s",
            better="down",
        ),
        Figure(
            "p90_response",
            "90th percentile time to first response",
            current.response_time(None, 0.9),
            previous.response_time(None, 0.9),
            "s",
            better="down",
        ),
        Figure(
            "targets_met",
            "Response targets met",
            current.targets_met(),
            previous.targets_met(),
            "%",
        ),
    ]


def build_dashboard(
    agency: Agency, scope: str, scope_id: int, scope_label: str, period: Period, compare: Period
) -> Dashboard:
    if scope not in Scope.values:
        raise ValueError(f"Unknown scope {scope!r}")
    current = summarise(agency, scope, scope_id, period)
    previous = summarise(agency, scope, scope_id, compare)
    return Dashboard(
        agency=agency,
        scope=scope,
        scope_id=scope_id,
        scope_label=scope_label,
        period=period,
        compare=compare,
        current=current,
        previous=previous,
        headline=headline_figures(current, previous),
    )


def format_value(value: float | None, unit: str) -> str:
    """Plain words for a figure: a dash when there is nothing to show."""
    if value is None:
        return "\u2013"
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "s":
        return format_duration(value)
    return f"{value:,.0f}"


def format_duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
