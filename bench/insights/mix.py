"""The requests measured: four scopes (the agency, its busiest district, neighbourhood
team and account) x four periods (7 days, 28 days, the last calendar quarter, the
year), each compared with the period before; and the stress request, the year
compared with itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from .traffic import DAYS

if TYPE_CHECKING:
    from beatdesk.agencies.models import Agency
    from beatdesk.insights.dashboard import Dashboard, Period


@dataclass(frozen=True)
class Request:
    scope: str
    scope_id: int
    label: str
    kind: str  # the period's name
    period: Period
    compare: Period

    @property
    def name(self) -> str:
        return f"{self.scope:<7} {self.kind}"


PERIOD_KINDS = ("7 days", "28 days", "quarter", "year")


def last_quarter(last_day: date) -> tuple[date, date]:
    """The last calendar quarter that ends on or before ``last_day``."""
    start = date(last_day.year, 3 * ((last_day.month - 1) // 3) + 1, 1)
    next_start = date(start.year + (start.month + 2) // 12, (start.month + 2) % 12 + 1, 1)
    if next_start - timedelta(days=1) > last_day:
        end = start - timedelta(days=1)
        start = date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)
    else:
        end = next_start - timedelta(days=1)
    return start, end


def make_requests(agency: Agency, last_day: date) -> tuple[list[Request], Request]:
    """The mix (4 scopes x 4 periods) and the stress request (a year against itself)."""
    from django.db.models import Count

    from beatdesk.agencies.models import Area, Team
    from beatdesk.channels.models import ConnectedAccount
    from beatdesk.inbox.models import Conversation
    from beatdesk.insights.dashboard import Period

    # The busiest district, neighbourhood team and force account: the heaviest of each.
    district = (
        Area.objects.filter(agency=agency, kind=Area.Kind.DISTRICT)
        .annotate(n=Count("children__conversations"))
        .order_by("-n", "pk")
        .first()
    )
    team_id = (
        Conversation.objects.filter(agency=agency, team__kind=Team.Kind.NEIGHBOURHOOD)
        .values_list("team_id", flat=True)
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    account_id = (
        Conversation.objects.filter(agency=agency)
        .values_list("account_id", flat=True)
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    assert district is not None and team_id is not None and account_id is not None
    scopes = [
        ("agency", 0, agency.name),
        ("area", district.pk, district.name),
        ("team", team_id, Team.objects.get(pk=team_id).name),
        ("account", account_id, str(ConnectedAccount.objects.get(pk=account_id))),
    ]
    q_start, q_end = last_quarter(last_day)
    periods = {
        "7 days": Period(last_day - timedelta(days=6), last_day),
        "28 days": Period(last_day - timedelta(days=27), last_day),
        "quarter": Period(q_start, q_end),
        "year": Period(last_day - timedelta(days=DAYS - 1), last_day),
    }
    mix = [
        Request(scope, scope_id, label, kind, periods[kind], periods[kind].previous())
        for scope, scope_id, label in scopes
        for kind in PERIOD_KINDS
    ]
    year = periods["year"]
    stress = Request("agency", 0, agency.name, "year vs itself", year, year)
    return mix, stress


def dashboard_request(agency: Agency, request: Request) -> Dashboard:
    """What the page costs: the dashboard and everything the page derives from it."""
    from beatdesk.insights.dashboard import build_dashboard
    from beatdesk.insights.report import page_context

    dashboard = build_dashboard(
        agency, request.scope, request.scope_id, request.label, request.period, request.compare
    )
    page_context(dashboard)
    return dashboard
