"""Shared fixtures. Tests run on PostgreSQL (``make test`` starts a throwaway server).

With ``CI=true`` a run on any other database fails at once rather than passing on the
wrong engine.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.db import connection
from django.test import Client

from beatdesk.accounts import totp
from beatdesk.accounts.models import StaffSession
from beatdesk.agencies import actions
from beatdesk.agencies.models import Agency, Area, Staff, Team
from beatdesk.agencies.roles import Role
from beatdesk.channels import worker

PASSWORD = "correct horse battery staple"
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-2.3, 53.4], [-2.2, 53.4], [-2.2, 53.5], [-2.3, 53.5], [-2.3, 53.4]]],
}


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("CI", "").lower() == "true":
        url = os.environ.get("BEATDESK_DATABASE_URL", "")
        if not url.startswith(("postgres://", "postgresql://")):
            pytest.exit(
                "CI=true but BEATDESK_DATABASE_URL is not PostgreSQL: run tests via `make test`",
                returncode=3,
            )


@pytest.fixture(autouse=True)
def _fast_hashing(settings: LazySettings) -> None:
    # PBKDF2 at production strength costs ~0.5 s a hash; tests hash hundreds of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def isolated_storage(settings: LazySettings, tmp_path: Path) -> None:
    """Stored files (bundles, media, reports) go to a fresh folder per test, never to
    the working tree's ``var/``."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "storage")},
        },
    }


def make_agency(slug: str, kind: str = "police") -> Agency:
    agency = actions.create_agency(
        actor=None, name=f"{slug.upper()} Agency", short_name=slug.upper(), kind=kind, slug=slug
    )
    area = actions.create_area(
        actor=None,
        agency=agency,
        name=f"{slug} force area",
        kind=Area.Kind.FORCE_AREA,
        boundary=SQUARE,
    )
    actions.save_team(
        actor=None,
        agency=agency,
        name=f"{slug} desk",
        kind=Team.Kind.DIGITAL_DESK,
        areas=[area],
        staffed_24_7=True,
    )
    return agency


def make_staff(agency: Agency, role: str = Role.OFFICER, username: str | None = None) -> Staff:
    staff, _ = actions.create_staff(
        actor=None,
        agency=agency,
        username=username or f"{agency.slug}-{role}",
        first_name="Test",
        last_name=role.title(),
        email=f"{role}@example.invalid",
        role=role,
        teams=list(agency.teams.all()),
        password=PASSWORD,
    )
    staff.totp_secret = totp.new_secret()
    staff.totp_confirmed_at = staff.date_joined
    staff.save()
    return staff


@pytest.fixture
def agency(db: None) -> Agency:
    return make_agency("alpha")


@pytest.fixture
def other_agency(db: None) -> Agency:
    return make_agency("bravo", kind="fire")


@pytest.fixture
def staff_factory(db: None) -> Callable[..., Staff]:
    return make_staff


def sign_in(client: Client, staff: Staff, password: str = PASSWORD) -> Any:
    """Sign in through the real pages: password, then a current authenticator code."""
    Staff.objects.filter(pk=staff.pk).update(totp_last_step=0)
    response = client.post("/accounts/login/", {"username": staff.username, "password": password})
    assert response.status_code == 302, response.content[:500]
    assert response["Location"].endswith("/accounts/login/code/")
    return client.post("/accounts/login/code/", {"code": totp.current_code(staff.totp_secret)})


def force_sign_in(client: Client, staff: Staff, reauthenticated: bool = False) -> None:
    """Establish a signed-in session without the pages (for tests about other things)."""
    client.force_login(staff)
    session = client.session
    now = time.time()
    session["auth_at"] = now
    session["last_seen"] = now
    if reauthenticated:
        session["reauth_at"] = now
    session.save()
    StaffSession.objects.create(staff=staff, session_key=session.session_key or "")


@pytest.fixture
def channels_loop() -> Iterator[None]:
    """The production loop (poll when due, send, reconcile, app ticks) in a thread."""
    stop = threading.Event()

    def run() -> None:
        try:
            worker.run_forever(tick_seconds=0.25, stop=stop)
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="channels-loop", daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)
