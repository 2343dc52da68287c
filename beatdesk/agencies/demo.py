"""The demo installation: Greater Manchester Police with real geography, and partners.

``load_demo()`` is idempotent: run again, it keeps the data and authenticator secrets
and issues fresh demo passwords (the old ones are never stored in clear).
"""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from django.db import transaction
from django.utils import timezone

from beatdesk.accounts import totp
from beatdesk.audit.record import record_event

from . import actions
from .models import Agency, Area, Staff, Team
from .roles import Role


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    agency: str
    password: str
    totp_secret: str


GMP_NEIGHBOURHOOD_TEAMS = {
    # team name → district codes it serves (with all their wards)
    "Salford Neighbourhood Team": ["E08000006"],
    "Manchester City Centre Neighbourhood Team": ["E08000003"],
    "Trafford Neighbourhood Team": ["E08000009"],
}

GMP_USERS = [
    ("gmp-officer", "Sam", "Okafor", Role.OFFICER, ["Salford Neighbourhood Team"]),
    ("gmp-supervisor", "Priya", "Shah", Role.SUPERVISOR, ["Salford Neighbourhood Team"]),
    ("gmp-desk", "Jordan", "Lee", Role.DESK_OPERATOR, ["Digital Desk"]),
    ("gmp-comms", "Alex", "Morgan", Role.COMMUNICATIONS, ["Corporate Communications"]),
    ("gmp-analyst", "Chris", "Evans", Role.INTELLIGENCE_ANALYST, ["Force Intelligence Bureau"]),
    ("gmp-standards", "Robin", "Hughes", Role.STANDARDS, ["Professional Standards"]),
    ("gmp-admin", "Morgan", "Taylor", Role.AGENCY_ADMIN, ["Digital Desk"]),
    ("gmp-chief", "Jo", "Barker", Role.LEADERSHIP, []),
]


@functools.cache
def _geography() -> dict[str, Any]:
    """The committed Greater Manchester boundaries, decompressed and parsed once."""
    raw = resources.files("beatdesk.agencies.demo_data").joinpath("greater_manchester.json.gz")
    data: dict[str, Any] = json.loads(gzip.decompress(raw.read_bytes()))
    return data


def _build_gmp() -> Agency:
    geo = _geography()
    gmp = actions.create_agency(
        actor=None, name="Greater Manchester Police", short_name="GMP", kind="police", slug="gmp"
    )
    force = actions.create_area(
        actor=None,
        agency=gmp,
        name=geo["force_area"]["name"],
        kind=Area.Kind.FORCE_AREA,
        code=geo["force_area"]["code"],
        boundary=geo["force_area"]["boundary"],
    )
    districts: dict[str, Area] = {}
    for d in geo["districts"]:
        districts[d["code"]] = actions.create_area(
            actor=None,
            agency=gmp,
            name=d["name"],
            kind=Area.Kind.DISTRICT,
            parent=force,
            code=d["code"],
            boundary=d["boundary"],
        )
    for w in geo["wards"]:
        actions.create_area(
            actor=None,
            agency=gmp,
            name=w["name"],
            kind=Area.Kind.NEIGHBOURHOOD,
            parent=districts[w["district_code"]],
            code=w["code"],
            boundary=w["boundary"],
        )
    force_wide = [
        ("Digital Desk", Team.Kind.DIGITAL_DESK, True),
        ("Corporate Communications", Team.Kind.COMMUNICATIONS, False),
        ("Force Intelligence Bureau", Team.Kind.INTELLIGENCE, True),
        ("Professional Standards", Team.Kind.STANDARDS, False),
    ]
    for name, kind, always in force_wide:
        actions.save_team(
            actor=None, agency=gmp, name=name, kind=kind, areas=[force], staffed_24_7=always
        )
    for name, codes in GMP_NEIGHBOURHOOD_TEAMS.items():
        served = [districts[c] for c in codes]
        served += list(Area.objects.filter(parent__in=served))
        actions.save_team(
            actor=None,
            agency=gmp,
            name=name,
            kind=Team.Kind.NEIGHBOURHOOD,
            areas=served,
            staffed_24_7=False,
        )
    return gmp


def _build_partner(name: str, short: str, kind: str, slug: str) -> Agency:
    geo = _geography()
    agency = actions.create_agency(actor=None, name=name, short_name=short, kind=kind, slug=slug)
    area = actions.create_area(
        actor=None,
        agency=agency,
        name="Greater Manchester",
        kind=Area.Kind.FORCE_AREA,
        code=geo["force_area"]["code"],
        boundary=geo["force_area"]["boundary"],
    )
    actions.save_team(
        actor=None,
        agency=agency,
        name="Communications",
        kind=Team.Kind.COMMUNICATIONS,
        areas=[area],
        staffed_24_7=False,
    )
    return agency


def _ensure_user(
    agency: Agency, username: str, first: str, last: str, role: str, team_names: list[str]
) -> DemoLogin:
    password = actions.generate_initial_password()
    staff = Staff.objects.filter(username=username).first()
    if staff is None:
        teams = list(Team.objects.filter(agency=agency, name__in=team_names))
        staff, _ = actions.create_staff(
            actor=None,
            agency=agency,
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@example.invalid",
            role=role,
            teams=teams,
            password=password,
        )
    else:
        staff.set_password(password)
        staff.is_active = True
        staff.save(update_fields=["password", "is_active"])
        record_event(
            event_type="staff.demo_password_reset",
            actor_label="beatdesk demo",
            agency=agency,
            target=staff,
            summary=f"Demo password for {username} reissued",
        )
    if not staff.mfa_enrolled:
        # Demo accounts come enrolled so a newcomer can sign in at once; the secret is
        # printed so it can be added to an authenticator app (or use `beatdesk demo-code`).
        staff.totp_secret = totp.new_secret()
        staff.totp_confirmed_at = timezone.now()
        staff.save(update_fields=["totp_secret", "totp_confirmed_at"])
    return DemoLogin(username, Role(role).label, agency.short_name, password, staff.totp_secret)


def _ensure_demo_replay(gmp: Agency) -> None:
    """A replay channel feeding invented public messages, so the desk has traffic."""
    from beatdesk.channels.actions import connect_replay
    from beatdesk.channels.models import ConnectedAccount

    if ConnectedAccount.objects.filter(agency=gmp, kind="replay").exists():
        return
    connect_replay(
        actor=Staff.objects.get(username="gmp-admin"),
        label="Demo public messages",
        source="gm_demo.jsonl",
        rate_per_minute=6,
        areas=gmp.areas.filter(kind=Area.Kind.FORCE_AREA),
    )


def _ensure_team_drill_account(gmp: Agency) -> None:
    """A drill account of the Salford team, so its officer can write posts in the demo
    and its supervisor approve them (posts go into the drill, nowhere else)."""
    from beatdesk.channels.actions import connect_replay, update_assignment
    from beatdesk.channels.models import ConnectedAccount

    team = Team.objects.get(agency=gmp, name="Salford Neighbourhood Team")
    if ConnectedAccount.objects.filter(agency=gmp, kind="replay", team=team).exists():
        return
    admin = Staff.objects.get(username="gmp-admin")
    account = connect_replay(
        actor=admin,
        label="Salford neighbourhood (drill)",
        source="salford_drill.jsonl",
        rate_per_minute=1,
    )
    update_assignment(
        actor=admin,
        account=account,
        label=account.label,
        scope=ConnectedAccount.Scope.TEAM,
        team=team,
        officer=None,
        areas=team.areas.all(),
    )


def load_demo() -> list[DemoLogin]:
    """Create (or refresh) the demo agencies and one demo login per role."""
    with transaction.atomic():
        gmp = Agency.objects.filter(slug="gmp").first() or _build_gmp()
        fire = Agency.objects.filter(slug="gmfrs").first() or _build_partner(
            "Greater Manchester Fire and Rescue Service", "GMFRS", "fire", "gmfrs"
        )
        ambulance = Agency.objects.filter(slug="nwas").first() or _build_partner(
            "North West Ambulance Service", "NWAS", "ambulance", "nwas"
        )
        Agency.objects.filter(pk__in=[gmp.pk, fire.pk, ambulance.pk]).update(is_demo=True)
        logins = [_ensure_user(gmp, *user) for user in GMP_USERS]
        _ensure_demo_replay(gmp)
        _ensure_team_drill_account(gmp)
        logins.append(
            _ensure_user(
                fire, "gmfrs-admin", "Dana", "Price", Role.AGENCY_ADMIN, ["Communications"]
            )
        )
        logins.append(
            _ensure_user(
                ambulance, "nwas-admin", "Ellis", "Ward", Role.AGENCY_ADMIN, ["Communications"]
            )
        )
    return logins
