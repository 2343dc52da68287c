"""XConnector against the replay stand-in of the X API v2 (real HTTP, FaultProxy between).

Checks are made on the platform side (``x_platform``), never through the connector.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from beatdesk.channels.connectors.x.connector import XConnector, pkce_challenge, text_matches
from beatdesk.channels.contract import (
    Capability,
    ConnectorError,
    ErrorReason,
    InboundKind,
    OutboundMedia,
    OutboundPost,
    ProfilePage,
    PublishedRef,
)
from beatdesk.channels.keys import new_post_key
from beatdesk.channels.registry import connector_class
from beatdesk.core.http import HttpClient

from .faultproxy import FaultProxy, Rule
from .replay_platform import X_FORCE_HANDLE as FORCE_HANDLE
from .replay_platform import X_FORCE_ID, recording

if TYPE_CHECKING:
    from .harness_x import XHarness

# The fixture module is loaded as a plugin (not imported here) so pytest rewrites its
# assertions and registers ``x_platform``.
pytest_plugins = ["tests.channels.harness_x"]

SEEDED_NEWEST_MENTION = "1990000000000000103"
OUR_APPEAL_POST = "1990000000000000050"


@pytest.fixture
def http() -> Iterator[HttpClient]:
    with HttpClient(read_timeout=5.0) as client:
        yield client


def connect(platform: XHarness, http: HttpClient, base_url: str | None = None) -> XConnector:
    return XConnector(platform.force_account(base_url), http)


def post(text: str, **kwargs: object) -> OutboundPost:
    return OutboundPost(key=new_post_key(), text=text, **kwargs)  # type: ignore[arg-type]


def publish_at_most_once(
    connector: XConnector,
    outbound: OutboundPost,
    since: datetime,
    *,
    unknown: bool = False,
    attempts: int = 3,
) -> PublishedRef:
    """The caller's rule (contract): once an attempt's outcome is unknown, every later
    attempt first looks the post up and publishes only when it is not there."""
    for _ in range(attempts):
        if unknown:
            found = connector.find_published(outbound, since)
            if found is not None:
                return found
        try:
            return connector.publish(outbound)
        except ConnectorError as exc:
            if exc.permanent:
                raise
            unknown = unknown or exc.outcome_unknown
    raise AssertionError("not published")


def test_registry_finds_the_connector() -> None:
    assert connector_class("x") is XConnector
    assert XConnector.idempotent_publish is False
    assert XConnector.posting_cap is not None and XConnector.posting_cap.posts == 100


def test_verify_returns_the_force_account(x_platform: XHarness, http: HttpClient) -> None:
    identity = connect(x_platform, http).verify()
    assert identity.platform_account_id == X_FORCE_ID
    assert identity.handle == FORCE_HANDLE
    assert identity.display_name == "Example Police"
    assert identity.url == f"https://x.com/{FORCE_HANDLE}"
    assert identity.token_expires_at is not None


def test_publish_creates_exactly_one_post(x_platform: XHarness, http: HttpClient) -> None:
    connector = connect(x_platform, http)
    text = "Mill Lane has reopened. Thank you for your patience."
    ref = connector.publish(post(text))
    assert x_platform.posts_with_text(text) == 1
    assert ref.url == f"https://x.com/{FORCE_HANDLE}/status/{ref.platform_id}"
    stored = x_platform.server.x_tweets[ref.platform_id]
    assert stored["author_id"] == X_FORCE_ID
    assert connector.rate_limit.limit == 900  # x-rate-limit-* headers were read


def test_publish_reply_threads_under_the_post(x_platform: XHarness, http: HttpClient) -> None:
    mention = x_platform.public_mention("is the library drop-in still on?")
    ref = connect(x_platform, http).publish(post("Yes, 2pm until 4pm.", reply_to_id=mention))
    stored = x_platform.server.x_tweets[ref.platform_id]
    assert stored["referenced_tweets"] == [{"type": "replied_to", "id": mention}]
    assert stored["conversation_id"] == mention


def test_publish_with_image_uploads_media_and_alt_text(
    x_platform: XHarness, http: HttpClient
) -> None:
    image = OutboundMedia(
        data=b"\x89PNG fake", mime_type="image/png", alt_text="Officers at a stall"
    )
    ref = connect(x_platform, http).publish(post("Come and see us", media=(image,)))
    stored = x_platform.server.x_tweets[ref.platform_id]
    (media_key,) = stored["attachments"]["media_keys"]
    assert x_platform.server.x_media[media_key]["alt_text"] == "Officers at a stall"


def test_video_is_refused_before_anything_is_sent(x_platform: XHarness, http: HttpClient) -> None:
    video = OutboundMedia(data=b"mp4", mime_type="video/mp4")
    with pytest.raises(ConnectorError) as caught:
        connect(x_platform, http).publish(post("clip", media=(video,)))
    assert caught.value.reason is ErrorReason.UNSUPPORTED
    assert x_platform.server.requests("POST", r"^/2/") == 0


def test_cut_after_create_is_unknown_and_lookup_before_retry_leaves_one_post(
    x_platform: XHarness, http: HttpClient
) -> None:
    text = "Witness appeal: https://www.example.police.uk/appeal/456 - call 101 & quote 456."
    outbound = post(text)
    since = datetime.now(UTC)
    with FaultProxy(x_platform.server.url) as proxy:
        proxy.add(Rule("POST", r"^/2/tweets", "cut"))
        connector = connect(x_platform, http, proxy.url)
        with pytest.raises(ConnectorError) as caught:
            connector.publish(outbound)
        assert caught.value.outcome_unknown is True
        assert caught.value.permanent is False
        assert x_platform.posts_with_text(text) == 1  # X did accept it

        # X stored the text with a t.co link and &amp;: the lookup still finds it.
        stored = x_platform.server.x_tweets[max(x_platform.server.x_tweets, key=int)]
        assert "https://t.co/" in stored["text"] and "&amp;" in stored["text"]
        found = connector.find_published(outbound, since)
        assert found is not None and found.platform_id == stored["id"]

        # The caller resumes with the rule: it finds the post and sends no second create.
        ref = publish_at_most_once(connector, outbound, since, unknown=True)
        assert ref.platform_id == stored["id"]
        assert x_platform.posts_with_text(text) == 1
        creates = [entry for entry in proxy.log if entry[0] == "POST" and entry[1] == "/2/tweets"]
        assert len(creates) == 1


def test_the_rule_from_the_first_attempt_leaves_one_post(
    x_platform: XHarness, http: HttpClient
) -> None:
    text = "Missing person found safe and well. Thank you for sharing."
    outbound = post(text)
    with FaultProxy(x_platform.server.url) as proxy:
        proxy.add(Rule("POST", r"^/2/tweets", "cut"))
        ref = publish_at_most_once(
            connect(x_platform, http, proxy.url), outbound, datetime.now(UTC)
        )
    assert x_platform.posts_with_text(text) == 1
    assert x_platform.server.x_tweets[ref.platform_id]["_original"] == text


def test_blind_retry_after_a_cut_is_refused_as_duplicate_not_account_breaking(
    x_platform: XHarness, http: HttpClient
) -> None:
    """Why the rule matters on X: a blind retry meets X's duplicate check (403), which
    would mark a post that *was* published as refused. It must not break the account."""
    text = "Road closed at the bridge until 6pm."
    with FaultProxy(x_platform.server.url) as proxy:
        proxy.add(Rule("POST", r"^/2/tweets", "cut"))
        connector = connect(x_platform, http, proxy.url)
        with pytest.raises(ConnectorError):
            connector.publish(post(text))
        with pytest.raises(ConnectorError) as caught:
            connector.publish(post(text))
    assert caught.value.reason is ErrorReason.REJECTED
    assert caught.value.permanent is True
    assert caught.value.breaks_account is False
    assert x_platform.posts_with_text(text) == 1


def test_cut_on_a_reply_is_found_by_lookup(x_platform: XHarness, http: HttpClient) -> None:
    mention = x_platform.public_mention("where do I report a lost dog?")
    outbound = post("Please call 101 and we will log it.", reply_to_id=mention)
    since = datetime.now(UTC)
    with FaultProxy(x_platform.server.url) as proxy:
        proxy.add(Rule("POST", r"^/2/tweets", "cut"))
        connector = connect(x_platform, http, proxy.url)
        with pytest.raises(ConnectorError) as caught:
            connector.publish(outbound)
    assert caught.value.outcome_unknown
    connector = connect(x_platform, http)
    # X put "@resident_alex " in front of our reply text; the lookup allows for that.
    found = connector.find_published(outbound, since)
    assert found is not None
    assert x_platform.server.x_tweets[found.platform_id]["text"].startswith("@resident_alex ")
    # ... but only for a reply to that post:
    other = post(outbound.text, reply_to_id=OUR_APPEAL_POST)
    assert connector.find_published(other, since) is None


def test_refused_create_is_not_unknown_and_nothing_is_found(
    x_platform: XHarness, http: HttpClient
) -> None:
    text = "Cordon lifted on the high street."
    outbound = post(text)
    since = datetime.now(UTC)
    with FaultProxy(x_platform.server.url) as proxy:
        proxy.add(Rule("POST", r"^/2/tweets", "status", status=503))
        connector = connect(x_platform, http, proxy.url)
        with pytest.raises(ConnectorError) as caught:
            connector.publish(outbound)
        assert caught.value.outcome_unknown is False
        assert caught.value.reason is ErrorReason.SERVER
        assert caught.value.permanent is False
        assert connector.find_published(outbound, since) is None
        assert x_platform.posts_with_text(text) == 0
        publish_at_most_once(connector, outbound, since)
    assert x_platform.posts_with_text(text) == 1


def test_cut_during_media_upload_is_not_an_unknown_post_outcome(
    x_platform: XHarness, http: HttpClient
) -> None:
    image = OutboundMedia(data=b"jpeg bytes", mime_type="image/jpeg")
    with FaultProxy(x_platform.server.url) as proxy:
        proxy.add(Rule("POST", r"^/2/media/upload", "cut"))
        with pytest.raises(ConnectorError) as caught:
            connect(x_platform, http, proxy.url).publish(post("pic", media=(image,)))
    assert caught.value.outcome_unknown is False
    assert x_platform.posts_with_text("pic") == 0


def test_find_published_ignores_posts_before_since(x_platform: XHarness, http: HttpClient) -> None:
    text = "Old news"
    x_platform.server.x_post_as(X_FORCE_ID, text)
    connector = connect(x_platform, http)
    assert connector.find_published(post(text), datetime.now(UTC) - timedelta(minutes=1))
    assert connector.find_published(post(text), datetime.now(UTC) + timedelta(hours=1)) is None


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        ("Plain text", "Plain text", True),
        ("A & B <c>", "A &amp; B &lt;c&gt;", True),
        ("See https://example.police.uk/a", "See https://t.co/AbCdEf1234", True),
        ("See example.police.uk/a.", "See https://t.co/AbCdEf1234.", True),
        ("Thanks all", "@resident_alex @sam Thanks all", True),
        ("Line one\nline two", "Line one\r\nline two", True),
        ("Plain text", "Plain text!", False),
        ("See e.g. this", "See https://t.co/AbCdEf1234 this", False),
        ("@resident_alex thanks", "thanks", False),
        ("Two https://a.uk/x", "Two https://t.co/AbCdEf1234 extra", False),
    ],
)
def test_text_matching_tolerates_only_what_x_rewrites(
    ours: str, theirs: str, expected: bool
) -> None:
    assert text_matches(ours, theirs) is expected


def test_inbound_starts_now_then_returns_new_mentions_oldest_first(
    x_platform: XHarness, http: HttpClient
) -> None:
    connector = connect(x_platform, http)
    start = connector.fetch_inbound("")
    assert start.items == [] and start.cursor == SEEDED_NEWEST_MENTION  # no backlog

    first = x_platform.public_mention("a car alarm has been going off for an hour on Elm Road")
    reply = x_platform.public_reply(OUR_APPEAL_POST, "I saw the collision, who do I talk to?")
    second = x_platform.public_mention("thanks for the quick response earlier!")

    page = connector.fetch_inbound(start.cursor)
    assert [item.platform_id for item in page.items] == [first, reply, second]
    assert page.cursor == second and page.more is False
    by_id = {item.platform_id: item for item in page.items}

    assert by_id[first].kind is InboundKind.MENTION
    assert by_id[first].author_handle == "resident_alex"
    assert by_id[first].author_location == "Northtown, Exampleshire"
    assert by_id[first].thread_root_id == first and by_id[first].reply_to_id == ""

    assert by_id[reply].kind is InboundKind.REPLY
    assert by_id[reply].reply_to_id == OUR_APPEAL_POST
    assert by_id[reply].thread_root_id == OUR_APPEAL_POST
    assert by_id[reply].url == f"https://x.com/shopkeeper_sam/status/{reply}"

    raw = by_id[reply].raw
    assert (
        raw == json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False).encode()
    )  # compact serialisation
    document = json.loads(raw)
    assert document["data"]["id"] == reply
    assert document["data"]["conversation_id"] == OUR_APPEAL_POST
    assert document["includes"]["users"] == [
        {
            "id": "1590000000000000102",
            "name": "Sam's Corner Shop",
            "username": "shopkeeper_sam",
            "location": "",
        }
    ]

    again = connector.fetch_inbound(page.cursor)  # cursor round trip: nothing twice
    assert again.items == [] and again.cursor == page.cursor


def test_inbound_from_zero_reads_the_backlog_with_media_and_edits(
    x_platform: XHarness, http: HttpClient
) -> None:
    page = connect(x_platform, http).fetch_inbound("0")
    ids = [item.platform_id for item in page.items]
    assert ids == sorted(ids, key=int) and len(ids) == 3
    oldest, with_photo, reply = page.items
    assert oldest.edited_at == oldest.created_at  # the second version of an edited post
    assert with_photo.media[0].kind == "image"
    assert with_photo.media[0].alt_text == "A white van across a road junction"
    assert (
        json.loads(with_photo.raw)["includes"]["media"][0]["media_key"] == "3_1990000000000000900"
    )
    assert reply.kind is InboundKind.REPLY
    # entities undone for reading: t.co expanded, &amp; unescaped; raw keeps X's bytes
    assert "https://www.example.police.uk/appeal/123 worked & I've" in reply.text
    assert "&amp;" in json.loads(reply.raw)["data"]["text"]


def test_inbound_limit_and_pagination(x_platform: XHarness, http: HttpClient) -> None:
    connector = connect(x_platform, http)
    cursor = connector.fetch_inbound("").cursor
    created = [x_platform.public_mention(f"report number {n}") for n in range(105)]
    page = connector.fetch_inbound(cursor, limit=100)
    # X answers 100 a page, newest first: both pages were read to return the oldest.
    assert x_platform.server.requests("GET", r"/mentions$") == 3
    assert [item.platform_id for item in page.items] == created[:100]
    assert page.more is True
    rest = connector.fetch_inbound(page.cursor, limit=100)
    assert [item.platform_id for item in rest.items] == created[100:]
    assert rest.more is False


def test_refresh_items_reports_deleted_posts_as_none(
    x_platform: XHarness, http: HttpClient
) -> None:
    connector = connect(x_platform, http)
    keep = x_platform.public_mention("still here")
    gone = x_platform.public_mention("about to vanish")
    x_platform.server.x_tweets[gone]["_deleted"] = True
    states = connector.refresh_items([keep, gone])
    assert states[gone] is None
    kept = states[keep]
    assert kept is not None and kept.text.endswith("still here")


def test_delete_removes_the_post(x_platform: XHarness, http: HttpClient) -> None:
    connector = connect(x_platform, http)
    ref = connector.publish(post("Posted in error"))
    connector.delete(ref.platform_id)
    assert x_platform.posts_with_text("Posted in error") == 0


def test_metrics_and_profiles(x_platform: XHarness, http: HttpClient) -> None:
    connector = connect(x_platform, http)
    (metrics,) = connector.fetch_metrics([OUR_APPEAL_POST])
    assert (metrics.likes, metrics.reposts, metrics.replies, metrics.quotes) == (41, 14, 3, 1)
    assert metrics.impressions == 5120
    profile = connector.fetch_profile("@resident_alex")
    assert profile.platform_id == "1590000000000000101"
    assert profile.location == "Northtown, Exampleshire"
    assert profile.followers == 212
    assert connector.fetch_profile("1590000000000000101").handle == "resident_alex"
    with pytest.raises(ConnectorError) as caught:
        connector.fetch_profile("nosuchaccount")
    assert caught.value.reason is ErrorReason.NOT_FOUND


def test_own_profile_has_the_follower_count(x_platform: XHarness, http: HttpClient) -> None:
    connector = connect(x_platform, http)
    x_platform.server.x_users[X_FORCE_ID]["public_metrics"] = {
        "followers_count": 48210,
        "following_count": 310,
        "tweet_count": 9120,
        "listed_count": 160,
        "like_count": 1200,
        "media_count": 800,
    }
    profile = connector.fetch_profile(FORCE_HANDLE)
    assert (profile.platform_id, profile.followers) == (X_FORCE_ID, 48210)


# -- audience: followers, likes, reposts -----------------------------------------------


def test_followers_page_through_with_their_stated_locations(
    x_platform: XHarness, http: HttpClient
) -> None:
    connector = connect(x_platform, http)
    assert Capability.AUDIENCE in XConnector.capabilities
    first = connector.fetch_followers(limit=2)
    assert [p.handle for p in first.profiles] == ["jo_in_eccles", "resident_alex"]
    jo = first.profiles[0]
    assert (jo.platform_id, jo.display_name) == ("1590000000000000103", "Jo Lee")
    assert jo.location == "Eccles, Salford"
    assert jo.description == "Eccles born and bred. Allotment on Sundays."
    assert jo.followers is None  # public_metrics is not asked for
    assert first.cursor
    last = connector.fetch_followers(first.cursor, limit=2)
    assert [(p.handle, p.location) for p in last.profiles] == [
        ("chris_granite_state", "Manchester, NH")
    ]
    assert last.cursor == ""
    x_platform.public_follows()  # the corner shop follows too: newest first
    everyone = connector.fetch_followers()
    assert [p.handle for p in everyone.profiles][:1] == ["shopkeeper_sam"]
    assert len(everyone.profiles) == 4 and everyone.cursor == ""
    requests = [path for method, path in x_platform.server.log if method == "GET"]
    assert requests.count(f"/2/users/{X_FORCE_ID}/followers") == 3


def test_engagers_are_the_likers_then_the_reposters(x_platform: XHarness, http: HttpClient) -> None:
    connector = connect(x_platform, http)
    pages: list[ProfilePage] = []
    cursor = ""
    for _ in range(6):
        page = connector.fetch_engagers(OUR_APPEAL_POST, cursor, limit=2)
        pages.append(page)
        cursor = page.cursor
        if not cursor:
            break
    assert [[p.handle for p in page.profiles] for page in pages] == [
        ["jo_in_eccles", "shopkeeper_sam"],
        ["resident_alex"],
        ["chris_granite_state"],
    ]
    assert pages[0].cursor.startswith("likes:") and pages[1].cursor == "reposts:"
    assert pages[2].profiles[0].location == "Manchester, NH"
    assert x_platform.server.requests("GET", r"/liking_users$") == 2
    assert x_platform.server.requests("GET", r"/retweeted_by$") == 1

    # A post nobody liked goes straight on to its reposts; one nobody touched is empty.
    ours = connector.publish(post("Roadworks on Mill Lane start Monday"))
    x_platform.public_reposts(ours.platform_id)
    page = connector.fetch_engagers(ours.platform_id)
    assert [p.handle for p in page.profiles] == ["shopkeeper_sam"] and page.cursor == ""
    quiet = connector.publish(post("Nothing to see here"))
    assert connector.fetch_engagers(quiet.platform_id) == ProfilePage(profiles=[], cursor="")


def test_engagers_of_a_missing_post_or_with_a_bad_cursor_are_refused(
    x_platform: XHarness, http: HttpClient
) -> None:
    connector = connect(x_platform, http)
    with pytest.raises(ConnectorError) as missing:
        connector.fetch_engagers("1990000000000000999")
    assert (missing.value.reason, missing.value.permanent) == (ErrorReason.NOT_FOUND, True)
    for bad in ("not-an-id", ""):
        with pytest.raises(ConnectorError) as caught:
            connector.fetch_engagers(bad)
        assert caught.value.reason is ErrorReason.NOT_FOUND
    with pytest.raises(ConnectorError) as cursor:
        connector.fetch_engagers(OUR_APPEAL_POST, "quotes:abc")
    assert cursor.value.reason is ErrorReason.REJECTED


@pytest.mark.parametrize("recording", ["error_403_client_forbidden", "error_403_not_permitted"])
def test_a_403_on_the_audience_lists_refuses_the_request_without_breaking_the_account(
    x_platform: XHarness, http: HttpClient, recording: str
) -> None:
    """Accounts connected before Beatdesk asked for ``follows.read`` and ``like.read``, or
    an API access level without these endpoints: the account still works otherwise."""
    x_platform.server.fail_next("GET", r"/followers$", "x", recording)
    x_platform.server.fail_next("GET", r"/liking_users$", "x", recording)
    connector = connect(x_platform, http)
    calls: list[Callable[[], ProfilePage]] = [
        connector.fetch_followers,
        lambda: connector.fetch_engagers(OUR_APPEAL_POST),
    ]
    for call in calls:
        with pytest.raises(ConnectorError) as caught:
            call()
        error = caught.value
        assert error.permanent and error.reason is ErrorReason.REJECTED
        assert not error.breaks_account and error.status == 403
        assert "Reconnect the account" in error.message
        assert x_platform.access_token not in error.message


def test_audience_lists_are_rate_limited_and_revoked_like_everything_else(
    x_platform: XHarness, http: HttpClient
) -> None:
    reset = int((datetime.now(UTC) + timedelta(minutes=10)).timestamp())
    x_platform.server.fail_next(
        "GET",
        r"/followers$",
        "x",
        "error_429_too_many_requests",
        headers={"x-rate-limit-reset": str(reset)},
    )
    connector = connect(x_platform, http)
    with pytest.raises(ConnectorError) as limited:
        connector.fetch_followers()
    assert limited.value.reason is ErrorReason.RATE_LIMITED and not limited.value.permanent
    assert limited.value.retry_after is not None
    assert int(limited.value.retry_after.timestamp()) == reset
    x_platform.revoke_force_credentials()
    with pytest.raises(ConnectorError) as revoked:
        connector.fetch_engagers(OUR_APPEAL_POST)
    assert revoked.value.breaks_account


# -- errors -----------------------------------------------------------------------------


def test_revoked_token_is_auth_expired_and_breaks_the_account(
    x_platform: XHarness, http: HttpClient
) -> None:
    x_platform.revoke_force_credentials()
    with pytest.raises(ConnectorError) as caught:
        connect(x_platform, http).verify()
    assert caught.value.reason is ErrorReason.AUTH_EXPIRED
    assert caught.value.permanent and caught.value.breaks_account
    assert caught.value.status == 401


@pytest.mark.parametrize("recording", ["error_403_not_permitted", "error_403_client_forbidden"])
def test_403_permission_is_auth_revoked(
    x_platform: XHarness, http: HttpClient, recording: str
) -> None:
    x_platform.server.fail_next("POST", r"^/2/tweets$", "x", recording)
    with pytest.raises(ConnectorError) as caught:
        connect(x_platform, http).publish(post("anything"))
    assert caught.value.reason is ErrorReason.AUTH_REVOKED
    assert caught.value.permanent and caught.value.breaks_account


def test_403_duplicate_content_is_rejected_not_account_breaking(
    x_platform: XHarness, http: HttpClient
) -> None:
    x_platform.server.fail_next("POST", r"^/2/tweets$", "x", "error_403_duplicate")
    with pytest.raises(ConnectorError) as caught:
        connect(x_platform, http).publish(post("anything"))
    assert caught.value.reason is ErrorReason.REJECTED
    assert caught.value.permanent is True
    assert caught.value.breaks_account is False
    assert "duplicate" in str(caught.value)


def test_429_is_transient_with_retry_after_from_the_reset_header(
    x_platform: XHarness, http: HttpClient
) -> None:
    reset = int(datetime.now(UTC).timestamp()) + 900
    x_platform.server.fail_next(
        "GET",
        r"/mentions$",
        "x",
        "error_429_too_many_requests",
        headers={"x-rate-limit-reset": str(reset)},
    )
    with pytest.raises(ConnectorError) as caught:
        connect(x_platform, http).fetch_inbound(SEEDED_NEWEST_MENTION)
    assert caught.value.reason is ErrorReason.RATE_LIMITED
    assert caught.value.permanent is False and not caught.value.breaks_account
    assert caught.value.retry_after == datetime.fromtimestamp(reset, tz=UTC)


def test_429_on_the_24_hour_user_limit_is_the_posting_cap(
    x_platform: XHarness, http: HttpClient
) -> None:
    reset = int(datetime.now(UTC).timestamp()) + 3600
    x_platform.server.fail_next(
        "POST",
        r"^/2/tweets$",
        "x",
        "error_429_user_24hour_limit",
        headers={"x-user-limit-24hour-reset": str(reset)},
    )
    with pytest.raises(ConnectorError) as caught:
        connect(x_platform, http).publish(post("one more"))
    assert caught.value.reason is ErrorReason.POSTING_CAP
    assert caught.value.permanent is False
    assert caught.value.retry_after == datetime.fromtimestamp(reset, tz=UTC)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_transient(x_platform: XHarness, http: HttpClient, status: int) -> None:
    with FaultProxy(x_platform.server.url) as proxy:
        proxy.add(Rule("GET", r"^/2/users/me", "status", status=status, body=b"upstream error"))
        with pytest.raises(ConnectorError) as caught:
            connect(x_platform, http, proxy.url).verify()
    assert caught.value.reason is ErrorReason.SERVER
    assert caught.value.permanent is False and not caught.value.breaks_account


def test_recorded_503_body_is_transient(x_platform: XHarness, http: HttpClient) -> None:
    x_platform.server.fail_next("GET", r"^/2/users/me$", "x", "error_503_service_unavailable")
    with pytest.raises(ConnectorError) as caught:
        connect(x_platform, http).verify()
    assert caught.value.reason is ErrorReason.SERVER and caught.value.retry_after is not None


# -- OAuth 2.0 with PKCE ----------------------------------------------------------------


def test_start_oauth_uses_fresh_state_and_an_s256_challenge(x_platform: XHarness) -> None:
    first = XConnector.start_oauth(x_platform.app)
    second = XConnector.start_oauth(x_platform.app)
    assert first.state != second.state and len(first.state) >= 32
    assert first.code_verifier != second.code_verifier
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", first.code_verifier)
    parts = urlsplit(first.authorize_url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "x.com", "/i/oauth2/authorize")
    query = dict(parse_qsl(parts.query))
    assert query["response_type"] == "code"
    assert query["client_id"] == x_platform.app.client_id
    assert query["redirect_uri"] == x_platform.app.redirect_uri
    assert query["state"] == first.state
    assert query["scope"].split(" ") == [
        "tweet.read",
        "tweet.write",
        "users.read",
        "offline.access",
        "dm.read",
        "tweet.moderate.write",
        "follows.read",
        "like.read",
    ]
    assert query["code_challenge_method"] == "S256"
    expected = (
        base64.urlsafe_b64encode(hashlib.sha256(first.code_verifier.encode()).digest())
        .rstrip(b"=")
        .decode()
    )
    assert query["code_challenge"] == expected == pkce_challenge(first.code_verifier)
    # RFC 7636 appendix B test vector
    assert (
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_finish_oauth_exchanges_the_code_for_working_credentials(
    x_platform: XHarness, http: HttpClient
) -> None:
    start = XConnector.start_oauth(x_platform.app)
    code, state = x_platform.authorize(start.authorize_url)
    assert state == start.state
    credentials = XConnector.finish_oauth(
        x_platform.app,
        code=code,
        code_verifier=start.code_verifier,
        http=http,
        base_url=x_platform.server.url,
    )
    assert set(credentials) >= {"access_token", "refresh_token", "expires_at", "client_id"}
    expires = datetime.fromisoformat(credentials["expires_at"])
    assert timedelta(minutes=110) < expires - datetime.now(UTC) <= timedelta(hours=2)
    settings = x_platform.force_account()
    connector = XConnector(
        type(settings)(base_url=settings.base_url, credentials=credentials), http
    )
    assert connector.verify().platform_account_id == X_FORCE_ID
    # the code is single use
    with pytest.raises(ConnectorError) as caught:
        XConnector.finish_oauth(
            x_platform.app,
            code=code,
            code_verifier=start.code_verifier,
            http=http,
            base_url=x_platform.server.url,
        )
    assert caught.value.reason is ErrorReason.AUTH_EXPIRED and caught.value.permanent


def test_finish_oauth_fails_with_the_wrong_verifier(x_platform: XHarness, http: HttpClient) -> None:
    start = XConnector.start_oauth(x_platform.app)
    code, _ = x_platform.authorize(start.authorize_url)
    other = XConnector.start_oauth(x_platform.app)
    with pytest.raises(ConnectorError):
        XConnector.finish_oauth(
            x_platform.app,
            code=code,
            code_verifier=other.code_verifier,
            http=http,
            base_url=x_platform.server.url,
        )


def test_expired_access_token_is_refreshed_before_the_call(
    x_platform: XHarness, http: HttpClient
) -> None:
    old_refresh = x_platform.refresh_token
    settings = x_platform.force_account(expires_at=datetime.now(UTC) - timedelta(minutes=5))
    x_platform.revoke_force_credentials()  # the old access token no longer works at all
    connector = XConnector(settings, http)
    assert connector.verify().handle == FORCE_HANDLE
    fresh = connector.updated_credentials
    assert fresh is not None
    assert fresh["access_token"] != x_platform.access_token
    assert fresh["refresh_token"] != old_refresh  # X rotates refresh tokens
    assert datetime.fromisoformat(fresh["expires_at"]) > datetime.now(UTC)
    assert old_refresh not in x_platform.server.x_refresh  # spent
    # a second refresh with the spent token fails as an expired connection
    stale = XConnector(settings, http)
    with pytest.raises(ConnectorError) as caught:
        stale.verify()
    assert caught.value.reason is ErrorReason.AUTH_EXPIRED


def test_refresh_credentials_sets_updated_credentials(
    x_platform: XHarness, http: HttpClient
) -> None:
    connector = connect(x_platform, http)
    fresh = connector.refresh_credentials()
    assert connector.updated_credentials == fresh
    assert fresh["client_id"] == x_platform.app.client_id


def test_tokens_never_appear_in_errors_or_logs(
    x_platform: XHarness, http: HttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = [x_platform.access_token, x_platform.refresh_token, x_platform.app.client_secret]
    errors: list[ConnectorError] = []
    connector = connect(x_platform, http)
    connector.publish(post("fine"))
    with FaultProxy(x_platform.server.url) as proxy:
        proxy.add(Rule("POST", r"^/2/tweets", "cut"))
        try:
            connect(x_platform, http, proxy.url).publish(post("cut"))
        except ConnectorError as exc:
            errors.append(exc)
    x_platform.revoke_force_credentials()
    expired = x_platform.force_account(expires_at=datetime.now(UTC) - timedelta(hours=1))
    refreshed = XConnector(expired, http)
    refreshed.verify()  # refreshes: the new tokens must not leak either
    assert refreshed.updated_credentials is not None
    secrets += [
        refreshed.updated_credentials["access_token"],
        refreshed.updated_credentials["refresh_token"],
    ]
    for call in (
        lambda: connect(x_platform, http).verify(),
        lambda: XConnector(expired, http).verify(),  # spent refresh token
        lambda: XConnector.finish_oauth(
            x_platform.app,
            code="bad",
            code_verifier="v" * 43,
            http=http,
            base_url=x_platform.server.url,
        ),
    ):
        try:
            call()
        except ConnectorError as exc:
            errors.append(exc)
    assert len(errors) == 4
    assert caplog.records  # the HTTP layer did log
    for secret in secrets:
        assert secret not in caplog.text
        for error in errors:
            assert secret not in str(error) and secret not in repr(error)


# -- the stand-in answers in the recorded shapes ------------------------------------------


def shape(value: object) -> object:
    """Keys and value types, recursively (lists by their first element)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_stand_in_answers_in_the_recorded_shapes(x_platform: XHarness) -> None:
    server = x_platform.server
    auth = {"Authorization": f"Bearer {x_platform.access_token}"}

    def call(method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, server.url + path, headers=auth, **kwargs)
        return response.json()

    def recorded(name: str) -> Any:
        return recording("x", name).body

    assert shape(call("GET", "/2/users/me")) == shape(recorded("users_me"))
    fields = {"user.fields": "username,name,location,description,public_metrics"}
    assert shape(call("GET", "/2/users/by/username/resident_alex", params=fields)) == shape(
        recorded("users_by_username")
    )
    assert shape(call("GET", "/2/users/by/username/nosuchaccount")) == shape(
        recorded("users_by_username_not_found")
    )
    mentions = call(
        "GET",
        f"/2/users/{X_FORCE_ID}/mentions",
        params={
            "max_results": 100,
            "expansions": "author_id,attachments.media_keys",
            "tweet.fields": "created_at,conversation_id,in_reply_to_user_id,referenced_tweets,"
            "attachments,edit_history_tweet_ids,entities,public_metrics,author_id",
            "user.fields": "username,name,location",
            "media.fields": "url,type,alt_text",
        },
    )
    assert mentions == recorded("users_mentions")  # seeded from it, so identical
    assert call(
        "GET", f"/2/users/{X_FORCE_ID}/mentions", params={"since_id": SEEDED_NEWEST_MENTION}
    ) == recorded("users_mentions_empty")
    created = call("POST", "/2/tweets", json={"text": "Shape check"})
    assert shape(created) == shape(recorded("tweets_create"))
    lookup = call(
        "GET", "/2/tweets", params={"ids": f"{SEEDED_NEWEST_MENTION},1990000000000000999"}
    )
    assert lookup == recorded("tweets_lookup_partial")
    assert shape(call("DELETE", f"/2/tweets/{created['data']['id']}")) == shape(
        recorded("tweets_delete")
    )
    upload = call(
        "POST",
        "/2/media/upload",
        data={"media_category": "tweet_image"},
        files={"media": ("a.png", b"png", "image/png")},
    )
    assert shape(upload) == shape(recorded("media_upload"))
    media_id = upload["data"]["id"]
    metadata = call(
        "POST", "/2/media/metadata", json={"id": media_id, "metadata": {"alt_text": {"text": "x"}}}
    )
    assert shape(metadata) == shape(recorded("media_metadata"))
    reply = x_platform.public_reply(OUR_APPEAL_POST, "Shape check reply")
    hidden = call("PUT", f"/2/tweets/{reply}/hidden", json={"hidden": True})
    assert hidden == recorded("tweets_hidden")
    their_own = x_platform.public_mention("Shape check: a post of their own")
    refused = call("PUT", f"/2/tweets/{their_own}/hidden", json={"hidden": True})
    assert refused == recorded("error_403_hide_not_permitted")
    start = XConnector.start_oauth(x_platform.app)
    code, _ = x_platform.authorize(start.authorize_url)
    token = httpx.post(
        server.url + "/2/oauth2/token",
        auth=(x_platform.app.client_id, x_platform.app.client_secret),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": x_platform.app.redirect_uri,
            "code_verifier": start.code_verifier,
            "client_id": x_platform.app.client_id,
        },
    ).json()
    assert shape(token) == shape(recorded("oauth2_token"))


def test_stand_in_answers_the_audience_lists_in_the_recorded_shapes(
    x_platform: XHarness, http: HttpClient
) -> None:
    server = x_platform.server
    auth = {"Authorization": f"Bearer {x_platform.access_token}"}
    fields = {"user.fields": "location,description"}

    def call(path: str, **params: Any) -> Any:
        response = httpx.get(server.url + path, headers=auth, params={**fields, **params})
        assert response.status_code == 200, response.text
        return response.json()

    def recorded(name: str) -> Any:
        return recording("x", name).body

    first = call(f"/2/users/{X_FORCE_ID}/followers", max_results=2)
    assert first["data"] == recorded("users_followers")["data"]
    assert shape(first) == shape(recorded("users_followers"))
    last = call(
        f"/2/users/{X_FORCE_ID}/followers",
        max_results=2,
        pagination_token=first["meta"]["next_token"],
    )
    assert last["data"] == recorded("users_followers_last")["data"]
    assert shape(last) == shape(recorded("users_followers_last"))
    for name in ("tweets_liking_users", "tweets_retweeted_by"):
        path = f"/2/tweets/{OUR_APPEAL_POST}/{name.removeprefix('tweets_')}"
        assert call(path) == recorded(name)
    ours = connect(x_platform, http).publish(post("Shape check: no likes"))
    assert call(f"/2/tweets/{ours.platform_id}/liking_users") == recorded(
        "tweets_liking_users_empty"
    )


# -- hiding replies -----------------------------------------------------------------------


def test_hide_a_reply_in_our_conversation_and_show_it_again(
    x_platform: XHarness, http: HttpClient
) -> None:
    connector = connect(x_platform, http)
    ours = connector.publish(post("Road closed on Station Street until 6pm"))
    reply = x_platform.public_reply(ours.platform_id, "buy followers at example.com")
    connector.hide_inbound(reply)
    assert x_platform.is_hidden(reply)
    connector.hide_inbound(reply)  # already hidden: X answers success again
    assert x_platform.is_hidden(reply)
    connector.hide_inbound(reply, hidden=False)
    assert not x_platform.is_hidden(reply)
    assert x_platform.server.requests("PUT", r"^/2/tweets/\d+/hidden$") == 3


def test_hide_outside_our_conversations_is_refused_without_breaking_the_account(
    x_platform: XHarness, http: HttpClient
) -> None:
    connector = connect(x_platform, http)
    mention = x_platform.public_mention("a post of their own that mentions us")
    with pytest.raises(ConnectorError) as caught:
        connector.hide_inbound(mention)
    error = caught.value
    assert error.permanent and error.reason is ErrorReason.REJECTED and not error.breaks_account
    assert "conversations the account started" in error.message
    assert not x_platform.is_hidden(mention)
    with pytest.raises(ConnectorError) as caught:
        connector.hide_inbound("not-an-id")
    assert caught.value.reason is ErrorReason.NOT_FOUND


def test_hide_with_a_revoked_token_still_breaks_the_account(
    x_platform: XHarness, http: HttpClient
) -> None:
    connector = connect(x_platform, http)
    ours = connector.publish(post("Lost dog found near the park"))
    reply = x_platform.public_reply(ours.platform_id, "spam")
    x_platform.revoke_force_credentials()
    with pytest.raises(ConnectorError) as caught:
        connector.hide_inbound(reply)
    assert caught.value.breaks_account
