"""Issue 3, acceptance 1, on a full local Bluesky network (PDS, PLC, AppView).

Connect a force account, publish a post (it appears once), a second account mentions
the force and replies to the post, and both arrive in Beatdesk within 5 seconds,
threaded, with raw payloads stored. The worker loop runs as it does in production
(accounts polled when due, every 3 s for Bluesky), not forced.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from beatdesk.agencies.models import Agency
from beatdesk.agencies.roles import Role
from beatdesk.channels import actions, publish, worker
from beatdesk.channels.models import Delivery, InboundMessage
from tests.channels.harness_bluesky import BlueskyHarness, bluesky_platform  # noqa: F401
from tests.conftest import make_staff

ARRIVAL_LIMIT_SECONDS = 5.0


@pytest.mark.django_db
def test_bluesky_publish_once_then_mention_and_reply_arrive_within_5_seconds(
    agency: Agency,
    bluesky_platform: BlueskyHarness,  # noqa: F811
) -> None:
    admin = make_staff(agency, Role.AGENCY_ADMIN, "bsky-admin")
    settings = bluesky_platform.force_account()
    account = actions.connect_account(
        actor=admin,
        kind="bluesky",
        base_url=settings.base_url,
        credentials=dict(settings.credentials),
        label="Force Bluesky",
    )
    assert account.handle and account.platform_account_id.startswith("did:")
    worker.run_once()  # first poll: the cursor starts now

    text = f"Appeal: have you seen this bike? {uuid.uuid4().hex[:8]}"
    delivery = publish.create_delivery(
        actor=admin, account=account, source_type="test", source_id="a1", text=text
    )
    worker.run_once()
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PUBLISHED, delivery.failure_reason
    assert delivery.platform_id.startswith("at://") and delivery.url
    assert bluesky_platform.posts_with_text(text) == 1

    mention_text = f"mentioning the force {uuid.uuid4().hex[:8]}"
    reply_text = f"I saw it near the canal {uuid.uuid4().hex[:8]}"
    mention_id = bluesky_platform.public_mention(mention_text)
    reply_id = bluesky_platform.public_reply(delivery.platform_id, reply_text)
    posted_at = time.monotonic()
    arrived_at: float | None = None
    while time.monotonic() - posted_at < 15:
        worker.run_once()
        if InboundMessage.objects.filter(account=account).count() >= 2:
            arrived_at = time.monotonic()
            break
        time.sleep(0.25)
    assert arrived_at is not None, "mention and reply never arrived"
    elapsed = arrived_at - posted_at
    print(f"mention and reply arrived {elapsed:.2f} s after posting")
    assert elapsed <= ARRIVAL_LIMIT_SECONDS

    messages = {m.platform_id: m for m in InboundMessage.objects.filter(account=account)}
    assert set(messages) == {mention_id, reply_id}
    reply, mention = messages[reply_id], messages[mention_id]
    assert reply.kind == "reply" and reply.reply_to_id == delivery.platform_id
    assert reply.thread_root_id == delivery.platform_id
    assert mention.kind == "mention" and mention_text in mention.text
    for message in (reply, mention):
        raw = json.loads(bytes(message.raw_payload))
        assert message.text in json.dumps(raw, ensure_ascii=False)
        assert message.author_handle.startswith("alice")
    # Nothing arrives twice.
    worker.run_once()
    assert InboundMessage.objects.filter(account=account).count() == 2
