"""Who reads insights, and agency-scoped lookups of what a dashboard is about."""

from __future__ import annotations

from typing import Any

from beatdesk.agencies.access import access_area, access_in_agency, access_team, agency_of
from beatdesk.agencies.roles import Role
from beatdesk.channels.models import ConnectedAccount

from .models import LeadershipReport, Scope

# Leaders, communications, supervisors, standards and the admin read the figures; they
# are aggregates, but they still describe the agency's own work, so only its staff.
INSIGHTS_READERS: frozenset[str] = frozenset(
    {
        Role.LEADERSHIP,
        Role.COMMUNICATIONS,
        Role.SUPERVISOR,
        Role.STANDARDS,
        Role.AGENCY_ADMIN,
    }
)


def access_scope(user: Any, scope: str, scope_id: int) -> str:
    """The label of a dashboard scope of the user's agency (Http404 for any other)."""
    if scope == Scope.AGENCY:
        return agency_of(user).name
    if scope == Scope.AREA:
        return access_area(user, scope_id).name
    if scope == Scope.TEAM:
        return access_team(user, scope_id).name
    if scope == Scope.ACCOUNT:
        return str(access_in_agency(user, ConnectedAccount, scope_id))
    raise ValueError(f"Unknown scope {scope!r}")


def access_report(user: Any, report_id: Any) -> LeadershipReport:
    return access_in_agency(user, LeadershipReport, report_id)
