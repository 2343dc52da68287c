"""Sign-in with MFA, lockout, session limits, rotation, kill on disable, re-auth."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from beatdesk.accounts import totp
from beatdesk.accounts.models import LoginAttempt, StaffSession
from beatdesk.agencies.models import Agency, Staff
from beatdesk.agencies.roles import Role
from beatdesk.audit.models import AuditEvent

from .conftest import PASSWORD, force_sign_in, sign_in

pytestmark = pytest.mark.django_db
StaffFactory = Callable[..., Staff]


def test_sign_in_needs_password_and_code(agency: Agency, staff_factory: StaffFactory) -> None:
    staff = staff_factory(agency)
    client = Client()
    # Password alone does not sign in.
    client.post("/accounts/login/", {"username": staff.username, "password": PASSWORD})
    assert client.get("/").status_code == 302
    response = client.post("/accounts/login/code/", {"code": totp.current_code(staff.totp_secret)})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(event_type="signin.succeeded", actor=staff).exists()


def test_code_cannot_be_replayed(agency: Agency, staff_factory: StaffFactory) -> None:
    staff = staff_factory(agency)
    code = totp.current_code(staff.totp_secret)
    assert sign_in(Client(), staff).status_code == 302
    second = Client()
    second.post("/accounts/login/", {"username": staff.username, "password": PASSWORD})
    response = second.post("/accounts/login/code/", {"code": code})
    assert response.status_code == 200 and b"already used" in response.content


def test_session_id_rotates_at_sign_in(agency: Agency, staff_factory: StaffFactory) -> None:
    staff = staff_factory(agency)
    client = Client()
    client.get("/accounts/login/")
    client.post("/accounts/login/", {"username": staff.username, "password": PASSWORD})
    before = client.cookies["sessionid"].value
    client.post("/accounts/login/code/", {"code": totp.current_code(staff.totp_secret)})
    after = client.cookies["sessionid"].value
    assert before and after and before != after
    assert StaffSession.objects.filter(staff=staff, session_key=after).exists()


def test_lockout_after_five_failures_in_fifteen_minutes(
    agency: Agency, staff_factory: StaffFactory
) -> None:
    staff = staff_factory(agency)
    client = Client()
    for _ in range(5):
        response = client.post(
            "/accounts/login/", {"username": staff.username, "password": "wrong"}
        )
        assert response.status_code == 200
    # Even the right password is refused while locked.
    response = client.post("/accounts/login/", {"username": staff.username, "password": PASSWORD})
    assert response.status_code == 200 and b"locked" in response.content
    assert AuditEvent.objects.filter(event_type="signin.locked").exists()
    assert AuditEvent.objects.filter(event_type="signin.failed").count() >= 5
    # Once the failures are older than 15 minutes the account opens again.
    LoginAttempt.objects.update(created_at=timezone.now() - timedelta(minutes=16))
    assert sign_in(Client(), staff).status_code == 302


def test_four_failures_do_not_lock(agency: Agency, staff_factory: StaffFactory) -> None:
    staff = staff_factory(agency)
    for _ in range(4):
        Client().post("/accounts/login/", {"username": staff.username, "password": "wrong"})
    assert sign_in(Client(), staff)["Location"] == "/"


def test_wrong_codes_count_towards_lockout(agency: Agency, staff_factory: StaffFactory) -> None:
    staff = staff_factory(agency)
    client = Client()
    client.post("/accounts/login/", {"username": staff.username, "password": PASSWORD})
    for _ in range(5):
        client.post("/accounts/login/code/", {"code": "000000"})
    response = client.post("/accounts/login/code/", {"code": totp.current_code(staff.totp_secret)})
    assert b"locked" in response.content
    assert client.get("/").status_code == 302


def test_idle_timeout_signs_out(agency: Agency, staff_factory: StaffFactory) -> None:
    staff = staff_factory(agency)
    client = Client()
    sign_in(client, staff)
    assert client.get("/").status_code == 200
    session = client.session
    session["last_seen"] = time.time() - 31 * 60
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get("/").status_code == 302  # still signed out
    assert AuditEvent.objects.filter(
        event_type="signin.ended", data__reason="30 minutes without activity"
    ).exists()


def test_activity_within_thirty_minutes_keeps_session(
    agency: Agency, staff_factory: StaffFactory
) -> None:
    staff = staff_factory(agency)
    client = Client()
    sign_in(client, staff)
    session = client.session
    session["last_seen"] = time.time() - 29 * 60
    session.save()
    assert client.get("/").status_code == 200


def test_absolute_timeout_after_twelve_hours(agency: Agency, staff_factory: StaffFactory) -> None:
    staff = staff_factory(agency)
    client = Client()
    sign_in(client, staff)
    session = client.session
    session["auth_at"] = time.time() - 12 * 3600 - 5
    session.save()
    assert client.get("/").status_code == 302


def test_disabling_a_user_ends_all_their_sessions(
    agency: Agency, staff_factory: StaffFactory
) -> None:
    target = staff_factory(agency, Role.OFFICER)
    admin = staff_factory(agency, Role.AGENCY_ADMIN)
    phone, laptop = Client(), Client()
    sign_in(phone, target)
    sign_in(laptop, target)
    assert phone.get("/").status_code == 200 and laptop.get("/").status_code == 200
    admin_client = Client()
    force_sign_in(admin_client, admin, reauthenticated=True)
    response = admin_client.post(
        f"/agency/staff/{target.pk}/disable/", {"reason": "left the force"}
    )
    assert response.status_code == 302
    assert phone.get("/").status_code == 302 and laptop.get("/").status_code == 302
    assert not StaffSession.objects.filter(staff=target).exists()
    event = AuditEvent.objects.get(event_type="staff.disabled")
    assert event.data["sessions_ended"] == 2 and event.actor == admin
    # And the password no longer works.
    response = Client().post(
        "/accounts/login/", {"username": target.username, "password": PASSWORD}
    )
    assert response.status_code == 200


def test_sensitive_change_needs_reauthentication(
    agency: Agency, staff_factory: StaffFactory
) -> None:
    admin = staff_factory(agency, Role.AGENCY_ADMIN)
    client = Client()
    sign_in(client, admin)
    response = client.get("/agency/staff/new/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/reauth/")
    Staff.objects.filter(pk=admin.pk).update(totp_last_step=0)
    response = client.post(
        "/accounts/reauth/",
        {
            "password": PASSWORD,
            "code": totp.current_code(admin.totp_secret),
            "next": "/agency/staff/new/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/agency/staff/new/"
    assert client.get("/agency/staff/new/").status_code == 200


def test_first_sign_in_enrols_an_authenticator(agency: Agency, staff_factory: StaffFactory) -> None:
    staff = staff_factory(agency)
    Staff.objects.filter(pk=staff.pk).update(totp_secret="", totp_confirmed_at=None)
    client = Client()
    client.post("/accounts/login/", {"username": staff.username, "password": PASSWORD})
    page = client.get("/accounts/login/code/")
    secret = page.context["secret"]
    assert b"data:image/svg+xml" in page.content and secret.encode() in page.content
    response = client.post("/accounts/login/code/", {"code": totp.current_code(secret)})
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.mfa_enrolled and staff.totp_secret == secret
    assert AuditEvent.objects.filter(event_type="mfa.enrolled", actor=staff).exists()


def test_open_redirect_is_refused(agency: Agency, staff_factory: StaffFactory) -> None:
    staff = staff_factory(agency)
    client = Client()
    client.post(
        "/accounts/login/",
        {"username": staff.username, "password": PASSWORD, "next": "https://evil.example/"},
    )
    response = client.post("/accounts/login/code/", {"code": totp.current_code(staff.totp_secret)})
    assert response["Location"] == "/"


def test_every_demo_login_signs_in_with_mfa() -> None:
    from beatdesk.agencies.demo import load_demo

    logins = load_demo()
    assert {login.role for login in logins} >= {r.label for r in Role}
    for login in logins:
        client = Client()
        response = client.post(
            "/accounts/login/", {"username": login.username, "password": login.password}
        )
        assert response.status_code == 302, login.username
        response = client.post(
            "/accounts/login/code/", {"code": totp.current_code(login.totp_secret)}
        )
        assert response.status_code == 302 and response["Location"] == "/", login.username
        home = client.get("/")
        assert home.status_code == 200 and login.agency.encode() in home.content
    # Loading again keeps the data and secrets but issues new passwords.
    again = {login.username: login for login in load_demo()}
    for login in logins:
        assert again[login.username].totp_secret == login.totp_secret
        assert again[login.username].password != login.password
