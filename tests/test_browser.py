"""Real Chromium (Debian's package) driven by Playwright against a live server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from beatdesk.accounts import totp
from beatdesk.agencies.models import Staff
from beatdesk.agencies.roles import Role

from .conftest import PASSWORD, make_agency, make_staff

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def launch_chromium(*extra_flags: str) -> Iterator[Any]:
    """Debian's Chromium under Playwright, for a module-scoped fixture to yield from."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}: run `make bootstrap`")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread while the browser
    # is open; the ORM calls the tests (and database teardown) make in between are
    # ordinary synchronous ones. Allowed only for this module, then restored.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(
                executable_path=CHROMIUM, args=[*CHROMIUM_FLAGS, *extra_flags]
            )
            yield instance
            instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _password_step(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()


def test_new_staff_enrols_and_signs_in_with_mfa(live_server: Any, browser: Any) -> None:
    agency = make_agency("gmp")
    staff = make_staff(agency, Role.DESK_OPERATOR, "desk.operator")
    Staff.objects.filter(pk=staff.pk).update(totp_secret="", totp_confirmed_at=None)
    page = browser.new_page()

    _password_step(page, live_server.url, "desk.operator")
    page.get_by_role("heading", name="Set up your authenticator app").wait_for()
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    page.get_by_label("6-digit code").fill(totp.current_code(secret))
    page.get_by_role("button", name="Confirm and sign in").click()
    page.get_by_role("heading", name=agency.name).wait_for()
    assert page.url == f"{live_server.url}/"

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in to Beatdesk").wait_for()
    # The code just used cannot be replayed; a fresh step would need up to 30 s of waiting,
    # so release the last-used step as a new 30 s window would.
    Staff.objects.filter(pk=staff.pk).update(totp_last_step=0)
    _password_step(page, live_server.url, "desk.operator")
    page.get_by_role("heading", name="Enter your code").wait_for()
    page.get_by_label("6-digit code").fill(totp.current_code(secret))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=agency.name).wait_for()
    page.close()


def test_wrong_code_is_explained(live_server: Any, browser: Any) -> None:
    agency = make_agency("gmp")
    make_staff(agency, Role.OFFICER, "officer.one")
    page = browser.new_page()
    _password_step(page, live_server.url, "officer.one")
    page.get_by_label("6-digit code").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("That code is not right")
    page.close()


def test_phone_width_and_keyboard(live_server: Any, browser: Any) -> None:
    agency = make_agency("gmp")
    staff = make_staff(agency, Role.AGENCY_ADMIN, "admin.one")
    page = browser.new_page(viewport={"width": 360, "height": 740})
    _password_step(page, live_server.url, "admin.one")
    page.get_by_label("6-digit code").fill(totp.current_code(staff.totp_secret))
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=agency.name).wait_for()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than a phone screen"
    # The first Tab reaches the skip link, which is visible when focused.
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    assert page.get_by_role("link", name="Audit", exact=True).is_visible()
    page.get_by_role("link", name="Teams", exact=True).click()
    page.get_by_role("heading", name="Teams").wait_for()
    page.screenshot(path=os.environ.get("BEATDESK_SCREENSHOT", "/tmp/beatdesk-phone.png"))
    page.close()
