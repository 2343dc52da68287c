"""The Bluesky connector against a real local AT Protocol network (PDS, PLC, AppView).

The network comes from ``harness_bluesky.bluesky_platform``; results are checked on
the platform side (PDS records, AppView notifications), not through the connector.
"""

from __future__ import annotations

import json
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from beatdesk.channels.connectors.bluesky.connector import BlueskyConnector
from beatdesk.channels.contract import (
    Capability,
    ConnectionSettings,
    ConnectorError,
    ErrorReason,
    InboundKind,
    OutboundMedia,
    OutboundPost,
    ProfilePage,
)
from beatdesk.channels.keys import new_post_key
from beatdesk.channels.registry import connector_class
from beatdesk.core.http import HttpClient
from tests.channels.faultproxy import FaultProxy, Rule
from tests.channels.harness_bluesky import (  # noqa: F401 (the fixture)
    BlueskyHarness,
    bluesky_platform,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def platform(bluesky_platform: BlueskyHarness) -> BlueskyHarness:  # noqa: F811
    return bluesky_platform


@pytest.fixture
def http() -> Iterator[HttpClient]:
    with HttpClient(read_timeout=20) as client:
        yield client


def connect(
    platform: BlueskyHarness, http: HttpClient, base_url: str | None = None
) -> BlueskyConnector:
    return BlueskyConnector(platform.force_account(base_url), http)


def unique(text: str) -> str:
    return f"{text} {new_post_key()}"


def png(width: int = 2, height: int = 2) -> bytes:
    """A small valid PNG (red pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_registry_and_declared_capabilities() -> None:
    cls = connector_class("bluesky")
    assert cls is BlueskyConnector
    assert cls.idempotent_publish
    assert {Capability.PUBLISH, Capability.FETCH_INBOUND, Capability.MEDIA} <= cls.capabilities
    assert ("app_password", "App password", True) in cls.credential_fields


def test_verify_returns_identity_and_session_tokens(
    platform: BlueskyHarness, http: HttpClient
) -> None:
    connector = connect(platform, http)
    identity = connector.verify()
    assert identity.platform_account_id == platform.force.did
    assert identity.handle == "force.test"
    assert identity.display_name == "Test Constabulary"
    assert identity.url == "https://bsky.app/profile/force.test"
    creds = connector.updated_credentials
    assert creds is not None
    assert creds["did"] == platform.force.did
    assert creds["access_jwt"] and creds["refresh_jwt"]
    assert creds["app_password"] == connector.settings.credentials["app_password"]
    assert creds["app_password"] not in repr(connector.settings)


def test_stored_session_is_reused_without_signing_in(
    platform: BlueskyHarness, http: HttpClient
) -> None:
    first = connect(platform, http)
    first.fetch_profile("alice.test")
    assert first.updated_credentials is not None
    with FaultProxy(platform.pds_url) as proxy:
        settings = ConnectionSettings(base_url=proxy.url, credentials=first.updated_credentials)
        second = BlueskyConnector(settings, http)
        profile = second.fetch_profile("@alice.test")
        assert profile.platform_id == platform.alice.did
        assert second.updated_credentials is None  # nothing new to store
        paths = [path for _, path, _ in proxy.log]
        assert not any("createSession" in path or "refreshSession" in path for path in paths)


def test_unusable_tokens_fall_back_to_the_app_password(
    platform: BlueskyHarness, http: HttpClient
) -> None:
    settings = platform.force_account()
    stale = ConnectionSettings(
        base_url=settings.base_url,
        credentials={
            **settings.credentials,
            "access_jwt": "not-a-token",
            "refresh_jwt": "not-a-token-either",
            "did": platform.force.did,
        },
    )
    connector = BlueskyConnector(stale, http)
    assert connector.fetch_profile("alice.test").handle == "alice.test"
    creds = connector.updated_credentials
    assert creds is not None
    assert creds["access_jwt"] != "not-a-token"
    assert creds["refresh_jwt"] != "not-a-token-either"


def test_expired_access_token_is_refreshed(platform: BlueskyHarness, http: HttpClient) -> None:
    connector = connect(platform, http)
    connector.verify()
    assert connector.updated_credentials is not None
    before = dict(connector.updated_credentials)
    with FaultProxy(platform.pds_url) as proxy:
        proxy.add(
            Rule(
                "GET",
                r"app\.bsky\.actor\.getProfile",
                "status",
                status=400,
                headers={"Content-Type": "application/json"},
                body=b'{"error":"ExpiredToken","message":"Token has expired"}',
            )
        )
        settings = ConnectionSettings(base_url=proxy.url, credentials=before)
        again = BlueskyConnector(settings, http)
        assert again.fetch_profile("alice.test").platform_id == platform.alice.did
        paths = [path.split("?")[0] for _, path, _ in proxy.log]
    assert paths == [
        "/xrpc/app.bsky.actor.getProfile",
        "/xrpc/com.atproto.server.refreshSession",
        "/xrpc/app.bsky.actor.getProfile",
    ]
    assert again.updated_credentials is not None
    assert again.updated_credentials["refresh_jwt"] != before["refresh_jwt"]


def test_wrong_app_password_breaks_the_account(platform: BlueskyHarness, http: HttpClient) -> None:
    settings = ConnectionSettings(
        base_url=platform.pds_url,
        credentials={"identifier": "force.test", "app_password": "aaaa-bbbb-cccc-dddd"},
    )
    with pytest.raises(ConnectorError) as caught:
        BlueskyConnector(settings, http).verify()
    assert caught.value.permanent
    assert caught.value.breaks_account
    assert "aaaa-bbbb-cccc-dddd" not in str(caught.value)


def test_publish_twice_with_one_key_makes_one_post(
    platform: BlueskyHarness, http: HttpClient
) -> None:
    text = unique("Road closed on the high street")
    post = OutboundPost(key=new_post_key(), text=text)
    first = connect(platform, http).publish(post)
    assert platform.posts_with_text(text) == 1
    assert first.platform_id == f"at://{platform.force.did}/app.bsky.feed.post/{post.key}"
    assert first.url == f"https://bsky.app/profile/force.test/post/{post.key}"
    assert first.published_at is not None

    second = connect(platform, http).publish(post)
    assert second.platform_id == first.platform_id
    assert platform.posts_with_text(text) == 1


def test_cut_connection_is_outcome_unknown_then_reconciled(
    platform: BlueskyHarness, http: HttpClient
) -> None:
    text = unique("Appeal for witnesses")
    post = OutboundPost(key=new_post_key(), text=text)
    since = datetime.now(UTC) - timedelta(minutes=1)
    with FaultProxy(platform.pds_url) as proxy:
        connector = connect(platform, http, base_url=proxy.url)
        connector.verify()
        proxy.add(Rule("POST", r"com\.atproto\.repo\.createRecord", "cut"))
        with pytest.raises(ConnectorError) as caught:
            connector.publish(post)
        assert caught.value.outcome_unknown
        assert not caught.value.permanent
        assert proxy.accepted.is_set()
        # The platform did accept it.
        assert platform.posts_with_text(text) == 1

        found = connector.find_published(post, since)
        assert found is not None
        assert found.platform_id.endswith(f"/app.bsky.feed.post/{post.key}")

        again = connector.publish(post)  # a blind retry is safe too
        assert again.platform_id == found.platform_id
    assert platform.posts_with_text(text) == 1


def test_find_published_is_none_for_a_key_never_used(
    platform: BlueskyHarness, http: HttpClient
) -> None:
    post = OutboundPost(key=new_post_key(), text="never sent")
    assert connect(platform, http).find_published(post, datetime.now(UTC)) is None


def test_mentions_and_replies_come_in_oldest_first_and_threaded(
    platform: BlueskyHarness, http: HttpClient
) -> None:
    connector = connect(platform, http)
    start = connector.fetch_inbound("")
    assert start.items == []
    assert start.cursor

    ours = connector.publish(OutboundPost(key=new_post_key(), text=unique("Station open")))
    platform.like(platform.alice, ours.platform_id)  # likes are not messages
    mention_text = unique("@force.test there is a car on fire on Mill Lane")
    mention = platform.public_mention(mention_text)
    reply = platform.public_reply(ours.platform_id, unique("What time does it close?"))

    page = connector.fetch_inbound(start.cursor)
    assert [item.platform_id for item in page.items] == [mention, reply]
    assert not page.more
    first, second = page.items
    assert first.kind == InboundKind.MENTION
    assert first.text == mention_text
    assert first.author_id == platform.alice.did
    assert first.author_handle == "alice.test"
    assert first.author_display_name == "Alice Example"
    assert first.url == f"https://bsky.app/profile/alice.test/post/{mention.rsplit('/', 1)[1]}"
    assert first.reply_to_id == ""
    assert first.created_at.tzinfo is not None
    assert abs(first.created_at - datetime.now(UTC)) < timedelta(minutes=5)
    raw = json.loads(first.raw)
    assert raw["uri"] == mention
    assert raw["reason"] == "mention"

    assert second.kind == InboundKind.REPLY
    assert second.reply_to_id == ours.platform_id
    assert second.thread_root_id == ours.platform_id
    assert json.loads(second.raw)["record"]["reply"]["parent"]["uri"] == ours.platform_id

    # The cursor round-trips: nothing new, and nothing new after a reply in the thread.
    assert connector.fetch_inbound(page.cursor).items == []
    nested = platform.public_reply(reply, unique("Sorry, found it"))
    later = connector.fetch_inbound(page.cursor)
    assert [item.platform_id for item in later.items] == [nested]
    assert later.items[0].reply_to_id == reply
    assert later.items[0].thread_root_id == ours.platform_id
    assert connector.fetch_inbound(later.cursor).items == []


def test_inbound_media_is_kept_by_reference(platform: BlueskyHarness, http: HttpClient) -> None:
    connector = connect(platform, http)
    start = connector.fetch_inbound("")
    uri = platform.public_mention(unique("Found this dog"), png=png(), alt="A brown dog")
    page = connector.fetch_inbound(start.cursor)
    assert [item.platform_id for item in page.items] == [uri]
    (media,) = page.items[0].media
    assert media.kind == "image"
    assert media.alt_text == "A brown dog"
    assert media.url.startswith("http")
    assert platform.alice.did in media.url  # the AppView's image URL names the author's blob


def test_fetch_inbound_stops_at_limit_and_says_more(
    platform: BlueskyHarness, http: HttpClient
) -> None:
    connector = connect(platform, http)
    start = connector.fetch_inbound("")
    uris = [platform.public_mention(unique(f"message {n}")) for n in range(3)]
    first = connector.fetch_inbound(start.cursor, limit=2)
    assert [item.platform_id for item in first.items] == uris[:2]
    assert first.more
    second = connector.fetch_inbound(first.cursor, limit=2)
    assert [item.platform_id for item in second.items] == uris[2:]
    assert not second.more
    # Starting from now again skips the backlog.
    assert connector.fetch_inbound("").items == []


def test_replies_and_mentions_from_the_force(platform: BlueskyHarness, http: HttpClient) -> None:
    connector = connect(platform, http)
    mention = platform.public_mention(unique("Is the bridge open?"))
    answer_text = unique(
        "🚓 @alice.test yes, it reopened at noon, see https://example.org/roads. "
        "#RoadSafety cc @nobody.test"
    )
    answer = connector.publish(
        OutboundPost(key=new_post_key(), text=answer_text, reply_to_id=mention)
    )
    record = platform.get_record(answer.platform_id)
    assert record is not None
    reply = record["value"]["reply"]
    assert reply["parent"]["uri"] == mention
    assert reply["root"]["uri"] == mention
    facets = record["value"]["facets"]
    assert len(facets) == 3  # @nobody.test does not resolve: no facet
    features = {f["features"][0]["$type"]: f for f in facets}
    mention_facet = features["app.bsky.richtext.facet#mention"]
    assert mention_facet["features"][0]["did"] == platform.alice.did
    start = mention_facet["index"]["byteStart"]
    end = mention_facet["index"]["byteEnd"]
    assert answer_text.encode()[start:end] == b"@alice.test"
    link = features["app.bsky.richtext.facet#link"]
    assert link["features"][0]["uri"] == "https://example.org/roads"
    start, end = link["index"]["byteStart"], link["index"]["byteEnd"]
    assert answer_text.encode()[start:end] == b"https://example.org/roads"
    tag = features["app.bsky.richtext.facet#tag"]
    assert tag["features"][0]["tag"] == "RoadSafety"
    start, end = tag["index"]["byteStart"], tag["index"]["byteEnd"]
    assert answer_text.encode()[start:end] == b"#RoadSafety"
    # The AppView turned the facet into a notification for alice.
    deadline = time.monotonic() + 15
    while not platform.notified(answer.platform_id, platform.alice):
        assert time.monotonic() < deadline, "alice was never notified"
        time.sleep(0.05)

    # A reply deeper in the thread keeps the thread's root.
    follow_up = platform.public_reply(answer.platform_id, unique("Thanks!"))
    closing = connector.publish(
        OutboundPost(key=new_post_key(), text=unique("You're welcome"), reply_to_id=follow_up)
    )
    closing_record = platform.get_record(closing.platform_id)
    assert closing_record is not None
    assert closing_record["value"]["reply"]["parent"]["uri"] == follow_up
    assert closing_record["value"]["reply"]["root"]["uri"] == mention


def test_reply_to_a_missing_post_is_refused(platform: BlueskyHarness, http: HttpClient) -> None:
    missing = f"at://{platform.alice.did}/app.bsky.feed.post/{new_post_key()}"
    with pytest.raises(ConnectorError) as caught:
        connect(platform, http).publish(
            OutboundPost(key=new_post_key(), text="hello", reply_to_id=missing)
        )
    assert caught.value.permanent
    assert caught.value.reason == ErrorReason.NOT_FOUND


def test_publish_with_an_image(platform: BlueskyHarness, http: HttpClient) -> None:
    connector = connect(platform, http)
    image = OutboundMedia(data=png(), mime_type="image/png", alt_text="A red square")
    ref = connector.publish(
        OutboundPost(key=new_post_key(), text=unique("Lost property"), media=(image,))
    )
    record = platform.get_record(ref.platform_id)
    assert record is not None
    embed = record["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert embed["images"][0]["alt"] == "A red square"
    assert embed["images"][0]["image"]["mimeType"] == "image/png"
    assert embed["images"][0]["image"]["size"] == len(image.data)

    platform.wait_indexed(ref.platform_id)
    item = connector.refresh_items([ref.platform_id])[ref.platform_id]
    assert item is not None
    assert len(item.media) == 1
    assert item.media[0].alt_text == "A red square"
    assert item.media[0].url.startswith("http")


def test_non_image_media_is_unsupported(platform: BlueskyHarness, http: HttpClient) -> None:
    video = OutboundMedia(data=b"\x00" * 10, mime_type="video/mp4")
    with pytest.raises(ConnectorError) as caught:
        connect(platform, http).publish(
            OutboundPost(key=new_post_key(), text="clip", media=(video,))
        )
    assert caught.value.reason == ErrorReason.UNSUPPORTED


def test_revoked_app_password_breaks_the_account(
    platform: BlueskyHarness, http: HttpClient
) -> None:
    settings = platform.force_account()
    connector = BlueskyConnector(settings, http)
    connector.verify()
    platform.revoke_force_credentials()

    with pytest.raises(ConnectorError) as fresh:
        BlueskyConnector(settings, http).verify()
    assert fresh.value.permanent
    assert fresh.value.breaks_account
    assert fresh.value.reason == ErrorReason.AUTH_REVOKED

    # A connector still holding tokens from before the revocation finds out too.
    with pytest.raises(ConnectorError) as holding:
        connector.verify()
    assert holding.value.breaks_account


def test_rate_limit_is_transient_with_retry_after(
    platform: BlueskyHarness, http: HttpClient
) -> None:
    reset = int(time.time()) + 120
    with FaultProxy(platform.pds_url) as proxy:
        connector = connect(platform, http, base_url=proxy.url)
        proxy.add(
            Rule(
                "GET",
                r"app\.bsky\.actor\.getProfile",
                "status",
                status=429,
                headers={
                    "Content-Type": "application/json",
                    "RateLimit-Limit": "3000",
                    "RateLimit-Remaining": "0",
                    "RateLimit-Reset": str(reset),
                    "RateLimit-Policy": "3000;w=300",
                },
                body=b'{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}',
            )
        )
        with pytest.raises(ConnectorError) as caught:
            connector.fetch_profile("alice.test")
        assert not caught.value.permanent
        assert caught.value.reason == ErrorReason.RATE_LIMITED
        assert caught.value.retry_after == datetime.fromtimestamp(reset, tz=UTC)
        assert connector.rate_limit.remaining == 0
        assert connector.rate_limit.limit == 3000
        # The rule applied once: the next call goes through.
        assert connector.fetch_profile("alice.test").platform_id == platform.alice.did


def test_server_error_is_transient(platform: BlueskyHarness, http: HttpClient) -> None:
    with FaultProxy(platform.pds_url) as proxy:
        connector = connect(platform, http, base_url=proxy.url)
        proxy.add(
            Rule(
                "GET",
                r"app\.bsky\.feed\.getPosts",
                "status",
                status=502,
                headers={"Content-Type": "application/json"},
                body=b'{"error":"UpstreamFailure","message":"pipethrough network error"}',
            )
        )
        with pytest.raises(ConnectorError) as caught:
            connector.fetch_metrics([f"at://{platform.force.did}/app.bsky.feed.post/abc"])
    assert not caught.value.permanent
    assert caught.value.reason == ErrorReason.SERVER
    assert "UpstreamFailure" in caught.value.message


def test_metrics_count_likes_and_replies(platform: BlueskyHarness, http: HttpClient) -> None:
    connector = connect(platform, http)
    ref = connector.publish(OutboundPost(key=new_post_key(), text=unique("Crime prevention tip")))
    platform.like(platform.alice, ref.platform_id)
    platform.public_reply(ref.platform_id, unique("Good advice"))
    deadline = time.monotonic() + 15
    while True:
        view = platform.appview_post(ref.platform_id)
        if view and view["likeCount"] == 1 and view["replyCount"] == 1:
            break
        assert time.monotonic() < deadline, view
        time.sleep(0.05)
    missing = f"at://{platform.force.did}/app.bsky.feed.post/{new_post_key()}"
    metrics = connector.fetch_metrics([ref.platform_id, missing])
    assert len(metrics) == 1
    assert metrics[0].platform_id == ref.platform_id
    assert (metrics[0].likes, metrics[0].replies, metrics[0].reposts, metrics[0].quotes) == (
        1,
        1,
        0,
        0,
    )


def test_profiles(platform: BlueskyHarness, http: HttpClient) -> None:
    profile = connect(platform, http).fetch_profile("alice.test")
    assert profile.platform_id == platform.alice.did
    assert profile.handle == "alice.test"
    assert profile.display_name == "Alice Example"
    assert profile.description == "A member of the public."
    assert profile.followers == 0


# -- audience: followers, likes, reposts --------------------------------------------------


def all_pages(fetch: Callable[[str], ProfilePage], most: int = 10) -> list[ProfilePage]:
    pages: list[ProfilePage] = []
    cursor = ""
    for _ in range(most):
        page = fetch(cursor)
        pages.append(page)
        cursor = page.cursor
        if not cursor:
            return pages
    raise AssertionError(f"still more pages after {most}: {[p.cursor for p in pages]}")


def test_followers_are_listed_with_their_descriptions(
    platform: BlueskyHarness, http: HttpClient
) -> None:
    assert Capability.AUDIENCE in BlueskyConnector.capabilities
    platform.follow(platform.alice, platform.force)
    connector = connect(platform, http)
    pages = all_pages(lambda cursor: connector.fetch_followers(cursor, limit=1))
    followers = [profile for page in pages for profile in page.profiles]
    assert all(len(page.profiles) <= 1 for page in pages)
    [alice] = [profile for profile in followers if profile.platform_id == platform.alice.did]
    assert alice.handle == "alice.test" and alice.display_name == "Alice Example"
    assert alice.description == "A member of the public."
    assert alice.location == ""  # Bluesky profiles have no location
    assert len({profile.platform_id for profile in followers}) == len(followers)
    # The account's own profile counts the same followers.
    assert connector.fetch_profile("force.test").followers == len(followers)


def test_engagers_are_the_likers_then_the_reposters(
    platform: BlueskyHarness, http: HttpClient
) -> None:
    connector = connect(platform, http)
    ref = connector.publish(OutboundPost(key=new_post_key(), text=unique("Missing dog found")))
    platform.like(platform.alice, ref.platform_id)
    platform.repost(platform.alice, ref.platform_id)
    deadline = time.monotonic() + 30
    while True:
        view = platform.appview_post(ref.platform_id)
        if view and view["likeCount"] == 1 and view["repostCount"] == 1:
            break
        assert time.monotonic() < deadline, view
        time.sleep(0.05)
    with FaultProxy(platform.pds_url) as proxy:
        through_proxy = BlueskyConnector(
            ConnectionSettings(base_url=proxy.url, credentials=connector.updated_credentials or {}),
            http,
        )
        pages = all_pages(
            lambda cursor: through_proxy.fetch_engagers(ref.platform_id, cursor, limit=1)
        )
        asked = [
            path.rpartition("/")[2].partition("?")[0]
            for _, path, _ in proxy.log
            if "getLikes" in path or "getRepostedBy" in path
        ]
    engagers = [profile.handle for page in pages for profile in page.profiles]
    assert engagers == ["alice.test", "alice.test"]  # once for the like, once for the repost
    phases = [page.cursor.partition(":")[0] for page in pages[:-1]]
    assert phases == sorted(phases) and set(phases) <= {"likes", "reposts"}
    assert "reposts" in phases and pages[-1].cursor == ""
    first_repost = asked.index("app.bsky.feed.getRepostedBy")
    assert set(asked[:first_repost]) == {"app.bsky.feed.getLikes"}
    assert set(asked[first_repost:]) == {"app.bsky.feed.getRepostedBy"}

    # A post nobody touched: both lists read, nothing found.
    quiet = connector.publish(OutboundPost(key=new_post_key(), text=unique("Quiet night")))
    assert connector.fetch_engagers(quiet.platform_id) == ProfilePage(profiles=[], cursor="")
    with pytest.raises(ConnectorError) as cursor:
        connector.fetch_engagers(ref.platform_id, "quotes:abc")
    assert cursor.value.reason is ErrorReason.REJECTED
    with pytest.raises(ConnectorError) as not_a_post:
        connector.fetch_engagers("https://bsky.app/profile/force.test/post/abc")
    assert not_a_post.value.reason is ErrorReason.NOT_FOUND


def test_delete_removes_the_post_and_refresh_reports_it_gone(
    platform: BlueskyHarness, http: HttpClient
) -> None:
    connector = connect(platform, http)
    text = unique("Posted in error")
    ref = connector.publish(OutboundPost(key=new_post_key(), text=text))
    platform.wait_indexed(ref.platform_id)
    mention = platform.public_mention(unique("still here"))
    connector.delete(ref.platform_id)
    assert platform.posts_with_text(text) == 0
    connector.delete(ref.platform_id)  # deleting again is harmless
    assert platform.get_record(ref.platform_id) is None
    deadline = time.monotonic() + 15
    while platform.appview_post(ref.platform_id) is not None:
        assert time.monotonic() < deadline, "the AppView kept the deleted post"
        time.sleep(0.05)
    current = connector.refresh_items([ref.platform_id, mention])
    assert current[ref.platform_id] is None
    item = current[mention]
    assert item is not None
    assert item.author_handle == "alice.test"
    assert item.kind == InboundKind.MENTION
    assert json.loads(item.raw)["uri"] == mention


def test_cannot_delete_someone_elses_post(platform: BlueskyHarness, http: HttpClient) -> None:
    mention = platform.public_mention(unique("not yours to delete"))
    with pytest.raises(ConnectorError) as caught:
        connect(platform, http).delete(mention)
    assert caught.value.permanent
    assert platform.get_record(mention) is not None


# -- hiding replies (threadgate hiddenReplies) --------------------------------------------


def test_hide_replies_through_the_threadgate_of_our_thread(
    platform: BlueskyHarness, http: HttpClient
) -> None:
    connector = connect(platform, http)
    root = connector.publish(OutboundPost(key=new_post_key(), text=unique("Appeal")))
    first = platform.public_reply(root.platform_id, unique("spam one"))
    second = platform.public_reply(root.platform_id, unique("spam two"))
    connector.hide_inbound(first)
    assert platform.is_hidden(first) and not platform.is_hidden(second)
    gate = platform.threadgate(root.platform_id)
    assert gate is not None and gate["value"]["post"] == root.platform_id
    assert "allow" not in gate["value"]  # everyone may still reply
    connector.hide_inbound(second)
    connector.hide_inbound(first)  # already hidden: nothing written
    after = platform.threadgate(root.platform_id)
    assert after is not None and after["value"]["hiddenReplies"] == [first, second]
    connector.hide_inbound(first, hidden=False)
    assert not platform.is_hidden(first) and platform.is_hidden(second)
    # The AppView honours it: the hidden reply drops out of the force's notifications.
    deadline = time.monotonic() + 30
    while platform.notified(second):
        assert time.monotonic() < deadline, "the AppView still lists the hidden reply"
        time.sleep(0.2)


def test_hiding_keeps_the_threads_reply_rules(platform: BlueskyHarness, http: HttpClient) -> None:
    connector = connect(platform, http)
    root = connector.publish(OutboundPost(key=new_post_key(), text=unique("Road closed")))
    reply = platform.public_reply(root.platform_id, unique("spam"))
    rkey = root.platform_id.rsplit("/", 1)[1]
    rules = [{"$type": "app.bsky.feed.threadgate#mentionRule"}]
    platform.xrpc(
        "POST",
        "com.atproto.repo.createRecord",
        as_account=platform.force,
        body={
            "repo": platform.force.did,
            "collection": "app.bsky.feed.threadgate",
            "rkey": rkey,
            "record": {
                "$type": "app.bsky.feed.threadgate",
                "post": root.platform_id,
                "allow": rules,
                "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            },
        },
    )
    connector.hide_inbound(reply)
    gate = platform.threadgate(root.platform_id)
    assert gate is not None
    assert gate["value"]["allow"] == rules and gate["value"]["hiddenReplies"] == [reply]


def test_only_replies_in_our_own_threads_can_be_hidden(
    platform: BlueskyHarness, http: HttpClient
) -> None:
    connector = connect(platform, http)
    theirs = platform.public_mention(unique("a thread of their own"))
    with pytest.raises(ConnectorError) as caught:
        connector.hide_inbound(theirs)
    assert caught.value.reason is ErrorReason.UNSUPPORTED
    in_their_thread = platform.public_reply(theirs, unique("a reply under it"))
    with pytest.raises(ConnectorError) as caught:
        connector.hide_inbound(in_their_thread)
    assert caught.value.reason is ErrorReason.REJECTED and not caught.value.breaks_account
