"""Issue 6, acceptance 3, in real Chromium against a live server.

A desk operator opens a conversation in which a member of the public reports drug
dealing, raises an intelligence report graded 2 B C with handling conditions and source
details. An intelligence analyst, signed in elsewhere, finds it in the queue, opens it
(the view is logged as a consultation), exports the evidence bundle and downloads it;
``beatdesk evidence verify`` (a separate process, no database) accepts the download,
and rejects it once one byte of a payload is changed.
"""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from beatdesk.accounts import totp
from beatdesk.agencies import actions as agency_actions
from beatdesk.agencies.models import Staff, Team
from beatdesk.agencies.roles import Role
from beatdesk.audit.models import AuditEvent
from beatdesk.intelligence.models import IntelligenceReport
from tests.conftest import PASSWORD, make_agency, make_staff
from tests.inbox.factories import make_conversation
from tests.test_browser import browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VERIFY = [sys.executable, "-m", "beatdesk.cli", "evidence", "verify"]


def _sign_in(page: Any, base: str, staff: Staff, path: str) -> None:
    page.goto(f"{base}{path}")
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("6-digit code").fill(totp.current_code(staff.totp_secret))
    page.get_by_role("button", name="Sign in").click()


def test_operator_raises_a_graded_report_and_the_analyst_downloads_a_bundle_that_verifies(
    live_server: Any,
    browser: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    agency = make_agency("gmp")
    agency_actions.save_team(
        actor=None,
        agency=agency,
        name="Force Intelligence Bureau",
        kind=Team.Kind.INTELLIGENCE,
        areas=[],
        staffed_24_7=False,
    )
    operator = make_staff(agency, Role.DESK_OPERATOR, "gmp-desk")
    analyst = make_staff(agency, Role.INTELLIGENCE_ANALYST, "gmp-analyst")
    conversation = make_conversation(
        agency, "They're dealing from the blue Transit behind the chippy on Elm Road every night"
    )

    desk = browser.new_page()
    _sign_in(desk, live_server.url, operator, f"/inbox/c/{conversation.pk}/")
    desk.get_by_role("link", name="Raise an intelligence report").click()
    desk.get_by_role("heading", name="Intelligence report").wait_for()
    desk.get_by_label("Intelligence (sanitised)").fill(
        "Drug supply from a blue Ford Transit behind the chip shop on Elm Road, evenings."
    )
    desk.get_by_label("2 · Untested").check()
    desk.get_by_label("B · Known indirectly to the source, corroborated").check()
    desk.get_by_label("C · Lawful sharing permitted with conditions").check()
    desk.get_by_label("Conditions (for handling code C)").fill(
        "Not for disclosure outside the force without FIB consent."
    )
    desk.get_by_label("Source details (kept apart: intelligence analysts only)").fill(
        "Resident of Elm Road; long-standing contact of the neighbourhood team."
    )
    desk.get_by_role("button", name="Send to intelligence").click()
    desk.get_by_text("(2 B C) sent to Force Intelligence Bureau").wait_for()
    report = IntelligenceReport.objects.get()
    assert report.grading == "2 B C" and report.team is not None

    work = browser.new_page(accept_downloads=True)
    _sign_in(work, live_server.url, analyst, "/intelligence/")
    row = work.get_by_test_id("report-row").filter(has_text=report.reference)
    assert "2 B C" in row.inner_text()
    row.get_by_role("link", name=report.reference).click()
    work.get_by_role("heading", name=report.reference).wait_for()
    assert "Resident of Elm Road" in work.content()
    assert AuditEvent.objects.filter(
        event_type="intelligence.report_viewed", actor=analyst, personal_data="consultation"
    ).exists()
    work.get_by_role("button", name="Export evidence bundle").click()
    work.get_by_text("sealed: SHA-256").wait_for()
    with work.expect_download() as download_info:
        work.get_by_test_id("export").get_by_role("link").click()
    bundle = tmp_path / "bundle.zip"
    download_info.value.save_as(bundle)

    ok = subprocess.run([*VERIFY, str(bundle)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert report.exports.get().bundle_sha256 in ok.stdout

    with zipfile.ZipFile(bundle) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    assert b"Resident of Elm Road" not in b"".join(members.values())
    payload = next(name for name in members if name.startswith("payloads/"))
    members[payload] = members[payload].replace(b"chippy", b"chippY")
    tampered = tmp_path / "tampered.zip"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    tampered.write_bytes(out.getvalue())
    bad = subprocess.run([*VERIFY, str(tampered)], capture_output=True, text=True, check=False)
    assert bad.returncode == 1 and f"FAILED: {payload}" in bad.stderr
