"""Issue 7, acceptance 2, in real Chromium against a live server.

A chief officer opens the insights dashboard, chooses a week and a comparison week of
their own, sees the two side by side (messages, posts, engagement, response times),
and downloads the leadership PDF. The figures come from rows made the way production
makes them: messages stored by the channels ingest and triaged by the inbox, a response
by the inbox action, deliveries published with platform metrics, built by the same
refresh the channels loop runs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from beatdesk.agencies.roles import Role
from beatdesk.audit.models import AuditEvent
from beatdesk.channels.keys import new_post_key
from beatdesk.channels.models import ConnectedAccount, Delivery, InboundMessage
from beatdesk.inbox.models import Conversation
from beatdesk.insights import figures
from beatdesk.insights.models import PostMetrics
from beatdesk.publishing.models import POST_SOURCE, Post, Purpose
from tests.channels.factories import make_account
from tests.conftest import make_agency, make_staff
from tests.inbox.factories import add_neighbourhood, inbound_item, receive
from tests.intelligence.test_acceptance import _sign_in
from tests.test_browser import browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _hour(day: date, hour: int) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)


def _message(account: ConnectedAccount, text: str, moment: datetime, seconds: int) -> None:
    (message,) = receive(account, inbound_item(text))
    InboundMessage.objects.filter(pk=message.pk).update(received_at=moment)
    Conversation.objects.filter(triages__message=message).update(
        first_message_at=moment,
        first_response_at=moment + timedelta(seconds=seconds),
        first_response_seconds=seconds,
        first_response_met=True,
    )


def _post(account: ConnectedAccount, author: Any, moment: datetime, likes: int) -> None:
    post = Post.objects.create(
        agency=account.agency, author=author, text="Road closed", purpose=Purpose.OPERATIONS
    )
    delivery = Delivery.objects.create(
        agency=account.agency,
        account=account,
        source_type=POST_SOURCE,
        source_id=str(post.pk),
        key=new_post_key(),
        text=post.text,
        state=Delivery.State.PUBLISHED,
        platform_id=f"p-{post.pk}",
        published_at=moment,
    )
    PostMetrics.objects.create(delivery=delivery, agency=account.agency, likes=likes, reposts=1)


def test_chief_officer_compares_two_periods_and_downloads_the_pdf(
    live_server: Any,
    browser: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    agency = make_agency("gmp")
    _district, _ward, team = add_neighbourhood(agency)
    account = make_account(agency, scope=ConnectedAccount.Scope.TEAM, team=team)
    comms = make_staff(agency, Role.COMMUNICATIONS, "gmp-comms")
    chief = make_staff(agency, Role.LEADERSHIP, "gmp-chief")
    earlier, later = date(2026, 9, 7), date(2026, 9, 14)  # two Mondays
    for i in range(2):
        moment = datetime.combine(earlier, datetime.min.time(), tzinfo=UTC) + timedelta(
            hours=10 + i
        )
        _message(account, f"Is the footpath by the canal open yet? ({i})", moment, 1800)
    for i in range(5):
        moment = datetime.combine(later, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10 + i)
        _message(
            account, f"Thank you for sorting the parking outside the school ({i})", moment, 240
        )
    _post(account, comms, datetime(2026, 9, 8, 9, tzinfo=UTC), likes=3)
    _post(account, comms, datetime(2026, 9, 15, 9, tzinfo=UTC), likes=20)
    figures.refresh(agency, now=datetime(2026, 9, 21, 8, tzinfo=UTC))

    page = browser.new_page(accept_downloads=True)
    _sign_in(page, live_server.url, chief, "/insights/")
    page.get_by_role("heading", name="Insights", exact=True).wait_for()
    page.get_by_label("From", exact=True).fill("2026-09-14")
    page.get_by_label("To", exact=True).fill("2026-09-20")
    page.get_by_label("Compare with").select_option("custom")
    page.get_by_label("Compare from").fill("2026-09-07")
    page.get_by_label("Compare to").fill("2026-09-13")
    page.get_by_role("button", name="Show").click()
    page.get_by_text(
        "14 Sep 2026 to 20 Sep 2026, compared with 7 Sep 2026 to 13 Sep 2026"
    ).wait_for()

    headline = page.get_by_test_id("headline")
    messages = headline.locator('tr[data-measure="messages"] td')
    assert messages.all_inner_texts()[:2] == ["5", "2"]
    engagements = headline.locator('tr[data-measure="engagements"] td')
    assert engagements.all_inner_texts()[:2] == ["21", "4"]
    median = headline.locator('tr[data-measure="median_response"] td')
    assert median.all_inner_texts()[:2] == ["4 min", "30 min"]
    assert "better" in median.all_inner_texts()[2]
    assert page.locator("svg.chart").count() == 3

    with page.expect_download() as download_info:
        page.get_by_test_id("download-pdf").click()
    saved = tmp_path / "insights.pdf"
    download_info.value.save_as(saved)
    data = saved.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5_000
    assert download_info.value.suggested_filename.endswith("2026-09-14-2026-09-20.pdf")
    event = AuditEvent.objects.get(event_type="insights.pdf_downloaded")
    assert event.actor_id == chief.pk
    assert event.data["compare"] == ["2026-09-07", "2026-09-13"]
