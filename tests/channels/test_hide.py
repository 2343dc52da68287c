"""``actions.hide_inbound_message``: what the operator is told, and what is recorded.

Hiding on each platform end to end (real Bluesky network, mastodon-mock, the X and
Graph stand-ins) is in ``test_pipeline.py``; the connectors' own behaviour in their
``test_connector_*`` files. Here: refusals, transient versus permanent wording,
idempotency, and that nothing is recorded unless the platform agreed.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Agency, Staff
from beatdesk.agencies.roles import Role
from beatdesk.audit.models import AuditEvent
from beatdesk.channels import actions, publish
from beatdesk.channels.models import ConnectedAccount, Delivery, InboundMessage
from tests.channels.factories import make_account
from tests.channels.faultproxy import FaultProxy, Rule
from tests.channels.harness_meta import FacebookHarness, facebook_platform  # noqa: F401
from tests.channels.harness_x import XHarness, x_platform  # noqa: F401
from tests.conftest import make_agency, make_staff


@pytest.fixture
def operator(agency: Agency) -> Staff:
    return make_staff(agency, Role.DESK_OPERATOR, "hide-operator")


def _message(account: ConnectedAccount, platform_id: str, **fields: object) -> InboundMessage:
    return InboundMessage.objects.create(
        agency=account.agency,
        account=account,
        platform=account.kind,
        platform_id=platform_id,
        kind="reply",
        author_handle="spammer",
        text="Buy followers",
        created_at=timezone.now(),
        raw_payload=b"{}",
        **fields,
    )


def _connect(
    platform: XHarness | FacebookHarness, agency: Agency, base_url: str | None = None
) -> ConnectedAccount:
    admin = make_staff(agency, Role.AGENCY_ADMIN, f"hide-admin-{platform.kind}")
    settings = platform.force_account(base_url)
    return actions.connect_account(
        actor=admin,
        kind=platform.kind,
        base_url=settings.base_url,
        credentials=dict(settings.credentials),
    )


def _reply_to_our_post(platform: XHarness, account: ConnectedAccount, actor: Staff) -> str:
    delivery = publish.create_delivery(
        actor=actor, account=account, source_type="test", source_id="1", text="Appeal"
    )
    publish.send_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PUBLISHED
    return platform.public_reply(delivery.platform_id, "buy followers")


@pytest.mark.django_db
def test_platforms_without_hiding_are_explained(agency: Agency, operator: Staff) -> None:
    mastodon = _message(make_account(agency, "mastodon"), "example.social:1")
    with pytest.raises(ActionError, match="report the message to its server's moderators"):
        actions.hide_inbound_message(actor=operator, message=mastodon, reason="Spam")
    replay = _message(make_account(agency, "replay"), "replay-1")
    with pytest.raises(ActionError, match="drill"):
        actions.hide_inbound_message(actor=operator, message=replay, reason="Spam")
    assert not AuditEvent.objects.filter(event_type="inbound.hidden").exists()


@pytest.mark.django_db
def test_refusals_before_any_platform_call(agency: Agency, operator: Staff) -> None:
    account = make_account(agency, "x")  # points nowhere: a call would fail loudly
    message = _message(account, "1990000000000000999")
    with pytest.raises(ActionError, match="Say why"):
        actions.hide_inbound_message(actor=operator, message=message, reason="  ")
    other = make_staff(make_agency("other", kind="fire"), Role.DESK_OPERATOR, "other-op")
    with pytest.raises(ActionError, match="another agency"):
        actions.hide_inbound_message(actor=other, message=message, reason="Spam")
    deleted = _message(account, "1990000000000000998", deleted_on_platform_at=timezone.now())
    with pytest.raises(ActionError, match="deleted on the platform"):
        actions.hide_inbound_message(actor=operator, message=deleted, reason="Spam")
    ConnectedAccount.objects.filter(pk=account.pk).update(status=ConnectedAccount.Status.BROKEN)
    message.refresh_from_db()
    with pytest.raises(ActionError, match="reconnect it"):
        actions.hide_inbound_message(actor=operator, message=message, reason="Spam")
    message.refresh_from_db()
    assert message.hidden_on_platform_at is None


@pytest.mark.django_db
def test_already_hidden_sends_nothing(agency: Agency, operator: Staff) -> None:
    account = make_account(agency, "x")  # points nowhere
    message = _message(account, "1990000000000000997", hidden_on_platform_at=timezone.now())
    assert actions.hide_inbound_message(actor=operator, message=message, reason="Spam") == message
    assert not AuditEvent.objects.filter(event_type="inbound.hidden").exists()


@pytest.mark.django_db
def test_a_platform_outage_says_try_again_and_changes_nothing(
    x_platform: XHarness,  # noqa: F811
    agency: Agency,
    operator: Staff,
) -> None:
    with FaultProxy(x_platform.server.url) as proxy:
        account = _connect(x_platform, agency, proxy.url)
        reply = _reply_to_our_post(x_platform, account, operator)
        message = _message(account, reply)
        proxy.add(Rule("PUT", r"/hidden$", "status", status=503))
        with pytest.raises(ActionError) as caught:
            actions.hide_inbound_message(actor=operator, message=message, reason="Spam")
        assert "could not be reached" in str(caught.value) and "try again" in str(caught.value)
        message.refresh_from_db()
        assert message.hidden_on_platform_at is None and not x_platform.is_hidden(reply)
        assert not AuditEvent.objects.filter(event_type="inbound.hidden").exists()
        account.refresh_from_db()
        assert account.status == ConnectedAccount.Status.ACTIVE
        assert account.last_error_reason == "server"
        # The next try goes through.
        actions.hide_inbound_message(actor=operator, message=message, reason="Spam")
    assert x_platform.is_hidden(reply)
    event = AuditEvent.objects.get(event_type="inbound.hidden")
    assert event.data["reason"] == "Spam" and event.personal_data == "alteration"


@pytest.mark.django_db
def test_a_refusal_says_why_and_keeps_the_channel_working(
    x_platform: XHarness,  # noqa: F811
    agency: Agency,
    operator: Staff,
) -> None:
    account = _connect(x_platform, agency)
    not_ours = _message(account, x_platform.public_mention("their own post"))
    with pytest.raises(ActionError) as caught:
        actions.hide_inbound_message(actor=operator, message=not_ours, reason="Abuse")
    assert str(caught.value).startswith("X refused to hide this message")
    assert "conversations the account started" in str(caught.value)
    account.refresh_from_db()
    assert account.status == ConnectedAccount.Status.ACTIVE


@pytest.mark.django_db
def test_facebook_posts_on_the_page_cannot_be_hidden(
    facebook_platform: FacebookHarness,  # noqa: F811
    agency: Agency,
    operator: Staff,
) -> None:
    account = _connect(facebook_platform, agency)
    visitor_post = _message(account, facebook_platform.public_mention("Visitor post"))
    with pytest.raises(ActionError, match="only comments can be hidden"):
        actions.hide_inbound_message(actor=operator, message=visitor_post, reason="Spam")
