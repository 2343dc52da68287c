"""Insights pages: who may read them, what they show, CSV and PDF, weekly reports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from beatdesk.agencies.models import Agency, Area, Team
from beatdesk.agencies.roles import Role
from beatdesk.audit.models import AuditEvent
from beatdesk.audit.verify import verify_chain
from beatdesk.channels.models import InboundMessage
from beatdesk.inbox.models import Conversation
from beatdesk.insights import figures, report
from beatdesk.insights.models import LeadershipReport
from tests.channels.factories import make_account
from tests.conftest import force_sign_in, make_staff
from tests.inbox.factories import inbound_item, receive

pytestmark = pytest.mark.django_db


def _messages_on(agency: Agency, day: date, count: int) -> None:
    account = make_account(agency)
    for i in range(count):
        (message,) = receive(account, inbound_item(f"Is the car park on Hill St open? {i}"))
        moment = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=11)
        InboundMessage.objects.filter(pk=message.pk).update(received_at=moment)
        Conversation.objects.filter(triages__message=message).update(first_message_at=moment)


@pytest.fixture
def chief(agency: Agency, client: Client) -> Client:
    force_sign_in(client, make_staff(agency, Role.LEADERSHIP, "chief"))
    return client


def _query(**values: str) -> str:
    base = {"scope": "agency", "start": "2026-02-09", "end": "2026-02-15", "compare": "previous"}
    return "&".join(f"{k}={v}" for k, v in (base | values).items())


def test_chief_officer_sees_two_periods_side_by_side(agency: Agency, chief: Client) -> None:
    _messages_on(agency, date(2026, 2, 3), 2)
    _messages_on(agency, date(2026, 2, 10), 5)
    figures.refresh(agency, now=datetime(2026, 2, 16, 9, tzinfo=UTC))
    response = chief.get(reverse("insights:overview") + "?" + _query())
    assert response.status_code == 200
    page = response.content.decode()
    assert "9 Feb 2026 to 15 Feb 2026" in page and "2 Feb 2026 to 8 Feb 2026" in page
    row = page[page.index('data-measure="messages"') :]
    row = row[: row.index("</tr>")]
    assert "<td>5</td><td>2</td>" in row
    assert "+3 (+150%)" in row
    assert "<svg" in page and "Data of the chart" in page


def test_bad_dates_are_explained_not_crashed(chief: Client) -> None:
    response = chief.get(reverse("insights:overview") + "?" + _query(end="2026-01-01"))
    assert response.status_code == 400
    assert "must end on or after" in response.content.decode()
    response = chief.get(reverse("insights:overview") + "?" + _query(compare="custom"))
    assert response.status_code == 400
    assert "Give both dates" in response.content.decode()
    response = chief.get(reverse("insights:csv") + "?" + _query(start="2024-01-01"))
    assert response.status_code == 400
    response = chief.get(reverse("insights:overview") + "?" + _query(start="not-a-date"))
    assert response.status_code == 400
    response = chief.get(
        reverse("insights:pdf") + "?" + _query(start="0001-01-01", end="0001-01-05")
    )
    assert response.status_code == 400
    assert "from 2000 on" in response.content.decode()


def test_another_agencys_area_is_not_found(
    agency: Agency, other_agency: Agency, chief: Client
) -> None:
    theirs = Area.objects.filter(agency=other_agency).first()
    ours = Area.objects.filter(agency=agency).first()
    assert theirs is not None and ours is not None
    assert (
        chief.get(reverse("insights:overview") + "?" + _query(scope=f"area:{ours.pk}")).status_code
        == 200
    )
    # Not one of the offered choices: refused as a bad choice, never shown.
    response = chief.get(reverse("insights:overview") + "?" + _query(scope=f"area:{theirs.pk}"))
    assert response.status_code == 400
    response = chief.get(reverse("insights:pdf") + "?" + _query(scope=f"area:{theirs.pk}"))
    assert response.status_code == 400


def test_officers_and_operators_may_not_read_insights(agency: Agency, client: Client) -> None:
    for role in (Role.OFFICER, Role.DESK_OPERATOR, Role.INTELLIGENCE_ANALYST):
        force_sign_in(client, make_staff(agency, role, f"no-{role}"))
        assert client.get(reverse("insights:overview")).status_code == 403


def test_csv_holds_every_figure_and_is_spreadsheet_safe(agency: Agency, chief: Client) -> None:
    team = Team.objects.create(agency=agency, name="=HYPERLINK(evil)")
    _messages_on(agency, date(2026, 2, 10), 3)
    figures.refresh(agency, now=datetime(2026, 2, 16, 9, tzinfo=UTC))
    response = chief.get(reverse("insights:csv") + "?" + _query(scope=f"team:{team.pk}"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["scope", "'=HYPERLINK(evil)"]
    whole = chief.get(reverse("insights:csv") + "?" + _query()).content.decode()
    table = list(csv.reader(io.StringIO(whole)))
    messages = next(r for r in table if r[:2] == ["headline", "Messages from the public"])
    assert messages[2:5] == ["3", "0", "3"]
    # A fall is a number, not text a spreadsheet would refuse to add up.
    later = chief.get(
        reverse("insights:csv") + "?" + _query(start="2026-02-16", end="2026-02-22")
    ).content.decode()
    fallen = next(
        r
        for r in csv.reader(io.StringIO(later))
        if r[:2] == ["headline", "Messages from the public"]
    )
    assert fallen[2:5] == ["0", "3", "-3"]
    days = [r for r in table if r and r[0].isdigit()]
    assert len(days) == 7 and sum(int(r[2]) for r in days) == 3


def test_pdf_download_is_a_pdf_and_is_recorded(agency: Agency, chief: Client) -> None:
    _messages_on(agency, date(2026, 2, 10), 1)
    figures.refresh(agency, now=datetime(2026, 2, 16, 9, tzinfo=UTC))
    response = chief.get(reverse("insights:pdf") + "?" + _query())
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    event = AuditEvent.objects.filter(event_type="insights.pdf_downloaded").get()
    assert event.data["period"] == ["2026-02-09", "2026-02-15"]
    assert verify_chain().ok


def test_weekly_report_is_made_once_stored_and_served_only_unaltered(
    agency: Agency, chief: Client
) -> None:
    _messages_on(agency, date(2026, 2, 10), 4)
    monday = datetime(2026, 2, 16, 7, 0, tzinfo=UTC)
    made = report.make_weekly(agency, monday)
    assert made is not None
    assert (made.period_start, made.period_end) == (date(2026, 2, 9), date(2026, 2, 15))
    assert (made.compare_start, made.compare_end) == (date(2026, 2, 2), date(2026, 2, 8))
    assert report.make_weekly(agency, monday + timedelta(hours=3)) is None
    assert LeadershipReport.objects.filter(agency=agency).count() == 1
    assert AuditEvent.objects.filter(event_type="insights.weekly_report").count() == 1

    page = chief.get(reverse("insights:overview")).content.decode()
    assert "Weekly report 2026-02-09 to 2026-02-15" in page
    url = reverse("insights:report", args=[made.pk])
    response = chief.get(url)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(event_type="insights.report_downloaded").count() == 1
    with made.file.open("ab") as handle:
        handle.write(b"tampered")
    assert chief.get(url).status_code == 404


def test_weekly_schedule_makes_each_complete_week_once(agency: Agency) -> None:
    from beatdesk.insights import schedule

    def weeks() -> list[tuple[date, date]]:
        return sorted(
            LeadershipReport.objects.filter(agency=agency, kind="weekly").values_list(
                "period_start", "period_end"
            )
        )

    # Sunday evening: the week running now is not complete; the one before is made.
    schedule.run_once(datetime(2026, 2, 15, 20, 0, tzinfo=UTC))
    assert weeks() == [(date(2026, 2, 2), date(2026, 2, 8))]
    # Monday 05:00 is before the report hour: nothing new.
    schedule.run_once(datetime(2026, 2, 16, 5, 0, tzinfo=UTC))
    assert len(weeks()) == 1
    # Missed on Monday (the worker was down): made on Tuesday all the same, once.
    schedule.run_once(datetime(2026, 2, 17, 10, 0, tzinfo=UTC))
    schedule.run_once(datetime(2026, 2, 17, 10, 5, tzinfo=UTC))
    assert weeks() == [
        (date(2026, 2, 2), date(2026, 2, 8)),
        (date(2026, 2, 9), date(2026, 2, 15)),
    ]
