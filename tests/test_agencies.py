"""Agency administration: areas, teams, staff; tenant isolation in lists and actions."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.test import Client

from beatdesk.agencies import actions
from beatdesk.agencies.geometry import GeometryError, centroid, contains, validate_geometry
from beatdesk.agencies.models import Agency, Area, Staff, Team
from beatdesk.agencies.roles import Role
from beatdesk.audit.models import AuditEvent

from .conftest import SQUARE, force_sign_in

pytestmark = pytest.mark.django_db
StaffFactory = Callable[..., Staff]


def test_lists_show_only_own_agency(
    agency: Agency, other_agency: Agency, staff_factory: StaffFactory
) -> None:
    client = Client()
    force_sign_in(client, staff_factory(agency, Role.AGENCY_ADMIN))
    teams = client.get("/agency/teams/").content.decode()
    assert "alpha desk" in teams and "bravo desk" not in teams
    areas = client.get("/agency/areas/").content.decode()
    assert "alpha force area" in areas and "bravo force area" not in areas
    staff_page = client.get("/agency/staff/").content.decode()
    assert "alpha-agency_admin" in staff_page
    staff_factory(other_agency, Role.OFFICER)
    assert "bravo-officer" not in client.get("/agency/staff/").content.decode()


def test_admin_creates_team_serving_areas_with_audit(
    agency: Agency, staff_factory: StaffFactory
) -> None:
    admin = staff_factory(agency, Role.AGENCY_ADMIN)
    client = Client()
    force_sign_in(client, admin)
    area = agency.areas.get()
    response = client.post(
        "/agency/teams/new/",
        {"name": "Ordsall NPT", "kind": "neighbourhood", "areas": [area.pk]},
    )
    team = Team.objects.get(name="Ordsall NPT")
    assert response.status_code == 302 and list(team.areas.all()) == [area]
    event = AuditEvent.objects.get(event_type="team.created", object_id=str(team.pk))
    assert event.actor == admin and event.agency == agency


def test_team_form_refuses_another_agencys_area(
    agency: Agency, other_agency: Agency, staff_factory: StaffFactory
) -> None:
    client = Client()
    force_sign_in(client, staff_factory(agency, Role.AGENCY_ADMIN))
    foreign = other_agency.areas.get()
    response = client.post(
        "/agency/teams/new/", {"name": "Sneaky", "kind": "other", "areas": [foreign.pk]}
    )
    assert response.status_code == 200 and not Team.objects.filter(name="Sneaky").exists()
    with pytest.raises(actions.ActionError):
        actions.save_team(
            actor=None,
            agency=agency,
            name="Sneaky",
            kind="other",
            areas=[foreign],
            staffed_24_7=False,
        )


def test_admin_creates_staff_password_shown_once(
    agency: Agency, staff_factory: StaffFactory
) -> None:
    client = Client()
    force_sign_in(client, staff_factory(agency, Role.AGENCY_ADMIN), reauthenticated=True)
    response = client.post(
        "/agency/staff/new/",
        {"username": "New.Officer", "email": "n@example.invalid", "role": "officer"},
    )
    assert response.status_code == 200
    password = response.context["password"]
    created = Staff.objects.get(username="new.officer")
    assert created.check_password(password) and not created.mfa_enrolled
    event = AuditEvent.objects.get(event_type="staff.created", object_id=str(created.pk))
    assert event.personal_data == "collection"
    assert password not in str(event.data) and password not in event.summary


def test_cannot_disable_yourself(agency: Agency, staff_factory: StaffFactory) -> None:
    admin = staff_factory(agency, Role.AGENCY_ADMIN)
    with pytest.raises(actions.ActionError):
        actions.disable_staff(actor=admin, staff=admin, reason="oops")


def test_area_with_bad_boundary_is_refused(agency: Agency, staff_factory: StaffFactory) -> None:
    client = Client()
    force_sign_in(client, staff_factory(agency, Role.AGENCY_ADMIN))
    response = client.post(
        "/agency/areas/new/",
        {
            "name": "Broken",
            "kind": "neighbourhood",
            "boundary": '{"type": "Point", "coordinates": [0, 0]}',
        },
    )
    assert response.status_code == 200 and b"Not a usable boundary" in response.content
    response = client.post(
        "/agency/areas/new/",
        {
            "name": "Square",
            "kind": "neighbourhood",
            "parent": agency.areas.get().pk,
            "boundary": json.dumps({"type": "Feature", "geometry": SQUARE}),
        },
    )
    assert response.status_code == 302
    square = Area.objects.get(name="Square")
    assert square.centroid_lat == pytest.approx(53.45) and square.centroid_lon == pytest.approx(
        -2.25
    )


def test_geometry_helpers() -> None:
    assert contains(SQUARE, 53.45, -2.25) and not contains(SQUARE, 53.6, -2.25)
    assert centroid(SQUARE) == pytest.approx((53.45, -2.25))
    with pytest.raises(GeometryError):
        validate_geometry({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 1]]]})
