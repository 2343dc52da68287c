"""The whole channel pipeline against each platform: publish at most once, faults, health.

Parametrised over every connector that publishes. Each platform is real where one runs
here (Bluesky: a local AT Protocol network; Mastodon: mastodon-mock) and a stateful
stand-in answering with recorded official payloads otherwise (X, Meta). Counts are
taken on the platform side by the harness, never through the connector under test.

Instagram posts always carry an image, which Instagram downloads from a signed link to
Beatdesk (``publicsite``): the stand-in really fetches it, so a bad link fails the post.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import LazySettings
from django.core import mail
from django.test import Client
from django.utils import timezone

from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Agency, Staff
from beatdesk.agencies.roles import Role
from beatdesk.audit.models import AuditEvent
from beatdesk.channels import actions, ingest, media, publish, worker
from beatdesk.channels.contract import Capability
from beatdesk.channels.models import (
    ChannelAlert,
    ConnectedAccount,
    Delivery,
    InboundMessage,
    MediaFile,
)
from beatdesk.channels.registry import connector_class
from tests.channels.faultproxy import FaultProxy, Rule
from tests.channels.harness import PlatformHarness
from tests.channels.harness_bluesky import bluesky_platform  # noqa: F401
from tests.channels.harness_mastodon import (  # noqa: F401
    MastodonHarness,
    mastodon_platform,
    mastodon_server,
)
from tests.channels.harness_meta import facebook_platform, instagram_platform  # noqa: F401
from tests.channels.harness_x import x_platform  # noqa: F401
from tests.channels.images import JPEG
from tests.channels.livedb import BEATDESK, subprocess_env
from tests.channels.publicsite import public_media, public_site  # noqa: F401
from tests.conftest import force_sign_in, make_staff

# Every test: uploads in a fresh folder, reachable by the platforms through the test site.
pytestmark = pytest.mark.usefixtures("public_media")

PLATFORMS = [
    "mastodon_platform",
    "bluesky_platform",
    "x_platform",
    "facebook_platform",
    "instagram_platform",
]
# The request that creates a post on each platform (the one the faults hit). Instagram's
# second step: the first (the container) publishes nothing.
PUBLISH_PATH = {
    "mastodon": r"^/api/v1/statuses(\?|$)",
    "bluesky": r"com\.atproto\.repo\.createRecord",
    "x": r"^/2/tweets(\?|$)",
    "facebook": r"/feed(\?|$)",
    "instagram": r"/media_publish(\?|$)",
}


@pytest.fixture(params=PLATFORMS)
def platform(request: pytest.FixtureRequest) -> PlatformHarness:
    harness: PlatformHarness = request.getfixturevalue(request.param)
    return harness


@pytest.fixture(autouse=True)
def _no_reconcile_delay(settings: LazySettings) -> None:
    settings.CHANNELS_RECONCILE_DELAY_SECONDS = 0


@pytest.fixture
def admin(agency: Agency) -> Staff:
    staff = make_staff(agency, Role.AGENCY_ADMIN, "chan-admin")
    staff.email = "admin@example.invalid"
    staff.save()
    return staff


@pytest.fixture
def proxy(platform: PlatformHarness) -> Iterator[FaultProxy]:
    with FaultProxy(platform.force_account().base_url) as running:
        yield running


def _connect(
    platform: PlatformHarness, admin: Staff, base_url: str | None = None
) -> ConnectedAccount:
    settings = platform.force_account(base_url)
    return actions.connect_account(
        actor=admin,
        kind=platform.kind,
        base_url=settings.base_url,
        credentials=dict(settings.credentials),
    )


def _text(label: str) -> str:
    return f"{label}: appeal for witnesses {uuid.uuid4().hex[:10]}"


def _image(admin: Staff, alt_text: str = "") -> MediaFile:
    return media.store_media(actor=admin, data=JPEG, alt_text=alt_text)


def _post(
    account: ConnectedAccount, admin: Staff, label: str, images: list[MediaFile] | None = None
) -> Delivery:
    """A post; with an image where the platform requires one (Instagram)."""
    rules = connector_class(account.kind).media_rules
    if images is None and rules is not None and rules.required:
        images = [_image(admin)]
    return publish.create_delivery(
        actor=admin,
        account=account,
        source_type="test",
        source_id=uuid.uuid4().hex,
        text=_text(label),
        media=images or [],
    )


@pytest.mark.django_db
def test_publish_goes_out_once(platform: PlatformHarness, admin: Staff) -> None:
    account = _connect(platform, admin)
    delivery = _post(account, admin, "plain")
    publish.send_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PUBLISHED, delivery.failure_reason
    assert delivery.platform_id and delivery.url
    assert platform.posts_with_text(delivery.text) == 1
    # Sending again (a duplicate task, a second worker) does nothing.
    publish.send_delivery(delivery.pk)
    assert platform.posts_with_text(delivery.text) == 1
    assert AuditEvent.objects.filter(
        event_type="delivery.published", object_id=str(delivery.pk)
    ).exists()


@pytest.mark.django_db
def test_connection_cut_after_the_platform_accepted(
    platform: PlatformHarness, admin: Staff, proxy: FaultProxy
) -> None:
    account = _connect(platform, admin, proxy.url)
    proxy.add(Rule("POST", PUBLISH_PATH[platform.kind], "cut"))
    delivery = _post(account, admin, "cut")
    publish.send_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert proxy.accepted.is_set()
    assert delivery.state == Delivery.State.UNKNOWN  # never "sent", never blindly resent
    assert platform.posts_with_text(delivery.text) == 1
    publish.reconcile_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PUBLISHED, delivery.failure_reason
    assert delivery.platform_id
    assert platform.posts_with_text(delivery.text) == 1
    account.refresh_from_db()
    assert account.status == ConnectedAccount.Status.ACTIVE  # a network fault never disconnects


@pytest.mark.django_db
def test_a_refused_request_is_retried_and_goes_out_once(
    platform: PlatformHarness, admin: Staff, proxy: FaultProxy
) -> None:
    account = _connect(platform, admin, proxy.url)
    proxy.add(Rule("POST", PUBLISH_PATH[platform.kind], "status", status=503))
    delivery = _post(account, admin, "503")
    publish.send_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PENDING and delivery.next_attempt_at > timezone.now()
    assert platform.posts_with_text(delivery.text) == 0
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    publish.send_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PUBLISHED
    assert platform.posts_with_text(delivery.text) == 1
    account.refresh_from_db()
    assert (
        account.status == ConnectedAccount.Status.ACTIVE and account.last_error_reason == "server"
    )


@pytest.mark.django_db
def test_rate_limit_postpones_until_reset(
    platform: PlatformHarness, admin: Staff, proxy: FaultProxy
) -> None:
    account = _connect(platform, admin, proxy.url)
    proxy.add(
        Rule(
            "POST",
            PUBLISH_PATH[platform.kind],
            "status",
            status=429,
            headers={"Retry-After": "120", "Content-Type": "application/json"},
            body=b'{"error": "Too many requests"}',
        )
    )
    delivery = _post(account, admin, "429")
    publish.send_delivery(delivery.pk)
    delivery.refresh_from_db()
    account.refresh_from_db()
    assert delivery.state == Delivery.State.PENDING
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=100)
    assert account.paused_until and account.paused_until > timezone.now() + timedelta(seconds=100)
    assert account.status == ConnectedAccount.Status.ACTIVE
    # A second post waits for the same reset rather than hitting the platform.
    second = _post(account, admin, "429-second")
    publish.send_delivery(second.pk)
    second.refresh_from_db()
    assert second.state == Delivery.State.PENDING and second.waiting_reason
    assert (
        sum(1 for method, path, _ in proxy.log if re.search(PUBLISH_PATH[platform.kind], path)) == 1
    )


@pytest.mark.django_db
def test_revoked_token_breaks_the_channel_alerts_and_fails_posts(
    platform: PlatformHarness,
    admin: Staff,
    django_capture_on_commit_callbacks: Any,
) -> None:
    account = _connect(platform, admin)
    platform.revoke_force_credentials()
    delivery = _post(account, admin, "revoked")
    with django_capture_on_commit_callbacks(execute=True):
        publish.send_delivery(delivery.pk)
    delivery.refresh_from_db()
    account.refresh_from_db()
    assert delivery.state == Delivery.State.FAILED, delivery.state
    assert delivery.failure_code in {"auth_expired", "auth_revoked"}
    assert account.status == ConnectedAccount.Status.BROKEN
    assert platform.posts_with_text(delivery.text) == 0
    alert = ChannelAlert.objects.get(account=account, kind="broken")
    assert any("admin@example.invalid" in m.to for m in mail.outbox)
    # Later posts fail at once; none is ever marked sent.
    later = _post(account, admin, "after-revoke")
    publish.send_delivery(later.pk)
    later.refresh_from_db()
    assert later.state == Delivery.State.FAILED and "broken" in later.failure_reason.lower()
    # The health page shows it, and every page carries the admin banner.
    client = Client()
    force_sign_in(client, admin)
    page = client.get("/channels/").content.decode()
    assert "Broken: reconnect needed" in page and alert.message[:40] in page
    assert "channel alert" in client.get("/").content.decode()
    # No token in any page, audit payload or alert.
    secret_names = {
        name for name, _, secret in connector_class(platform.kind).credential_fields if secret
    }
    for name, secret in platform.force_account().credentials.items():
        if name in secret_names or any(w in name for w in ("token", "password", "secret", "jwt")):
            assert secret not in page
            assert not AuditEvent.objects.filter(data__icontains=secret).exists()
            assert secret not in alert.message


@pytest.mark.django_db
def test_inbound_mentions_and_replies_arrive_once_threaded(
    platform: PlatformHarness, admin: Staff
) -> None:
    account = _connect(platform, admin)
    ingest.poll_account(account.pk)  # the first poll sets the cursor at "now"
    delivery = _post(account, admin, "thread")
    publish.send_delivery(delivery.pk)
    delivery.refresh_from_db()
    mention_id = platform.public_mention(_text("mention"))
    reply_id = platform.public_reply(delivery.platform_id, _text("reply"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ConnectedAccount.objects.filter(pk=account.pk).update(next_poll_at=timezone.now())
        ingest.poll_account(account.pk)
        if InboundMessage.objects.filter(account=account).count() >= 2:
            break
        time.sleep(0.5)
    messages = {m.platform_id: m for m in InboundMessage.objects.filter(account=account)}
    assert set(messages) == {mention_id, reply_id}
    assert messages[reply_id].reply_to_id == delivery.platform_id
    assert messages[reply_id].thread_root_id == delivery.platform_id
    for message in messages.values():
        assert json.loads(bytes(message.raw_payload))
    # Polling again stores nothing twice.
    ConnectedAccount.objects.filter(pk=account.pk).update(next_poll_at=timezone.now())
    assert ingest.poll_account(account.pk).new == 0


@pytest.mark.django_db(transaction=True)
def test_worker_killed_after_the_platform_accepted(
    platform: PlatformHarness, admin: Staff, proxy: FaultProxy, settings: LazySettings
) -> None:
    """Kill -9 the worker while the platform's answer is in flight, then restart it."""
    account = _connect(platform, admin, proxy.url)
    ConnectedAccount.objects.filter(pk=account.pk).update(
        next_poll_at=timezone.now() + timedelta(hours=1)
    )
    proxy.add(Rule("POST", PUBLISH_PATH[platform.kind], "hold"))
    env = subprocess_env(
        BEATDESK_DELIVERY_LEASE_SECONDS="3",
        BEATDESK_RECONCILE_DELAY_SECONDS="0",
        # The worker's signed image links must point at the test site and its files.
        BEATDESK_PUBLIC_URL=settings.BEATDESK_PUBLIC_URL,
        BEATDESK_MEDIA_ROOT=str(settings.MEDIA_ROOT),
        BEATDESK_SECRET_KEY=settings.SECRET_KEY,
    )
    delivery = _post(account, admin, "kill")
    first = subprocess.Popen([*BEATDESK, "channels", "run", "--tick", "0.1"], env=env)
    try:
        assert proxy.accepted.wait(timeout=60), "the worker never reached the platform"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
        proxy.release()
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENDING  # the worker died mid-request
    assert platform.posts_with_text(delivery.text) == 1
    second = subprocess.Popen([*BEATDESK, "channels", "run", "--tick", "0.2"], env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            delivery.refresh_from_db()
            if delivery.state == Delivery.State.PUBLISHED:
                break
            time.sleep(0.3)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=20)
    assert delivery.state == Delivery.State.PUBLISHED, (delivery.state, delivery.failure_reason)
    assert delivery.platform_id
    assert platform.posts_with_text(delivery.text) == 1


@pytest.mark.django_db
def test_worker_loop_sends_and_polls(platform: PlatformHarness, admin: Staff) -> None:
    account = _connect(platform, admin)
    delivery = _post(account, admin, "loop")
    report = worker.run_once()
    assert report.sent == 1 and report.polled == 1
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PUBLISHED


@pytest.mark.django_db
def test_platform_edits_and_deletions_are_recorded_with_the_original_kept(
    mastodon_platform: MastodonHarness,  # noqa: F811
    admin: Staff,
) -> None:
    account = _connect(mastodon_platform, admin)
    ingest.poll_account(account.pk)  # cursor at "now"
    original = _text("original")
    mention_id = mastodon_platform.public_mention(original)
    ConnectedAccount.objects.filter(pk=account.pk).update(next_poll_at=timezone.now())
    assert ingest.poll_account(account.pk).new == 1

    mastodon_platform.edit_as_public(mention_id, f"@{mastodon_platform.force.username} edited")
    assert worker.refresh_recent_messages() == 1
    message = InboundMessage.objects.get(platform_id=mention_id)
    assert "edited" in message.text and message.edited_at is not None

    mastodon_platform.delete_as_public(mention_id)
    assert worker.refresh_recent_messages() == 1
    message.refresh_from_db()
    assert message.deleted_on_platform_at is not None
    kinds = list(message.revisions.values_list("kind", flat=True))
    assert kinds == ["original", "edit", "delete"]
    assert original in message.revisions.get(kind="original").text
    assert worker.refresh_recent_messages() == 0  # nothing changes twice


@pytest.mark.django_db
def test_publish_with_an_image_sends_those_bytes_once(
    platform: PlatformHarness, admin: Staff
) -> None:
    account = _connect(platform, admin)
    image = _image(admin, alt_text="Officers at the Northtown market stall")
    delivery = _post(account, admin, "image", images=[image])
    publish.send_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PUBLISHED, delivery.failure_reason
    assert platform.posts_with_text(delivery.text) == 1
    # The platform holds exactly the bytes that were stored.
    assert platform.media_of_post(delivery.text) == [image.sha256]


@pytest.mark.django_db
def test_hiding_a_reply_on_the_platform(platform: PlatformHarness, admin: Staff) -> None:
    account = _connect(platform, admin)
    ingest.poll_account(account.pk)  # cursor at "now"
    delivery = _post(account, admin, "hide")
    publish.send_delivery(delivery.pk)
    delivery.refresh_from_db()
    reply_id = platform.public_reply(delivery.platform_id, _text("spam reply"))
    deadline = time.monotonic() + 45
    while not InboundMessage.objects.filter(platform_id=reply_id).exists():
        assert time.monotonic() < deadline, "the reply never arrived"
        ConnectedAccount.objects.filter(pk=account.pk).update(next_poll_at=timezone.now())
        ingest.poll_account(account.pk)
        time.sleep(0.3)
    message = InboundMessage.objects.get(platform_id=reply_id)
    if Capability.HIDE not in connector_class(account.kind).capabilities:
        with pytest.raises(ActionError, match="report"):
            actions.hide_inbound_message(actor=admin, message=message, reason="Spam")
        message.refresh_from_db()
        assert message.hidden_on_platform_at is None
        return
    assert not platform.is_hidden(reply_id)
    actions.hide_inbound_message(actor=admin, message=message, reason="Spam: repeated link")
    assert platform.is_hidden(reply_id)
    message.refresh_from_db()
    assert message.hidden_on_platform_at is not None and message.hidden_by == admin
    event = AuditEvent.objects.get(event_type="inbound.hidden", object_id=str(message.pk))
    assert event.data["reason"] == "Spam: repeated link" and event.actor == admin
    # Again: nothing is sent, nothing more is recorded.
    actions.hide_inbound_message(actor=admin, message=message, reason="Spam")
    assert AuditEvent.objects.filter(event_type="inbound.hidden").count() == 1
    assert platform.is_hidden(reply_id)
    account.refresh_from_db()
    assert account.status == ConnectedAccount.Status.ACTIVE
