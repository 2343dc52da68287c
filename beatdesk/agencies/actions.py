"""Changes to agencies, areas, teams and staff. Each owns its transaction and audit event."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils.text import slugify

from beatdesk.accounts.actions import end_all_sessions
from beatdesk.audit.models import PersonalDataCategory
from beatdesk.audit.record import record_event

from .geometry import centroid, validate_geometry
from .models import Agency, Area, Staff, Team
from .roles import Role


class ActionError(ValueError):
    """A change was refused for a reason the person can act on (shown to them)."""


def create_agency(
    *, actor: Staff | None, name: str, short_name: str, kind: str, slug: str = ""
) -> Agency:
    """Create a tenant. ``actor`` is None when run from the command line by an operator."""
    if kind not in Agency.Kind.values:
        raise ActionError(f"Unknown agency kind {kind!r}")
    with transaction.atomic():
        agency = Agency.objects.create(
            name=name, short_name=short_name, kind=kind, slug=slug or slugify(short_name)
        )
        record_event(
            event_type="agency.created",
            actor=actor,
            actor_label="" if actor else "command line",
            agency=agency,
            target=agency,
            summary=f"Agency {name} created",
        )
    return agency


def create_area(
    *,
    actor: Staff | None,
    agency: Agency,
    name: str,
    kind: str,
    parent: Area | None = None,
    code: str = "",
    boundary: dict[str, Any] | None = None,
) -> Area:
    """Add an area. ``boundary`` must be a GeoJSON Polygon/MultiPolygon in lon/lat."""
    if parent is not None and parent.agency_id != agency.pk:
        raise ActionError("The parent area belongs to another agency.")
    if boundary is not None:
        validate_geometry(boundary)
    lat_lon = centroid(boundary) if boundary else None
    with transaction.atomic():
        area = Area.objects.create(
            agency=agency,
            parent=parent,
            name=name,
            kind=kind,
            code=code,
            boundary=boundary,
            centroid_lat=lat_lon[0] if lat_lon else None,
            centroid_lon=lat_lon[1] if lat_lon else None,
        )
        record_event(
            event_type="area.created",
            actor=actor,
            actor_label="" if actor else "command line",
            agency=agency,
            target=area,
            summary=f"Area {name} ({kind}) created",
        )
    return area


def save_team(
    *,
    actor: Staff | None,
    agency: Agency,
    name: str,
    kind: str,
    areas: Iterable[Area],
    staffed_24_7: bool,
    team: Team | None = None,
) -> Team:
    """Create ``team`` (when None) or update it; its areas must be the agency's own."""
    area_list = list(areas)
    if any(area.agency_id != agency.pk for area in area_list):
        raise ActionError("A team can only serve its own agency's areas.")
    if Team.objects.filter(agency=agency, name=name).exclude(pk=team.pk if team else 0).exists():
        raise ActionError(f"There is already a team called {name}.")
    with transaction.atomic():
        created = team is None
        if team is None:
            team = Team(agency=agency)
        before = {"name": team.name, "kind": team.kind, "staffed_24_7": team.staffed_24_7}
        team.name, team.kind, team.staffed_24_7 = name, kind, staffed_24_7
        team.save()
        team.areas.set(area_list)
        record_event(
            event_type="team.created" if created else "team.changed",
            actor=actor,
            actor_label="" if actor else "command line",
            agency=agency,
            target=team,
            summary=f"Team {name} {'created' if created else 'changed'}",
            data={"before": None if created else before, "areas": [a.pk for a in area_list]},
        )
    return team


def generate_initial_password() -> str:
    """A random first password, shown once to the admin who creates the account."""
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


def create_staff(
    *,
    actor: Staff | None,
    agency: Agency,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    teams: Iterable[Team] = (),
    password: str | None = None,
) -> tuple[Staff, str]:
    """Create a staff account; return it and its first password (to hand over once).

    The person enrols an authenticator on first sign-in; no one else sees their secret.
    """
    username = username.strip().lower()
    if role not in Role.values:
        raise ActionError(f"Unknown role {role!r}")
    if Staff.objects.filter(username=username).exists():
        raise ActionError(f"The username {username} is taken.")
    team_list = list(teams)
    if any(team.agency_id != agency.pk for team in team_list):
        raise ActionError("Staff can only join their own agency's teams.")
    password = password or generate_initial_password()
    staff = Staff(
        agency=agency,
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        role=role,
    )
    validate_password(password, staff)
    with transaction.atomic():
        staff.set_password(password)
        staff.save()
        staff.teams.set(team_list)
        record_event(
            event_type="staff.created",
            actor=actor,
            actor_label="" if actor else "command line",
            agency=agency,
            target=staff,
            summary=f"Staff account {username} created with role {role}",
            data={"role": role, "teams": [t.pk for t in team_list]},
            personal_data=PersonalDataCategory.COLLECTION,
        )
    return staff, password


def change_staff(
    *,
    actor: Staff,
    staff: Staff,
    role: str,
    teams: Iterable[Team],
    first_name: str,
    last_name: str,
    email: str,
) -> Staff:
    """Change a person's role, teams or details."""
    if role not in Role.values:
        raise ActionError(f"Unknown role {role!r}")
    team_list = list(teams)
    if any(team.agency_id != staff.agency_id for team in team_list):
        raise ActionError("Staff can only join their own agency's teams.")
    if staff.pk == actor.pk and role != staff.role:
        raise ActionError("You cannot change your own role; ask another admin.")
    with transaction.atomic():
        before = {"role": staff.role, "teams": sorted(t.pk for t in staff.teams.all())}
        staff.role, staff.first_name, staff.last_name, staff.email = (
            role,
            first_name,
            last_name,
            email,
        )
        staff.save(update_fields=["role", "first_name", "last_name", "email"])
        staff.teams.set(team_list)
        record_event(
            event_type="staff.changed",
            actor=actor,
            target=staff,
            summary=f"Staff account {staff.username} changed",
            data={
                "before": before,
                "after": {"role": role, "teams": sorted(t.pk for t in team_list)},
            },
            personal_data=PersonalDataCategory.ALTERATION,
        )
    return staff


def disable_staff(*, actor: Staff, staff: Staff, reason: str) -> int:
    """Disable an account and end all its sessions at once; return sessions ended."""
    if staff.pk == actor.pk:
        raise ActionError("You cannot disable your own account.")
    if not reason.strip():
        raise ActionError("Give a reason for disabling the account.")
    with transaction.atomic():
        staff.is_active = False
        staff.disabled_reason = reason.strip()[:300]
        staff.save(update_fields=["is_active", "disabled_reason"])
        ended = end_all_sessions(staff)
        record_event(
            event_type="staff.disabled",
            actor=actor,
            target=staff,
            summary=f"Staff account {staff.username} disabled; {ended} session(s) ended",
            data={"reason": staff.disabled_reason, "sessions_ended": ended},
        )
    return ended


def enable_staff(*, actor: Staff, staff: Staff) -> None:
    with transaction.atomic():
        staff.is_active = True
        staff.disabled_reason = ""
        staff.save(update_fields=["is_active", "disabled_reason"])
        record_event(
            event_type="staff.enabled",
            actor=actor,
            target=staff,
            summary=f"Staff account {staff.username} enabled",
        )


def reset_mfa(*, actor: Staff, staff: Staff) -> None:
    """Remove a lost authenticator: the person enrols a new one at next sign-in."""
    with transaction.atomic():
        staff.totp_secret = ""
        staff.totp_confirmed_at = None
        staff.save(update_fields=["totp_secret", "totp_confirmed_at"])
        ended = end_all_sessions(staff)
        record_event(
            event_type="staff.mfa_reset",
            actor=actor,
            target=staff,
            summary=f"Authenticator reset for {staff.username}; {ended} session(s) ended",
        )
