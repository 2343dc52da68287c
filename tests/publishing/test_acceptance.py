"""Issue 5, acceptance 2, in real Chromium against a live server and a full local
Bluesky network (PDS, PLC, AppView from @atproto/dev-env).

1. A trusted officer writes a post naming a sexual-offence victim. The screen, running
   as they type, turns red and explains the law (lifelong anonymity). They fix the text,
   it turns green, they submit, and the channels loop publishes it to Bluesky.
2. The officer writes an amber post (a private person's name). It waits: nothing is on
   Bluesky. Their supervisor, signed in elsewhere, finds it waiting for approval,
   approves it, and it is published exactly once.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest

from beatdesk.accounts import totp
from beatdesk.agencies.models import Agency, Staff
from beatdesk.agencies.roles import Role
from beatdesk.channels import actions as channel_actions
from beatdesk.channels.models import ConnectedAccount, Delivery
from beatdesk.publishing.models import AuthorTrust, Post
from beatdesk.publishing.review import trust_of
from tests.channels.harness_bluesky import BlueskyHarness, bluesky_platform  # noqa: F401
from tests.conftest import PASSWORD, make_agency, make_staff
from tests.test_browser import browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Any, base: str, staff: Staff) -> None:
    page.goto(f"{base}/publishing/")
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("6-digit code").fill(totp.current_code(staff.totp_secret))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Posts", exact=True).wait_for()


def _wait_published(post: Post, timeout: float = 20.0) -> Delivery:
    deadline = time.monotonic() + timeout
    delivery = Delivery.objects.get(source_type="publishing.post", source_id=str(post.pk))
    while delivery.state != Delivery.State.PUBLISHED and time.monotonic() < deadline:
        time.sleep(0.25)
        delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PUBLISHED, delivery.failure_reason
    return delivery


def _type_and_wait_for(page: Any, text: str, risk: str) -> Any:
    page.get_by_label("Post", exact=True).fill(text)
    result = page.locator(f'[data-testid="screen-result"][data-risk="{risk}"]')
    result.wait_for(timeout=10_000)
    return result


def test_red_is_explained_fixed_and_published_and_amber_waits_for_the_supervisor(
    live_server: Any,
    browser: Any,  # noqa: F811
    bluesky_platform: BlueskyHarness,  # noqa: F811
    channels_loop: None,
) -> None:
    agency: Agency = make_agency("gmp")
    admin = make_staff(agency, Role.AGENCY_ADMIN, "gmp-admin")
    officer = make_staff(agency, Role.OFFICER, "pc.jones")
    supervisor = make_staff(agency, Role.SUPERVISOR, "sgt.patel")
    connection = bluesky_platform.force_account()
    account = channel_actions.connect_account(
        actor=admin,
        kind="bluesky",
        base_url=connection.base_url,
        credentials=dict(connection.credentials),
        label="Salford neighbourhood",
    )
    ConnectedAccount.objects.filter(pk=account.pk).update(
        scope=ConnectedAccount.Scope.TEAM, team=agency.teams.get()
    )
    account.refresh_from_db()
    # This officer has a track record: green posts publish without review.
    AuthorTrust.objects.filter(pk=trust_of(officer).pk).update(credit=10)
    ref = secrets.token_hex(3)

    page = browser.new_page()
    _sign_in(page, live_server.url, officer)
    page.get_by_role("link", name="Write a post").click()
    page.get_by_role("heading", name="New post").wait_for()
    page.get_by_label(str(account)).check()

    # 1. Red, explained; fixed; green; published.
    named = (
        "Jane Smith, 24, who was sexually assaulted in Salford on Friday, has thanked "
        f"officers and the public for their support. Ref {ref}."
    )
    red = _type_and_wait_for(page, named, "red")
    assert "Red" in red.get_by_test_id("screen-risk").inner_text()
    finding = red.get_by_test_id("finding").first.inner_text()
    assert "Sexual Offences (Amendment) Act 1992" in finding
    assert "Jane Smith" in finding
    assert red.locator("mark.sev-red").inner_text() == "Jane Smith"

    fixed = (
        "A woman in her 20s who was sexually assaulted in Salford on Friday has thanked "
        f"officers and the public for their support. Ref {ref}."
    )
    green = _type_and_wait_for(page, fixed, "green")
    assert "Green" in green.inner_text()
    assert "of 300 characters" in green.get_by_test_id("preview").inner_text()
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Sent: each account's state shows below.").wait_for()

    post = Post.objects.get(text=fixed)
    assert post.risk == "green" and post.state == Post.State.PUBLISHING
    delivery = _wait_published(post)
    record = bluesky_platform.get_record(delivery.platform_id)
    assert record is not None and record["value"]["text"] == fixed
    assert bluesky_platform.posts_with_text(fixed) == 1
    assert bluesky_platform.posts_with_text(named) == 0
    page.reload()
    page.get_by_test_id("post-account").get_by_text("Published").wait_for()

    # 2. Amber waits for the supervisor, who approves it; it is published once.
    page.goto(f"{live_server.url}/publishing/new/")
    page.get_by_label(str(account)).check()
    thanks = f"Thanks to Sarah Jones for her help today with the litter pick in Chorlton. {ref}"
    _type_and_wait_for(page, thanks, "amber")
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Sent for approval.").wait_for()
    assert "Waiting for approval" in page.get_by_test_id("post-state").inner_text()
    amber = Post.objects.get(text=thanks)
    time.sleep(1.0)  # a loop tick or more: still nothing may go out
    assert not Delivery.objects.filter(source_id=str(amber.pk)).exists()
    assert bluesky_platform.posts_with_text(thanks) == 0

    reviewer = browser.new_page()
    _sign_in(reviewer, live_server.url, supervisor)
    row = reviewer.get_by_test_id("post-row").filter(has_text="Sarah Jones")
    row.get_by_role("link").click()
    reviewer.get_by_role("heading", name=f"Post {amber.pk}").wait_for()
    assert "Sarah Jones" in reviewer.locator("mark.sev-amber").inner_text()
    reviewer.get_by_role("button", name="Approve and publish").click()
    reviewer.get_by_text("Approved.").wait_for()
    # A second click (a double-submit, or a stale tab) must not publish twice.
    reviewer.go_back()
    reviewer.reload()
    assert reviewer.get_by_role("button", name="Approve and publish").count() == 0

    delivery = _wait_published(amber)
    assert bluesky_platform.posts_with_text(thanks) == 1
    assert Delivery.objects.filter(source_id=str(amber.pk)).count() == 1
    amber.refresh_from_db()
    assert amber.approved_by == supervisor
    reviewer.reload()
    reviewer.get_by_test_id("post-account").get_by_text("Published").wait_for()
