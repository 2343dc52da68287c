"""The bench agency: a force area, 12 districts, 100 neighbourhoods (rectangles), 60
teams, 200 replay accounts (20 force-wide, 3 per team) and a few staff, made through
the project's own models and actions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import TYPE_CHECKING, Any

from .traffic import (
    ACCOUNTS_PER_TEAM,
    DAYS,
    FORCE_ACCOUNTS,
    NEIGHBOURHOOD_TEAMS,
    TEAM_NAMES,
    ZONE,
)

if TYPE_CHECKING:
    from beatdesk.agencies.models import Agency


@dataclass
class Structure:
    agency: Agency
    force_area: int
    districts: list[int]
    neighbourhoods: list[int]  # in order; neighbourhood i is served by team i // 2
    nbh_team: list[int]
    desk_team: int
    standards_team: int
    intelligence_team: int
    teams: list[int]
    force_accounts: list[int]
    team_accounts: dict[int, list[int]]  # team id -> its accounts
    accounts: list[int]  # force accounts first, then the team accounts
    staff: list[int]
    data_end: datetime  # local midnight today, UTC
    first_day: date


def rectangle(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def make_structure(today: date) -> Structure:
    from beatdesk.agencies import actions
    from beatdesk.agencies.models import Area, Staff, Team
    from beatdesk.agencies.roles import Role
    from beatdesk.channels.models import ConnectedAccount

    agency = actions.create_agency(
        actor=None, name="Bench Constabulary", short_name="BENCH", kind="police", slug="bench"
    )
    west, south, east, north = -2.7, 53.3, -1.9, 53.7
    force = Area.objects.create(
        agency=agency,
        kind=Area.Kind.FORCE_AREA,
        name="Bench force area",
        code="E23000099",
        boundary=rectangle(west, south, east, north),
        centroid_lat=(south + north) / 2,
        centroid_lon=(west + east) / 2,
    )
    districts: list[Area] = []
    neighbourhoods: list[Area] = []
    cell_w, cell_h = (east - west) / 4, (north - south) / 3
    for d in range(12):
        w, s = west + (d % 4) * cell_w, south + (d // 4) * cell_h
        districts.append(
            Area(
                agency=agency,
                parent=force,
                kind=Area.Kind.DISTRICT,
                name=f"District {d + 1:02d}",
                code=f"E080001{d:02d}",
                boundary=rectangle(w, s, w + cell_w, s + cell_h),
                centroid_lat=s + cell_h / 2,
                centroid_lon=w + cell_w / 2,
            )
        )
    Area.objects.bulk_create(districts)
    for d, district in enumerate(districts):
        count = 9 if d < 4 else 8
        w, s = west + (d % 4) * cell_w, south + (d // 4) * cell_h
        strip = cell_w / count
        for k in range(count):
            n = len(neighbourhoods)
            neighbourhoods.append(
                Area(
                    agency=agency,
                    parent=district,
                    kind=Area.Kind.NEIGHBOURHOOD,
                    name=f"Neighbourhood {n + 1:03d}",
                    code=f"E05001{n:03d}" if n % 10 else "",
                    boundary=rectangle(w + k * strip, s, w + (k + 1) * strip, s + cell_h)
                    if n % 7
                    else None,
                    centroid_lat=s + cell_h / 2 if n % 7 else None,
                    centroid_lon=w + (k + 0.5) * strip if n % 7 else None,
                )
            )
    Area.objects.bulk_create(neighbourhoods)

    teams = [
        Team(agency=agency, name=f"Neighbourhood team {t + 1:02d}", kind=Team.Kind.NEIGHBOURHOOD)
        for t in range(NEIGHBOURHOOD_TEAMS)
    ] + [
        Team(agency=agency, name=name, kind=kind, staffed_24_7=always)
        for name, kind, always in TEAM_NAMES
    ]
    Team.objects.bulk_create(teams)
    links = []
    for i, area in enumerate(neighbourhoods):
        links.append(Team.areas.through(team_id=teams[i // 2].pk, area_id=area.pk))
    served_by_name = {
        "Digital desk": [force],
        "Corporate communications": [force],
        "Roads policing": [force],
        "Events and partnerships": [force],
        "Rural crime": districts[8:10],
        "Response north": districts[8:12],
    }
    for team in teams[NEIGHBOURHOOD_TEAMS:]:
        for area in served_by_name.get(team.name, []):
            links.append(Team.areas.through(team_id=team.pk, area_id=area.pk))
    Team.areas.through.objects.bulk_create(links)

    accounts = [
        ConnectedAccount(
            agency=agency,
            kind="replay",
            scope=ConnectedAccount.Scope.FORCE,
            label=f"Force account {a + 1:02d}",
            handle=f"benchforce{a + 1:02d}",
            display_name=f"Bench Constabulary {a + 1:02d}",
        )
        for a in range(FORCE_ACCOUNTS)
    ]
    for team in teams:
        for k in range(ACCOUNTS_PER_TEAM):
            accounts.append(
                ConnectedAccount(
                    agency=agency,
                    kind="replay",
                    scope=ConnectedAccount.Scope.TEAM,
                    team=team,
                    label=f"{team.name} {k + 1}",
                    handle=f"benchteam{team.pk}_{k + 1}",
                    display_name=f"{team.name} ({k + 1})",
                )
            )
    ConnectedAccount.objects.bulk_create(accounts)
    account_links = [
        ConnectedAccount.areas.through(connectedaccount_id=a.pk, area_id=force.pk)
        for a in accounts[:FORCE_ACCOUNTS]
    ]
    # A few team accounts name their own neighbourhood as well as their team's.
    for n, account in enumerate(accounts[FORCE_ACCOUNTS::9]):
        account_links.append(
            ConnectedAccount.areas.through(
                connectedaccount_id=account.pk, area_id=neighbourhoods[(n * 13) % 100].pk
            )
        )
    ConnectedAccount.areas.through.objects.bulk_create(account_links)

    roles = [Role.COMMUNICATIONS, Role.SUPERVISOR, Role.OFFICER, Role.DESK_OPERATOR]
    staff = [
        Staff.objects.create(
            username=f"bench{i}",
            agency=agency,
            role=roles[i % len(roles)],
            first_name="Bench",
            last_name=f"Author {i}",
        )
        for i in range(12)
    ]
    team_accounts: dict[int, list[int]] = defaultdict(list)
    for account in accounts[FORCE_ACCOUNTS:]:
        assert account.team_id is not None
        team_accounts[account.team_id].append(account.pk)
    by_name = {t.name: t.pk for t in teams}
    data_end = datetime.combine(today, clock.min, tzinfo=ZONE).astimezone(UTC)
    return Structure(
        agency=agency,
        force_area=force.pk,
        districts=[d.pk for d in districts],
        neighbourhoods=[n.pk for n in neighbourhoods],
        nbh_team=[teams[i // 2].pk for i in range(len(neighbourhoods))],
        desk_team=by_name["Digital desk"],
        standards_team=by_name["Professional standards"],
        intelligence_team=by_name["Intelligence unit"],
        teams=[t.pk for t in teams],
        force_accounts=[a.pk for a in accounts[:FORCE_ACCOUNTS]],
        team_accounts=dict(team_accounts),
        accounts=[a.pk for a in accounts],
        staff=[s.pk for s in staff],
        data_end=data_end,
        first_day=today - timedelta(days=DAYS),
    )
