"""The Mastodon connector against a real Mastodon API server (``mastodon_mock``) over HTTP.

Results are checked on the server side through the harness, never through the
connector under test; faults come from ``FaultProxy`` between the two. The HTML
conversion tests and the two ``httpx.MockTransport`` tests (media still being
processed; requests that must never be sent) need no server.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from beatdesk.channels.connectors.mastodon.connector import MastodonConnector, html_to_text
from beatdesk.channels.contract import (
    Capability,
    ConnectionSettings,
    ConnectorError,
    ErrorReason,
    InboundKind,
    OutboundMedia,
    OutboundPost,
    PostingCap,
    ProfilePage,
)
from beatdesk.channels.keys import new_post_key
from beatdesk.channels.registry import connector_class
from beatdesk.core.http import HttpClient
from tests.channels.faultproxy import FaultProxy, Rule
from tests.channels.harness_mastodon import MastodonHarness, mastodon_platform, mastodon_server  # noqa: F401

# A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082"
)


@pytest.fixture
def http() -> Iterator[HttpClient]:
    with HttpClient(read_timeout=15) as client:
        yield client


@pytest.fixture
def connector(mastodon_platform: MastodonHarness, http: HttpClient) -> MastodonConnector:  # noqa: F811
    return MastodonConnector(mastodon_platform.force_account(), http)


def unique(words: str) -> str:
    return f"{words} ({secrets.token_hex(4)})"


def outbound(
    text: str, *, media: tuple[OutboundMedia, ...] = (), reply_to_id: str = ""
) -> OutboundPost:
    return OutboundPost(key=new_post_key(), text=text, media=media, reply_to_id=reply_to_id)


# ---------------------------------------------------------------------- registry, verify


def test_the_registry_builds_the_mastodon_connector() -> None:
    cls = connector_class("mastodon")
    assert cls is MastodonConnector
    assert cls.idempotent_publish is True
    assert cls.posting_cap == PostingCap(posts=300, per_seconds=3 * 60 * 60)
    assert cls.credential_fields == (("access_token", "Access token", True),)
    assert {Capability.PUBLISH, Capability.FETCH_INBOUND, Capability.DIRECT_MESSAGES} <= (
        cls.capabilities
    )


def test_verify_names_the_force_account(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    identity = connector.verify()
    expected = mastodon_platform.force_account()
    assert identity.platform_account_id == expected.platform_account_id
    assert (
        identity.platform_account_id == f"{mastodon_platform.domain}:{mastodon_platform.force.id}"
    )
    assert identity.handle == f"{mastodon_platform.force.username}@{mastodon_platform.domain}"
    assert identity.display_name == "Test Constabulary"
    assert identity.url.endswith(f"/@{mastodon_platform.force.username}")


# ---------------------------------------------------------------------- publishing


def test_publish_makes_exactly_one_public_post(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    text = unique("The A34 is closed northbound after a collision")
    ref = connector.publish(outbound(text))
    assert mastodon_platform.posts_with_text(text) == 1
    status = mastodon_platform.status(ref.platform_id)
    assert status is not None
    assert ref.platform_id == mastodon_platform.qualify(status["id"])
    assert status["visibility"] == "public"
    assert ref.url == status["url"]
    assert ref.published_at is not None
    assert abs(ref.published_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_the_same_key_twice_makes_one_post_and_the_mock_honours_idempotency_key(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    text = unique("Officers are at the scene")
    post = outbound(text)
    first = connector.publish(post)
    second = connector.publish(post)
    assert second.platform_id == first.platform_id
    assert mastodon_platform.posts_with_text(text) == 1
    # The key, not the text, is what makes the repeat harmless: a new key posts again.
    third = connector.publish(outbound(text))
    assert third.platform_id != first.platform_id
    assert mastodon_platform.posts_with_text(text) == 2


def test_a_connection_cut_after_the_post_is_made_is_reconciled_to_one_post(
    mastodon_platform: MastodonHarness,  # noqa: F811
    http: HttpClient,
) -> None:
    text = unique("Missing person found safe, thank you for sharing")
    post = outbound(text)
    since = datetime.now(UTC)
    with FaultProxy(mastodon_platform.server.base_url) as proxy:
        rule = proxy.add(Rule("POST", r"^/api/v1/statuses$", "cut"))
        proxied = MastodonConnector(mastodon_platform.force_account(proxy.url), http)
        with pytest.raises(ConnectorError) as caught:
            proxied.publish(post)
        error = caught.value
        assert error.outcome_unknown is True
        assert error.permanent is False
        assert error.reason is ErrorReason.NETWORK
        assert rule.hits == 1
        assert ("POST", "/api/v1/statuses", 200) in proxy.log  # the server did accept it
        assert mastodon_platform.posts_with_text(text) == 1

        found = proxied.find_published(post, since)
        assert found is not None
        assert mastodon_platform.source_text(found.platform_id) == text

        again = proxied.publish(post)  # a retry with the same key after reconciling
        assert again.platform_id == found.platform_id
    assert mastodon_platform.posts_with_text(text) == 1


def test_find_published_matches_the_exact_text_only(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    since = datetime.now(UTC)
    stem = unique("Road closed")
    published = outbound(f"{stem}.")
    ref = connector.publish(published)
    assert connector.find_published(published, since) == ref
    # The same words with other punctuation, and words never posted, are not it.
    assert connector.find_published(outbound(f"{stem}!"), since) is None
    assert connector.find_published(outbound(unique("Road open")), since) is None
    # Nor is a post made before the attempt being reconciled.
    assert connector.find_published(published, since + timedelta(minutes=10)) is None


def test_find_published_sees_through_markup_the_server_rendered(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    # The mock renders *this* as <em>this</em>: only the source text matches exactly.
    since = datetime.now(UTC)
    post = outbound(unique("Please *do not* approach him,   call 999"))
    ref = connector.publish(post)
    assert connector.find_published(post, since) == ref
    assert mastodon_platform.posts_with_text(post.text) == 1


def test_a_text_the_server_refuses_is_a_permanent_rejection(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    text = "x" * 501
    with pytest.raises(ConnectorError) as caught:
        connector.publish(outbound(text))
    error = caught.value
    assert (error.permanent, error.reason, error.status) == (True, ErrorReason.REJECTED, 422)
    assert error.outcome_unknown is False
    assert error.breaks_account is False
    assert "too long" in error.message
    assert mastodon_platform.posts_with_text(text) == 0


def test_media_is_uploaded_with_its_alt_text(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    text = unique("Have you seen this bicycle?")
    media = OutboundMedia(data=PNG, mime_type="image/png", alt_text="A red bicycle")
    ref = connector.publish(outbound(text, media=(media,)))
    status = mastodon_platform.status(ref.platform_id)
    assert status is not None
    [attachment] = status["media_attachments"]
    assert attachment["type"] == "image"
    assert attachment["description"] == "A red bicycle"
    assert httpx.get(attachment["url"]).content == PNG
    assert mastodon_platform.posts_with_text(text) == 1


class _NoWait(MastodonConnector):
    media_poll_interval = 0.0


def test_media_still_processing_is_awaited_before_posting() -> None:
    calls: list[tuple[str, str]] = []
    media_polls = iter([206, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append((request.method, request.url.path))
        if request.url.path == "/api/v2/media":
            return httpx.Response(202, json={"id": "7", "type": "image", "url": None})
        if request.url.path == "/api/v1/media/7":
            status = next(media_polls)
            url = "https://social.example/m/7.png" if status == 200 else None
            return httpx.Response(status, json={"id": "7", "url": url})
        body = json.loads(request.content)
        assert body["media_ids"] == ["7"]
        return httpx.Response(
            200, json={"id": "99", "url": "https://social.example/@force/99", "created_at": None}
        )

    settings = ConnectionSettings(
        base_url="https://social.example",
        credentials={"access_token": "t0ken"},
        handle="force@social.example",
    )
    with HttpClient(transport=httpx.MockTransport(handler)) as http:
        ref = _NoWait(settings, http).publish(
            outbound("Appeal", media=(OutboundMedia(PNG, "image/png", "alt"),))
        )
    assert ref.platform_id == "social.example:99"
    assert calls == [
        ("POST", "/api/v2/media"),
        ("GET", "/api/v1/media/7"),
        ("GET", "/api/v1/media/7"),
        ("POST", "/api/v1/statuses"),
    ]


def test_a_reply_to_a_direct_message_stays_direct_and_reaches_the_sender(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    start = connector.fetch_inbound("")
    mastodon_platform.public_direct(unique("My neighbour's house is being watched"))
    [message] = connector.fetch_inbound(start.cursor).items
    since = datetime.now(UTC)
    text = unique("Thank you, an officer will call you today.")
    reply = outbound(text, reply_to_id=message.platform_id)
    ref = connector.publish(reply)
    status = mastodon_platform.status(ref.platform_id)
    assert status is not None
    assert status["visibility"] == "direct"  # never broadcast an answer to a private message
    assert status["in_reply_to_id"] == mastodon_platform.local(message.platform_id)
    assert [m["acct"] for m in status["mentions"]] == [mastodon_platform.public.username]
    sent = f"@{mastodon_platform.public.username} {text}"
    assert mastodon_platform.source_text(ref.platform_id) == sent
    assert connector.find_published(reply, since) == ref  # despite the added mention


def test_a_reply_in_the_forces_own_thread_is_public_and_unchanged(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    first = connector.publish(outbound(unique("Update 1: the road is closed")))
    text = unique("Update 2: the road has reopened")
    ref = connector.publish(outbound(text, reply_to_id=first.platform_id))
    status = mastodon_platform.status(ref.platform_id)
    assert status is not None
    assert status["visibility"] == "public"
    assert status["in_reply_to_id"] == mastodon_platform.local(first.platform_id)
    assert mastodon_platform.source_text(ref.platform_id) == text


# ---------------------------------------------------------------------- inbound


def test_mentions_replies_and_direct_messages_arrive_oldest_first(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    force = mastodon_platform.force.username
    start = connector.fetch_inbound("")
    assert list(start.items) == []
    assert start.cursor == "0"  # nothing yet: everything after "before the first"
    ours = connector.publish(outbound(unique("Appeal for witnesses")))
    mention_text = unique("Is the bypass open again?")
    reply_text = unique("I saw a blue van there at 10pm")
    dm_text = unique("I know who did it & <b>where</b> they are")
    mention_id = mastodon_platform.public_mention(mention_text)
    reply_id = mastodon_platform.public_reply(ours.platform_id, reply_text)
    dm_id = mastodon_platform.public_direct(dm_text)

    page = connector.fetch_inbound(start.cursor)
    assert [item.platform_id for item in page.items] == [mention_id, reply_id, dm_id]
    assert [item.kind for item in page.items] == [
        InboundKind.MENTION,
        InboundKind.REPLY,
        InboundKind.DIRECT,
    ]
    assert page.more is False
    mention, reply, dm = page.items
    assert mention.text == f"@{force} {mention_text}"
    assert reply.text == f"@{force} {reply_text}"
    assert dm.text == f"@{force} {dm_text}"  # entities unescaped, no markup left
    assert (mention.reply_to_id, mention.thread_root_id) == ("", "")
    assert (reply.reply_to_id, reply.thread_root_id) == (ours.platform_id, ours.platform_id)
    for item in page.items:
        assert item.author_id == mastodon_platform.qualify(mastodon_platform.public.id)
        assert (
            item.author_handle == f"{mastodon_platform.public.username}@{mastodon_platform.domain}"
        )
        assert item.author_display_name == "A Resident"
        assert item.author_location == ""
        assert abs(item.created_at - datetime.now(UTC)) < timedelta(minutes=1)
        assert item.edited_at is None
        status = mastodon_platform.status(item.platform_id)
        assert status is not None
        assert item.url == status["url"]
        raw = json.loads(item.raw)
        assert raw["type"] == "mention"
        assert raw["status"]["id"] == mastodon_platform.local(item.platform_id)
        assert raw["status"]["content"] == status["content"]

    later = connector.fetch_inbound(page.cursor)
    assert list(later.items) == []
    assert later.cursor == page.cursor


def test_direct_messages_held_back_by_the_notification_policy_still_arrive(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    mastodon_platform.filter_private_mentions()
    start = connector.fetch_inbound("")
    sent = mastodon_platform.public_direct(unique("Please help, I am scared to call"))
    page = connector.fetch_inbound(start.cursor)
    assert [(item.platform_id, item.kind) for item in page.items] == [(sent, InboundKind.DIRECT)]


def test_the_thread_root_is_found_up_a_reply_chain(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    start = connector.fetch_inbound("")
    ours = connector.publish(outbound(unique("Road closure on Market Street")))
    first = mastodon_platform.public_reply(ours.platform_id, unique("How long for?"))
    connector_reply = connector.publish(outbound(unique("Until 6pm"), reply_to_id=first))
    second = mastodon_platform.public_reply(connector_reply.platform_id, unique("Thanks!"))
    page = connector.fetch_inbound(start.cursor)
    by_id = {item.platform_id: item for item in page.items}
    assert list(by_id) == [first, second]
    assert by_id[second].reply_to_id == connector_reply.platform_id
    assert by_id[second].thread_root_id == ours.platform_id
    assert by_id[first].thread_root_id == ours.platform_id


def test_an_empty_cursor_starts_now_without_the_backlog(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    mastodon_platform.public_mention(unique("An old question"))
    start = connector.fetch_inbound("")
    assert list(start.items) == []
    assert start.cursor not in {"", "0"}
    fresh = mastodon_platform.public_mention(unique("A new question"))
    page = connector.fetch_inbound(start.cursor)
    assert [item.platform_id for item in page.items] == [fresh]


def test_a_full_page_asks_for_more(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    start = connector.fetch_inbound("")
    sent = [mastodon_platform.public_mention(unique(f"Question {n}")) for n in range(3)]
    first = connector.fetch_inbound(start.cursor, limit=2)
    assert [item.platform_id for item in first.items] == sent[:2]
    assert first.more is True
    second = connector.fetch_inbound(first.cursor, limit=2)
    assert [item.platform_id for item in second.items] == sent[2:]
    assert second.more is False


def test_a_content_warning_and_a_location_field_are_kept(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    mastodon_platform.set_public_profile(note="<p>Cyclist &amp; parent</p>", location="Salford")
    start = connector.fetch_inbound("")
    mastodon_platform.post_as_public(
        f"@{mastodon_platform.force.username} there was a crash", spoiler_text="injury"
    )
    [item] = connector.fetch_inbound(start.cursor).items
    assert item.text == f"CW: injury\n\n@{mastodon_platform.force.username} there was a crash"
    assert item.author_location == "Salford"


def test_refresh_records_edits_and_deletions(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    force = mastodon_platform.force.username
    start = connector.fetch_inbound("")
    kept = mastodon_platform.public_mention(unique("Is anyone hurt?"))
    gone = mastodon_platform.public_mention(unique("Something I regret"))
    assert len(connector.fetch_inbound(start.cursor).items) == 2
    mastodon_platform.edit_as_public(kept, f"@{force} Is anyone hurt? (edited)")
    mastodon_platform.delete_as_public(gone)
    current = connector.refresh_items([kept, gone])
    assert set(current) == {kept, gone}
    assert current[gone] is None
    item = current[kept]
    assert item is not None
    assert item.text == f"@{force} Is anyone hurt? (edited)"
    assert item.edited_at is not None
    assert item.kind is InboundKind.MENTION
    assert json.loads(item.raw)["id"] == mastodon_platform.local(kept)


# ---------------------------------------------------------------------- errors


def test_a_revoked_token_is_permanent_and_breaks_the_account(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    connector.verify()
    mastodon_platform.revoke_force_credentials()
    caplog.set_level(logging.DEBUG)
    errors = []
    for call in (
        connector.verify,
        lambda: connector.fetch_inbound("0"),
        lambda: connector.publish(outbound(unique("After revocation"))),
    ):
        with pytest.raises(ConnectorError) as caught:
            call()
        errors.append(caught.value)
    for error in errors:
        assert error.permanent is True
        assert error.breaks_account is True
        assert error.reason is ErrorReason.AUTH_EXPIRED
        assert error.status == 401
        assert error.outcome_unknown is False
        for shown in (str(error), repr(error), error.message):
            assert mastodon_platform.force.token not in shown
    assert mastodon_platform.force.token not in caplog.text
    assert "beatdesk.http" in {record.name for record in caplog.records}  # calls were logged


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"error":"The access token was revoked"}', ErrorReason.AUTH_REVOKED),
        (b'{"error":"The access token is invalid"}', ErrorReason.AUTH_EXPIRED),
        (b'{"error":"Your login is currently disabled"}', ErrorReason.AUTH_REVOKED),
    ],
)
def test_mastodons_auth_errors_are_told_apart(
    mastodon_platform: MastodonHarness,  # noqa: F811
    http: HttpClient,
    body: bytes,
    reason: ErrorReason,
) -> None:
    status = 403 if b"disabled" in body else 401
    with FaultProxy(mastodon_platform.server.base_url) as proxy:
        proxy.add(
            Rule("GET", r"^/api/v1/accounts/verify_credentials", "status", status=status, body=body)
        )
        with pytest.raises(ConnectorError) as caught:
            MastodonConnector(mastodon_platform.force_account(proxy.url), http).verify()
    assert (caught.value.reason, caught.value.permanent, caught.value.breaks_account) == (
        reason,
        True,
        True,
    )


def test_a_rate_limit_is_transient_until_the_reset(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
    http: HttpClient,
) -> None:
    reset = (datetime.now(UTC) + timedelta(seconds=90)).replace(microsecond=0)
    headers = {
        "Content-Type": "application/json",
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
    }
    with FaultProxy(mastodon_platform.server.base_url) as proxy:
        proxy.add(
            Rule(
                "GET",
                r"^/api/v1/notifications",
                "status",
                status=429,
                headers=headers,
                body=b'{"error":"Too many requests"}',
            )
        )
        proxied = MastodonConnector(mastodon_platform.force_account(proxy.url), http)
        with pytest.raises(ConnectorError) as caught:
            proxied.fetch_inbound("")
        error = caught.value
        assert (error.permanent, error.reason, error.status) == (
            False,
            ErrorReason.RATE_LIMITED,
            429,
        )
        assert error.breaks_account is False
        assert error.retry_after == reset
        assert proxied.rate_limit.remaining == 0
        assert proxied.rate_limit.limit == 300
        assert proxied.rate_limit.reset_at == reset
        assert proxied.fetch_inbound("").cursor  # the rule is spent: the next call works


@pytest.mark.parametrize(("status", "unknown"), [(503, False), (502, True)])
def test_server_errors_are_transient(
    mastodon_platform: MastodonHarness,  # noqa: F811
    http: HttpClient,
    status: int,
    unknown: bool,
) -> None:
    with FaultProxy(mastodon_platform.server.base_url) as proxy:
        proxy.add(Rule("GET", r"^/api/v1/accounts/verify_credentials", "status", status=status))
        proxy.add(Rule("POST", r"^/api/v1/statuses$", "status", status=status))
        proxied = MastodonConnector(mastodon_platform.force_account(proxy.url), http)
        with pytest.raises(ConnectorError) as read:
            proxied.verify()
        with pytest.raises(ConnectorError) as write:
            proxied.publish(outbound(unique("During an outage")))
    for error in (read.value, write.value):
        assert (error.permanent, error.reason, error.status) == (False, ErrorReason.SERVER, status)
        assert error.breaks_account is False
    assert read.value.outcome_unknown is False
    # A gateway error may come after Mastodon made the post; 503 means it never got there.
    assert write.value.outcome_unknown is unknown


def test_ids_and_addresses_that_must_not_be_used_send_nothing() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    with HttpClient(transport=httpx.MockTransport(handler)) as http:
        mine = ConnectionSettings(
            base_url="https://social.example",
            credentials={"access_token": "t0ken"},
            handle="force@social.example",
        )
        connector = MastodonConnector(mine, http)
        with pytest.raises(ConnectorError) as foreign:
            connector.delete("other.example:1234")
        assert (foreign.value.reason, foreign.value.permanent) == (ErrorReason.REJECTED, True)
        with pytest.raises(ConnectorError) as foreign_reply:
            connector.publish(outbound("Hello", reply_to_id="other.example:1234"))
        assert foreign_reply.value.reason is ErrorReason.REJECTED
        assert connector.refresh_items(["other.example:1234"]) == {}
        assert connector.fetch_metrics(["other.example:1234"]) == []
        plain = ConnectionSettings(
            base_url="http://social.example", credentials={"access_token": "t"}
        )
        with pytest.raises(ConnectorError) as insecure:
            MastodonConnector(plain, http).verify()
        assert insecure.value.permanent is True
        assert "https" in insecure.value.message
        tokenless = ConnectionSettings(base_url="https://social.example", credentials={})
        with pytest.raises(ConnectorError) as missing:
            MastodonConnector(tokenless, http).verify()
        assert missing.value.breaks_account is True
    assert sent == []


# ---------------------------------------------------------------------- metrics, delete, profiles


def test_metrics_count_favourites_boosts_and_replies(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    ours = connector.publish(outbound(unique("Thank you to everyone who came to the meeting")))
    quiet = connector.publish(outbound(unique("Nobody will answer this")))
    deleted = connector.publish(outbound(unique("Posted in error")))
    connector.delete(deleted.platform_id)
    mastodon_platform.favourite_as_public(ours.platform_id)
    mastodon_platform.public_reply(ours.platform_id, unique("It was great"))
    metrics = {
        m.platform_id: m
        for m in connector.fetch_metrics([ours.platform_id, quiet.platform_id, deleted.platform_id])
    }
    assert set(metrics) == {ours.platform_id, quiet.platform_id}
    assert (metrics[ours.platform_id].likes, metrics[ours.platform_id].replies) == (1, 1)
    assert metrics[ours.platform_id].reposts == 0
    assert (metrics[quiet.platform_id].likes, metrics[quiet.platform_id].replies) == (0, 0)
    assert metrics[ours.platform_id].impressions is None  # Mastodon does not report reach


def test_delete_removes_the_post_and_is_safe_to_repeat(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    text = unique("Posted to the wrong account")
    ref = connector.publish(outbound(text))
    assert mastodon_platform.posts_with_text(text) == 1
    connector.delete(ref.platform_id)
    assert mastodon_platform.status(ref.platform_id) is None
    assert mastodon_platform.posts_with_text(text) == 0
    connector.delete(ref.platform_id)  # already gone: nothing to do


def test_profiles_by_handle_and_by_id(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    mastodon_platform.set_public_profile(note="<p>Cyclist &amp; parent</p>", location="Salford")
    handle = f"{mastodon_platform.public.username}@{mastodon_platform.domain}"
    by_handle = connector.fetch_profile("@" + handle)
    by_id = connector.fetch_profile(mastodon_platform.qualify(mastodon_platform.public.id))
    assert by_handle == by_id
    assert by_handle.platform_id == mastodon_platform.qualify(mastodon_platform.public.id)
    assert by_handle.handle == handle
    assert by_handle.display_name == "A Resident"
    assert by_handle.description == "Cyclist & parent"
    assert by_handle.location == "Salford"
    assert by_handle.followers == 0
    with pytest.raises(ConnectorError) as caught:
        connector.fetch_profile("nobody_by_this_name")
    assert (caught.value.reason, caught.value.permanent) == (ErrorReason.NOT_FOUND, True)


# ---------------------------------------------------------------------- audience


def test_followers_page_through_with_their_stated_locations(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    platform = mastodon_platform
    platform.set_public_profile(note="<p>Cyclist &amp; parent</p>", location="Eccles")
    neighbour = platform.new_member("neighbour", "A Neighbour")
    platform.set_profile(
        neighbour, note="<p>Lives round the corner</p>", fields={"📍": "Swinton, Salford"}
    )
    quiet = platform.new_member("quiet", "Says Nothing")
    platform.set_profile(quiet, note="", fields={"Website": "https://example.org"})
    for account in (platform.public, neighbour, quiet):
        platform.follow_force(account)

    pages, cursor = [], ""
    for _ in range(5):
        page = connector.fetch_followers(cursor, limit=2)
        pages.append(page)
        cursor = page.cursor
        if not cursor:
            break
    assert [len(page.profiles) for page in pages] == [2, 1]  # no Link "next" after a short page
    followers = {profile.handle: profile for page in pages for profile in page.profiles}
    domain = platform.domain
    assert set(followers) == {
        f"{account.username}@{domain}" for account in (platform.public, neighbour, quiet)
    }
    resident = followers[f"{platform.public.username}@{domain}"]
    assert resident.platform_id == platform.qualify(platform.public.id)
    assert (resident.location, resident.description) == ("Eccles", "Cyclist & parent")
    assert resident.display_name == "A Resident"
    near = followers[f"{neighbour.username}@{domain}"]
    assert (near.location, near.description) == ("Swinton, Salford", "Lives round the corner")
    assert followers[f"{quiet.username}@{domain}"].location == ""
    # The account's own profile counts them.
    assert connector.fetch_profile(connector.settings.handle).followers == 3


def test_engagers_are_the_favourites_then_the_boosts(
    connector: MastodonConnector,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    platform = mastodon_platform
    neighbour = platform.new_member("neighbour", "A Neighbour")
    platform.set_profile(neighbour, note="", fields={"Based in": "<p>Wythenshawe</p>"})
    ours = connector.publish(outbound(unique("Have you seen this bike?")))
    platform.favourite_as(platform.public, ours.platform_id)
    platform.favourite_as(neighbour, ours.platform_id)
    platform.boost_as(neighbour, ours.platform_id)

    likes = connector.fetch_engagers(ours.platform_id)
    assert {p.handle.partition("@")[0] for p in likes.profiles} == {
        platform.public.username,
        neighbour.username,
    }
    assert likes.cursor == "reposts:"  # the mock sends favourited_by in one page
    reposts = connector.fetch_engagers(ours.platform_id, likes.cursor)
    assert [p.handle for p in reposts.profiles] == [f"{neighbour.username}@{platform.domain}"]
    assert reposts.profiles[0].location == "Wythenshawe"
    assert reposts.cursor == ""

    # A post nobody favourited goes straight on to its boosts.
    quiet = connector.publish(outbound(unique("Road reopened")))
    platform.boost_as(platform.public, quiet.platform_id)
    page = connector.fetch_engagers(quiet.platform_id)
    assert [p.platform_id for p in page.profiles] == [platform.qualify(platform.public.id)]
    assert page.cursor == ""
    nobody = connector.publish(outbound(unique("Nothing to see")))
    assert connector.fetch_engagers(nobody.platform_id) == ProfilePage(profiles=[], cursor="")

    with pytest.raises(ConnectorError) as gone:
        connector.fetch_engagers(platform.qualify("999999999"))
    assert (gone.value.reason, gone.value.permanent) == (ErrorReason.NOT_FOUND, True)
    with pytest.raises(ConnectorError) as bad_cursor:
        connector.fetch_engagers(ours.platform_id, "shares:1")
    assert bad_cursor.value.reason is ErrorReason.REJECTED
    assert Capability.AUDIENCE in MastodonConnector.capabilities


def test_audience_pages_follow_the_link_header_on_the_configured_server_only() -> None:
    """Mastodon pages these lists by the ids of the follows and favourites, which only
    the Link header tells (payloads as in docs.joinmastodon.org, methods/accounts and
    methods/statuses, and entities/Account)."""
    sent: list[httpx.Request] = []
    account = {
        "id": "23634",
        "username": "resident",
        "acct": "resident@other.example",
        "display_name": "A Resident",
        "note": "<p>Dog walker. Views my own.</p>",
        "followers_count": 12,
        "fields": [
            {"name": "Website", "value": '<a href="https://example.org">example.org</a>'},
            {"name": "Location:", "value": "<p>Salford &amp; Eccles</p>", "verified_at": None},
        ],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.params.get("max_id") == "3301":
            return httpx.Response(200, json=[])
        link = (
            '<https://elsewhere.example/api/v1/accounts/1/followers?max_id=3301>; rel="next", '
            '<https://elsewhere.example/api/v1/accounts/1/followers?since_id=3302>; rel="prev"'
        )
        return httpx.Response(200, json=[account], headers={"Link": link})

    settings = ConnectionSettings(
        base_url="https://social.example",
        credentials={"access_token": "t0ken"},
        platform_account_id="social.example:1",
        handle="force@social.example",
    )
    with HttpClient(transport=httpx.MockTransport(handler)) as http:
        connector = MastodonConnector(settings, http)
        first = connector.fetch_followers(limit=500)
        second = connector.fetch_followers(first.cursor)
    assert first.cursor == "3301" and second == ProfilePage(profiles=[], cursor="")
    [profile] = first.profiles
    assert profile.platform_id == "social.example:23634"
    assert profile.handle == "resident@other.example"
    assert profile.location == "Salford & Eccles"
    assert profile.description == "Dog walker. Views my own."
    assert profile.followers == 12
    assert {request.url.host for request in sent} == {"social.example"}
    assert [request.url.params.get("limit") for request in sent] == ["80", "80"]
    assert sent[1].url.params["max_id"] == "3301"


# ---------------------------------------------------------------------- HTML to text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("", ""),
        ("<p>Hello &amp; welcome</p>", "Hello & welcome"),
        ("<p>one<br />two</p><p>three</p>", "one\ntwo\n\nthree"),
        ("<p>one<br>two</p>\n<p>three</p>", "one\ntwo\n\nthree"),
        ("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", "<script>alert(1)</script>"),
        ("<p>lots   of\n  space</p>", "lots of space"),
        ("<p>Tea &#x2615; time&nbsp;now</p>", "Tea \u2615 time now"),
        (
            '<p><span class="h-card"><a href="https://social.example/@jane" '
            'class="u-url mention">@<span>jane</span></a></span> are you ok?</p>',
            "@jane are you ok?",
        ),
        (
            '<p>See <a href="https://police.example/news/2024/appeal-for-witnesses">'
            '<span class="invisible">https://</span><span class="ellipsis">police.example/news'
            '/2024/appe</span><span class="invisible">al-for-witnesses</span></a></p>',
            "See https://police.example/news/2024/appeal-for-witnesses",
        ),
        (
            '<p>#<span>Salford</span> <a href="https://x/tags/a" class="hashtag">'
            "#<span>a</span></a></p>",
            "#Salford #a",
        ),
        ("<ul><li>first</li><li>second</li></ul><p>after</p>", "first\nsecond\n\nafter"),
        ('<p>waves <img alt=":wave:" src="https://x/e.png"></p>', "waves :wave:"),
        ("<p>a</p><script>steal()</script><p>b</p>", "a\n\nb"),
        ("<pre>keep   this\nline</pre>", "keep   this\nline"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text
