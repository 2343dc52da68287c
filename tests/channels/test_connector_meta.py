"""Facebook Page and Instagram connectors against the replay stand-in of the Graph API.

Real HTTP to a local server, FaultProxy in between where a connection must break;
results are checked on the platform side (the harnesses), not through the connector.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from beatdesk.channels.connectors.meta.connector import (
    FacebookPageConnector,
    InboundCursor,
    InstagramConnector,
)
from beatdesk.channels.connectors.meta.graph import GRAPH_VERSION, redact_graph_url
from beatdesk.channels.contract import (
    Capability,
    ConnectionSettings,
    ConnectorError,
    ErrorReason,
    InboundKind,
    OutboundMedia,
    OutboundPost,
    PublishedRef,
)
from beatdesk.channels.keys import new_post_key
from beatdesk.channels.registry import connector_class
from beatdesk.core.http import HttpClient

from .faultproxy import FaultProxy, Rule
from .replay_platform import META_IG_ID, META_IG_USERNAME, META_PAGE_ID, recording

if TYPE_CHECKING:
    from .harness_meta import FacebookHarness, InstagramHarness

# Loaded as a plugin (not imported above) so its fixtures register and its asserts
# are rewritten.
pytest_plugins = ["tests.channels.harness_meta"]

COMMUNITY_POST = f"{META_PAGE_ID}_811122233344455"
TOP_COMMENT = "811122233344455_122334455667788"
IG_MEDIA = "17900000000000011"
IG_COMMENT = "17850000000000021"
JPEG = OutboundMedia(data=b"\xff\xd8\xff\xe0 fake jpeg", mime_type="image/jpeg", alt_text="A stall")


@pytest.fixture
def http() -> Iterator[HttpClient]:
    with HttpClient(read_timeout=5.0) as client:
        yield client


def facebook(
    platform: FacebookHarness, http: HttpClient, base_url: str | None = None
) -> FacebookPageConnector:
    return FacebookPageConnector(platform.force_account(base_url), http)


def instagram(
    platform: InstagramHarness, http: HttpClient, base_url: str | None = None
) -> InstagramConnector:
    connector = InstagramConnector(platform.force_account(base_url), http)
    connector.media_url = platform.media_url
    connector.sleep = lambda seconds: None
    return connector


def post(text: str, **kwargs: object) -> OutboundPost:
    return OutboundPost(key=new_post_key(), text=text, **kwargs)  # type: ignore[arg-type]


def publish_at_most_once(
    connector: FacebookPageConnector | InstagramConnector,
    outbound: OutboundPost,
    since: datetime,
    *,
    unknown: bool = False,
    attempts: int = 3,
) -> PublishedRef:
    """The caller's rule: once an outcome is unknown, look up before every retry."""
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


def test_registry_and_declared_limits() -> None:
    assert connector_class("facebook") is FacebookPageConnector
    assert connector_class("instagram") is InstagramConnector
    assert not FacebookPageConnector.idempotent_publish
    assert not InstagramConnector.idempotent_publish
    cap = InstagramConnector.posting_cap
    assert cap is not None and (cap.posts, cap.per_seconds) == (100, 86400)
    assert re.fullmatch(r"v\d+\.0", GRAPH_VERSION)


# == Facebook Page =======================================================================


def test_facebook_verify(facebook_platform: FacebookHarness, http: HttpClient) -> None:
    identity = facebook(facebook_platform, http).verify()
    assert identity.platform_account_id == META_PAGE_ID
    assert identity.handle == "ExamplePolice"
    assert identity.display_name == "Example Police"
    assert identity.url == "https://www.facebook.com/ExamplePolice"


def test_facebook_publish_creates_exactly_one_post(
    facebook_platform: FacebookHarness, http: HttpClient
) -> None:
    connector = facebook(facebook_platform, http)
    text = "Northtown library drop-in is on again next Thursday, 2pm to 4pm."
    ref = connector.publish(post(text))
    assert facebook_platform.posts_with_text(text) == 1
    assert ref.platform_id.startswith(f"{META_PAGE_ID}_")
    assert ref.url == f"https://www.facebook.com/{ref.platform_id}"
    assert connector.rate_limit.limit == 100  # X-App-Usage was read (percentages)


def test_facebook_publish_with_photos(facebook_platform: FacebookHarness, http: HttpClient) -> None:
    connector = facebook(facebook_platform, http)
    single = connector.publish(post("One photo", media=(JPEG,)))
    assert facebook_platform.posts_with_text("One photo") == 1
    assert single.platform_id.startswith(f"{META_PAGE_ID}_")
    several = connector.publish(post("Two photos", media=(JPEG, JPEG)))
    assert facebook_platform.posts_with_text("Two photos") == 1
    server = facebook_platform.server
    staged = [
        obj for obj in server.g_objects.values() if obj["_type"] == "photo" and obj["_published"]
    ]
    assert len(staged) == 3  # one published directly, two staged then attached
    assert several.platform_id in server.g_objects


def test_facebook_reply_is_a_comment_on_the_post(
    facebook_platform: FacebookHarness, http: HttpClient
) -> None:
    ref = facebook(facebook_platform, http).publish(
        post("Yes, the neighbourhood team will be there.", reply_to_id=TOP_COMMENT)
    )
    stored = facebook_platform.server.g_objects[ref.platform_id]
    assert stored["_type"] == "comment"
    assert stored["parent"] == {"id": TOP_COMMENT}
    assert stored["from"]["id"] == META_PAGE_ID


def test_facebook_cut_after_create_is_unknown_and_lookup_leaves_one_post(
    facebook_platform: FacebookHarness, http: HttpClient
) -> None:
    text = "Appeal: have you seen this bike? Red frame, black basket. Call 101."
    outbound = post(text)
    since = datetime.now(UTC)
    with FaultProxy(facebook_platform.server.url) as proxy:
        proxy.add(Rule("POST", rf"/{META_PAGE_ID}/feed", "cut"))
        connector = facebook(facebook_platform, http, proxy.url)
        with pytest.raises(ConnectorError) as caught:
            connector.publish(outbound)
        assert caught.value.outcome_unknown is True
        assert facebook_platform.posts_with_text(text) == 1  # Facebook did accept it
        found = connector.find_published(outbound, since)
        assert found is not None
        ref = publish_at_most_once(connector, outbound, since, unknown=True)
        assert ref.platform_id == found.platform_id
        creates = [entry for entry in proxy.log if entry[0] == "POST" and "/feed" in entry[1]]
        assert len(creates) == 1
    assert facebook_platform.posts_with_text(text) == 1


def test_facebook_cut_reply_is_found_among_the_comments(
    facebook_platform: FacebookHarness, http: HttpClient
) -> None:
    outbound = post("Parking is free behind the library.", reply_to_id=TOP_COMMENT)
    since = datetime.now(UTC)
    with FaultProxy(facebook_platform.server.url) as proxy:
        proxy.add(Rule("POST", r"/comments", "cut"))
        ref = publish_at_most_once(facebook(facebook_platform, http, proxy.url), outbound, since)
    assert facebook_platform.posts_with_text(outbound.text) == 1
    assert facebook_platform.server.g_objects[ref.platform_id]["parent"] == {"id": TOP_COMMENT}
    # a comment with the same words by someone else is not ours
    facebook_platform.public_reply(COMMUNITY_POST, "Same words")
    assert (
        facebook(facebook_platform, http).find_published(
            post("Same words", reply_to_id=COMMUNITY_POST), since
        )
        is None
    )


def test_facebook_refused_create_is_not_found(
    facebook_platform: FacebookHarness, http: HttpClient
) -> None:
    text = "The road is clear again."
    outbound = post(text)
    since = datetime.now(UTC)
    with FaultProxy(facebook_platform.server.url) as proxy:
        proxy.add(Rule("POST", r"/feed", "status", status=503))
        connector = facebook(facebook_platform, http, proxy.url)
        with pytest.raises(ConnectorError) as caught:
            connector.publish(outbound)
        assert caught.value.outcome_unknown is False and caught.value.permanent is False
        assert connector.find_published(outbound, since) is None
        assert facebook_platform.posts_with_text(text) == 0


def test_facebook_cut_while_staging_photos_publishes_nothing(
    facebook_platform: FacebookHarness, http: HttpClient
) -> None:
    with FaultProxy(facebook_platform.server.url) as proxy:
        proxy.add(Rule("POST", r"/photos", "cut"))
        with pytest.raises(ConnectorError) as caught:
            facebook(facebook_platform, http, proxy.url).publish(
                post("Gallery", media=(JPEG, JPEG))
            )
    assert caught.value.outcome_unknown is False
    assert facebook_platform.posts_with_text("Gallery") == 0


def test_facebook_inbound_starts_now_then_new_comments_oldest_first(
    facebook_platform: FacebookHarness, http: HttpClient
) -> None:
    connector = facebook(facebook_platform, http)
    start = connector.fetch_inbound("")
    assert start.items == []  # no backlog

    comment = facebook_platform.public_reply(COMMUNITY_POST, "Is it wheelchair accessible?")
    visitor = facebook_platform.public_mention("There is a broken street light on Elm Road.")
    reply = facebook_platform.public_reply(TOP_COMMENT, "I would like to know too")
    ours = facebook(facebook_platform, http).publish(post("Yes it is.", reply_to_id=comment))

    page = connector.fetch_inbound(start.cursor)
    assert [item.platform_id for item in page.items] == [comment, visitor, reply]
    assert ours.platform_id not in {item.platform_id for item in page.items}
    by_id = {item.platform_id: item for item in page.items}
    assert by_id[comment].kind is InboundKind.COMMENT
    assert by_id[comment].reply_to_id == COMMUNITY_POST
    assert by_id[comment].thread_root_id == COMMUNITY_POST
    assert by_id[comment].author_display_name == "Jordan Example"
    assert by_id[reply].reply_to_id == TOP_COMMENT
    assert by_id[reply].thread_root_id == COMMUNITY_POST
    assert by_id[visitor].kind is InboundKind.MENTION
    assert by_id[visitor].thread_root_id == visitor
    raw = json.loads(by_id[reply].raw)
    assert raw["id"] == reply and raw["parent"] == {"id": TOP_COMMENT}
    assert raw["from"] == {"name": "Jordan Example", "id": "7010000000000002"}
    assert by_id[reply].raw == json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode()

    again = connector.fetch_inbound(page.cursor)  # cursor round trip
    assert again.items == []


def test_facebook_inbound_backlog_and_limit(
    facebook_platform: FacebookHarness, http: HttpClient
) -> None:
    connector = facebook(facebook_platform, http)
    everything = json.dumps({"t": "", "seen": {}})
    backlog = connector.fetch_inbound(everything)
    ids = [item.platform_id for item in backlog.items]
    assert ids == [
        f"{META_PAGE_ID}_811122233344400",
        TOP_COMMENT,
        "811122233344455_122334455667790",
    ]
    photo = backlog.items[1].media[0]
    assert photo.kind == "image" and photo.url.endswith("ExAmPlE.jpg")

    cursor = backlog.cursor
    made = [facebook_platform.public_reply(COMMUNITY_POST, f"comment {n}") for n in range(5)]
    first = connector.fetch_inbound(cursor, limit=2)
    second = connector.fetch_inbound(first.cursor, limit=2)
    third = connector.fetch_inbound(second.cursor, limit=2)
    assert first.more and second.more and not third.more
    got = [item.platform_id for p in (first, second, third) for item in p.items]
    assert got == made


def test_facebook_comments_beyond_the_first_page_are_read(
    facebook_platform: FacebookHarness, http: HttpClient
) -> None:
    connector = facebook(facebook_platform, http)
    cursor = connector.fetch_inbound("").cursor
    made = [facebook_platform.public_reply(COMMUNITY_POST, f"busy thread {n}") for n in range(130)]
    page = connector.fetch_inbound(cursor, limit=500)
    assert [item.platform_id for item in page.items] == made
    assert facebook_platform.server.requests("GET", rf"/{COMMUNITY_POST}/comments$") == 1


def test_inbound_cursor_serialisation() -> None:
    cursor = InboundCursor.parse(json.dumps({"t": "2026-11-20T09:40:00+00:00", "seen": {"a": 1}}))
    assert cursor.at == datetime(2026, 11, 20, 9, 40, tzinfo=UTC)
    assert InboundCursor.parse(cursor.dump()) == cursor
    with pytest.raises(ValueError):
        InboundCursor.parse("1990000000000000103")


def test_facebook_refresh_items(facebook_platform: FacebookHarness, http: HttpClient) -> None:
    connector = facebook(facebook_platform, http)
    keep = facebook_platform.public_reply(COMMUNITY_POST, "keep me")
    gone = facebook_platform.public_reply(COMMUNITY_POST, "delete me")
    facebook_platform.server.g_objects[gone]["_deleted"] = True
    states = connector.refresh_items([keep, gone, f"{META_PAGE_ID}_811122233344400"])
    assert states[gone] is None
    kept = states[keep]
    assert kept is not None and kept.text == "keep me"
    assert kept.thread_root_id == COMMUNITY_POST
    visitor = states[f"{META_PAGE_ID}_811122233344400"]
    assert visitor is not None and visitor.kind is InboundKind.MENTION


def test_facebook_delete_metrics_profile(
    facebook_platform: FacebookHarness, http: HttpClient
) -> None:
    connector = facebook(facebook_platform, http)
    ref = connector.publish(post("Posted by mistake"))
    connector.delete(ref.platform_id)
    assert facebook_platform.posts_with_text("Posted by mistake") == 0
    facebook_platform.server.g_objects[COMMUNITY_POST]["_reactions"] = 37
    facebook_platform.server.g_objects[COMMUNITY_POST]["_shares"] = 4
    (metrics,) = connector.fetch_metrics([COMMUNITY_POST])
    assert (metrics.likes, metrics.replies, metrics.reposts) == (37, 2, 4)
    assert metrics.impressions is None
    profile = connector.fetch_profile(META_PAGE_ID)
    assert profile.location == "Exampleton, United Kingdom" and profile.followers == 48210


# -- Facebook errors ----------------------------------------------------------------------


def test_facebook_expired_token_is_auth_expired(
    facebook_platform: FacebookHarness, http: HttpClient
) -> None:
    facebook_platform.revoke_force_credentials()
    with pytest.raises(ConnectorError) as caught:
        facebook(facebook_platform, http).verify()
    assert caught.value.reason is ErrorReason.AUTH_EXPIRED
    assert caught.value.permanent and caught.value.breaks_account
    assert "(code 190/463" in str(caught.value)


@pytest.mark.parametrize(
    ("recording", "reason", "permanent"),
    [
        ("error_190_460_password_changed", ErrorReason.AUTH_REVOKED, True),
        ("error_190_458_app_removed", ErrorReason.AUTH_REVOKED, True),
        ("error_190_invalid_token", ErrorReason.AUTH_EXPIRED, True),
        ("error_10_permission", ErrorReason.AUTH_REVOKED, True),
        ("error_200_permission", ErrorReason.AUTH_REVOKED, True),
        ("error_4_app_rate_limit", ErrorReason.RATE_LIMITED, False),
        ("error_32_page_rate_limit", ErrorReason.RATE_LIMITED, False),
        ("error_2_service_unavailable", ErrorReason.SERVER, False),
        ("error_1_unknown", ErrorReason.SERVER, False),
        ("error_100_invalid_parameter", ErrorReason.REJECTED, True),
        ("error_368_blocked", ErrorReason.REJECTED, True),
        ("error_506_duplicate", ErrorReason.REJECTED, True),
    ],
)
def test_facebook_graph_errors(
    facebook_platform: FacebookHarness,
    http: HttpClient,
    recording: str,
    reason: ErrorReason,
    permanent: bool,
) -> None:
    facebook_platform.server.fail_next("POST", r"/feed$", "meta", recording)
    with pytest.raises(ConnectorError) as caught:
        facebook(facebook_platform, http).publish(post("anything"))
    assert caught.value.reason is reason
    assert caught.value.permanent is permanent
    assert caught.value.breaks_account is (
        reason in (ErrorReason.AUTH_EXPIRED, ErrorReason.AUTH_REVOKED)
    )
    assert caught.value.outcome_unknown is False


def test_facebook_rate_limit_retry_after_from_usage_headers(
    facebook_platform: FacebookHarness, http: HttpClient
) -> None:
    before = datetime.now(UTC)
    facebook_platform.server.fail_next("GET", r"/feed$", "meta", "error_32_page_rate_limit")
    with pytest.raises(ConnectorError) as caught:
        facebook(facebook_platform, http).fetch_inbound("")
    assert caught.value.reason is ErrorReason.RATE_LIMITED
    when = caught.value.retry_after
    # X-Business-Use-Case-Usage: estimated_time_to_regain_access is 17 (minutes)
    assert when is not None
    assert before + timedelta(minutes=17) <= when <= datetime.now(UTC) + timedelta(minutes=17)

    facebook_platform.server.fail_next("GET", r"/feed$", "meta", "error_4_app_rate_limit")
    with pytest.raises(ConnectorError) as caught:
        facebook(facebook_platform, http).fetch_inbound("")
    fallback = caught.value.retry_after  # X-App-Usage has no estimate: five minutes
    assert fallback is not None and fallback - datetime.now(UTC) > timedelta(minutes=4)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_facebook_5xx_without_graph_body_is_transient(
    facebook_platform: FacebookHarness, http: HttpClient, status: int
) -> None:
    with FaultProxy(facebook_platform.server.url) as proxy:
        proxy.add(Rule("GET", rf"/{META_PAGE_ID}\?", "status", status=status, body=b"<html>"))
        with pytest.raises(ConnectorError) as caught:
            facebook(facebook_platform, http, proxy.url).verify()
    assert caught.value.reason is ErrorReason.SERVER and not caught.value.permanent


# -- Facebook Login -------------------------------------------------------------------------


def test_facebook_start_oauth(facebook_platform: FacebookHarness) -> None:
    first = FacebookPageConnector.start_oauth(facebook_platform.app)
    second = FacebookPageConnector.start_oauth(facebook_platform.app)
    assert first.state != second.state and len(first.state) >= 32
    parts = urlsplit(first.authorize_url)
    assert parts.netloc == "www.facebook.com"
    assert parts.path == f"/{GRAPH_VERSION}/dialog/oauth"
    query = dict(parse_qsl(parts.query))
    assert query["client_id"] == facebook_platform.app.client_id
    assert query["redirect_uri"] == facebook_platform.app.redirect_uri
    assert query["state"] == first.state
    assert query["response_type"] == "code"
    assert "pages_manage_posts" in query["scope"].split(",")
    instagram_start = InstagramConnector.start_oauth(facebook_platform.app)
    assert (
        "instagram_content_publish"
        in dict(parse_qsl(urlsplit(instagram_start.authorize_url).query))["scope"]
    )


def test_facebook_finish_oauth_gives_a_working_page_token(
    facebook_platform: FacebookHarness, http: HttpClient
) -> None:
    start = FacebookPageConnector.start_oauth(facebook_platform.app)
    code, state = facebook_platform.authorize(start.authorize_url)
    assert state == start.state
    credentials = FacebookPageConnector.finish_oauth(
        facebook_platform.app,
        code=code,
        code_verifier="",
        http=http,
        base_url=facebook_platform.server.url,
    )
    assert credentials["page_id"] == META_PAGE_ID
    assert credentials["access_token"] == facebook_platform.server.page_token()
    assert json.loads(credentials["pages"]) == [{"id": META_PAGE_ID, "name": "Example Police"}]
    long_lived = facebook_platform.server.g_tokens[credentials["user_access_token"]]
    assert long_lived["expires"] - datetime.now(UTC).timestamp() > 50 * 86400
    settings = ConnectionSettings(base_url=facebook_platform.server.url, credentials=credentials)
    assert FacebookPageConnector(settings, http).verify().platform_account_id == META_PAGE_ID
    with pytest.raises(ConnectorError) as caught:  # codes are single use
        FacebookPageConnector.finish_oauth(
            facebook_platform.app,
            code=code,
            code_verifier="",
            http=http,
            base_url=facebook_platform.server.url,
        )
    assert caught.value.permanent and code not in str(caught.value)


def test_instagram_finish_oauth_picks_the_linked_account(
    instagram_platform: InstagramHarness, http: HttpClient
) -> None:
    start = InstagramConnector.start_oauth(instagram_platform.app)
    code, _ = instagram_platform.authorize(start.authorize_url)
    credentials = InstagramConnector.finish_oauth(
        instagram_platform.app,
        code=code,
        code_verifier="",
        http=http,
        base_url=instagram_platform.server.url,
    )
    assert credentials["ig_user_id"] == META_IG_ID
    assert credentials["ig_username"] == META_IG_USERNAME
    expires = datetime.fromisoformat(credentials["expires_at"])
    assert expires - datetime.now(UTC) > timedelta(days=50)
    settings = ConnectionSettings(base_url=instagram_platform.server.url, credentials=credentials)
    identity = InstagramConnector(settings, http).verify()
    assert identity.handle == META_IG_USERNAME and identity.token_expires_at is not None


def test_graph_tokens_never_appear_in_errors_or_logs(
    facebook_platform: FacebookHarness, http: HttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # core.http quiets httpx (it logs every URL, query string included, at INFO); turn it
    # back on to show that the Graph connector's own redaction holds even then.
    caplog.set_level(logging.DEBUG, logger="httpx")
    server = facebook_platform.server
    errors: list[ConnectorError] = []
    connector = facebook(facebook_platform, http)
    connector.verify()
    connector.publish(post("logged?"))
    start = FacebookPageConnector.start_oauth(facebook_platform.app)
    code, _ = facebook_platform.authorize(start.authorize_url)
    credentials = FacebookPageConnector.finish_oauth(
        facebook_platform.app, code=code, code_verifier="", http=http, base_url=server.url
    )
    with FaultProxy(server.url) as proxy:
        proxy.add(Rule("POST", r"/feed", "cut"))
        try:
            facebook(facebook_platform, http, proxy.url).publish(post("cut"))
        except ConnectorError as exc:
            errors.append(exc)
    facebook_platform.revoke_force_credentials()
    for call in (
        lambda: facebook(facebook_platform, http).verify(),
        lambda: FacebookPageConnector.finish_oauth(
            facebook_platform.app, code=code, code_verifier="", http=http, base_url=server.url
        ),
    ):
        try:
            call()
        except ConnectorError as exc:
            errors.append(exc)
    assert len(errors) == 3
    assert any("HTTP Request" in record.getMessage() for record in caplog.records)
    assert "access_token=%5Bredacted%5D" in caplog.text or "access_token=[redacted]" in caplog.text
    secrets = [
        facebook_platform.access_token,
        credentials["user_access_token"],
        facebook_platform.app.client_secret,
        code,
    ]
    for secret in secrets:
        assert secret not in caplog.text
        for error in errors:
            assert secret not in str(error) and secret not in repr(error)


def test_redact_graph_url_covers_graph_secrets() -> None:
    url = httpx.URL(
        "https://graph.facebook.com/v26.0/oauth/access_token",
        params={"fb_exchange_token": "EAAsecret", "client_id": "1", "access_token": "EAAx"},
    )
    redacted = redact_graph_url(url)
    assert "EAAsecret" not in redacted and "EAAx" not in redacted and "client_id=1" in redacted


# == Instagram ===========================================================================


def test_instagram_verify(instagram_platform: InstagramHarness, http: HttpClient) -> None:
    identity = instagram(instagram_platform, http).verify()
    assert identity.platform_account_id == META_IG_ID
    assert identity.handle == META_IG_USERNAME
    assert identity.url == f"https://www.instagram.com/{META_IG_USERNAME}/"


def test_instagram_publish_is_two_steps_and_one_post(
    instagram_platform: InstagramHarness, http: HttpClient
) -> None:
    text = "Our new neighbourhood officers for Northtown. Say hello if you see them!"
    ref = instagram(instagram_platform, http).publish(post(text, media=(JPEG,)))
    assert instagram_platform.posts_with_text(text) == 1
    server = instagram_platform.server
    media = server.g_objects[ref.platform_id]
    assert media["media_url"] == instagram_platform.hosted[0]
    assert ref.url == media["permalink"] and ref.published_at is not None
    assert server.requests("POST", rf"/{META_IG_ID}/media$") == 1
    assert server.requests("POST", rf"/{META_IG_ID}/media_publish$") == 1


def test_instagram_carousel(instagram_platform: InstagramHarness, http: HttpClient) -> None:
    ref = instagram(instagram_platform, http).publish(post("Fun day", media=(JPEG, JPEG, JPEG)))
    assert instagram_platform.server.g_objects[ref.platform_id]["media_type"] == "CAROUSEL_ALBUM"
    assert instagram_platform.server.requests("POST", rf"/{META_IG_ID}/media$") == 4


def test_instagram_cut_on_the_container_step_publishes_nothing(
    instagram_platform: InstagramHarness, http: HttpClient
) -> None:
    text = "Container step cut"
    outbound = post(text, media=(JPEG,))
    since = datetime.now(UTC)
    with FaultProxy(instagram_platform.server.url) as proxy:
        proxy.add(Rule("POST", rf"/{META_IG_ID}/media\?", "cut"))
        connector = instagram(instagram_platform, http, proxy.url)
        with pytest.raises(ConnectorError) as caught:
            connector.publish(outbound)
        assert caught.value.outcome_unknown is False  # a container is not a post
        assert instagram_platform.posts_with_text(text) == 0
        assert connector.find_published(outbound, since) is None
        publish_at_most_once(connector, outbound, since)
    assert instagram_platform.posts_with_text(text) == 1


def test_instagram_cut_on_the_publish_step_is_unknown_and_lookup_leaves_one_post(
    instagram_platform: InstagramHarness, http: HttpClient
) -> None:
    text = "Publish step cut"
    outbound = post(text, media=(JPEG,))
    since = datetime.now(UTC)
    with FaultProxy(instagram_platform.server.url) as proxy:
        proxy.add(Rule("POST", r"/media_publish", "cut"))
        connector = instagram(instagram_platform, http, proxy.url)
        with pytest.raises(ConnectorError) as caught:
            connector.publish(outbound)
        assert caught.value.outcome_unknown is True
        assert instagram_platform.posts_with_text(text) == 1
        found = connector.find_published(outbound, since)
        assert found is not None and found.url.startswith("https://www.instagram.com/p/")
        ref = publish_at_most_once(connector, outbound, since, unknown=True)
        assert ref.platform_id == found.platform_id
    assert instagram_platform.posts_with_text(text) == 1


def test_instagram_refused_publish_is_not_found(
    instagram_platform: InstagramHarness, http: HttpClient
) -> None:
    text = "Refused publish"
    outbound = post(text, media=(JPEG,))
    since = datetime.now(UTC)
    with FaultProxy(instagram_platform.server.url) as proxy:
        proxy.add(Rule("POST", r"/media_publish", "status", status=503))
        connector = instagram(instagram_platform, http, proxy.url)
        with pytest.raises(ConnectorError) as caught:
            connector.publish(outbound)
        assert caught.value.outcome_unknown is False
        assert connector.find_published(outbound, since) is None
    assert instagram_platform.posts_with_text(text) == 0


def test_instagram_refuses_what_it_cannot_publish(
    instagram_platform: InstagramHarness, http: HttpClient
) -> None:
    connector = instagram(instagram_platform, http)
    with pytest.raises(ConnectorError) as caught:
        connector.publish(post("text only"))
    assert caught.value.reason is ErrorReason.REJECTED and caught.value.permanent
    png = OutboundMedia(data=b"png", mime_type="image/png")
    with pytest.raises(ConnectorError) as caught:
        connector.publish(post("png", media=(png,)))
    assert caught.value.reason is ErrorReason.UNSUPPORTED
    connector.media_url = None
    with pytest.raises(ConnectorError) as caught:
        connector.publish(post("no host", media=(JPEG,)))
    assert caught.value.reason is ErrorReason.UNSUPPORTED
    assert instagram_platform.server.requests("POST", r"/media") == 0


def test_instagram_replies_to_media_and_to_comments(
    instagram_platform: InstagramHarness, http: HttpClient
) -> None:
    connector = instagram(instagram_platform, http)
    on_media = connector.publish(post("It starts at 11am.", reply_to_id=IG_MEDIA))
    on_comment = connector.publish(post("@northtown_mum 11am!", reply_to_id=IG_COMMENT))
    objects = instagram_platform.server.g_objects
    assert objects[on_media.platform_id]["_media"] == IG_MEDIA
    assert "parent_id" not in objects[on_media.platform_id]
    assert objects[on_comment.platform_id]["parent_id"] == IG_COMMENT
    since = datetime.now(UTC) - timedelta(minutes=1)
    found = connector.find_published(post("@northtown_mum 11am!", reply_to_id=IG_COMMENT), since)
    assert found is not None and found.platform_id == on_comment.platform_id


def test_instagram_inbound_comments_replies_and_tags_oldest_first(
    instagram_platform: InstagramHarness, http: HttpClient
) -> None:
    connector = instagram(instagram_platform, http)
    start = connector.fetch_inbound("")
    assert start.items == []
    comment = instagram_platform.public_reply(IG_MEDIA, "Will there be face painting?")
    tag = instagram_platform.public_mention("Thanks @examplepolice for the safety talk")
    reply = instagram_platform.public_reply(comment, "Yes last year there was")
    connector.publish(post("Yes there will!", reply_to_id=comment))  # ours: not inbound
    page = connector.fetch_inbound(start.cursor)
    assert [item.platform_id for item in page.items] == [comment, tag, reply]
    by_id = {item.platform_id: item for item in page.items}
    assert by_id[comment].kind is InboundKind.COMMENT
    assert by_id[comment].author_handle == "northtown_mum"
    assert by_id[comment].thread_root_id == IG_MEDIA and by_id[comment].reply_to_id == IG_MEDIA
    assert by_id[reply].reply_to_id == comment and by_id[reply].thread_root_id == IG_MEDIA
    assert by_id[tag].kind is InboundKind.MENTION and by_id[tag].media[0].kind == "image"
    assert json.loads(by_id[reply].raw)["parent_id"] == comment
    assert connector.fetch_inbound(page.cursor).items == []


def test_instagram_refresh_items_and_metrics(
    instagram_platform: InstagramHarness, http: HttpClient
) -> None:
    connector = instagram(instagram_platform, http)
    gone = instagram_platform.public_reply(IG_MEDIA, "oops")
    instagram_platform.server.g_objects[gone]["_deleted"] = True
    states = connector.refresh_items([IG_COMMENT, gone, "17900000000000031"])
    assert states[gone] is None
    kept = states[IG_COMMENT]
    assert kept is not None and kept.thread_root_id == IG_MEDIA
    tagged = states["17900000000000031"]
    assert tagged is not None and tagged.kind is InboundKind.MENTION
    (metrics,) = connector.fetch_metrics([IG_MEDIA])
    assert (metrics.likes, metrics.replies) == (88, 2)  # replies to comments count too
    profile = connector.fetch_profile("northtown_council")
    assert profile.followers == 15230 and profile.display_name == "Northtown Council"


def test_own_follower_counts_and_no_audience_lists(
    facebook_platform: FacebookHarness,
    instagram_platform: InstagramHarness,
    http: HttpClient,
) -> None:
    """Graph gives a Page's and an Instagram account's follower count, but lists neither
    their followers nor where they live: the audience lists are not offered."""
    page = facebook(facebook_platform, http)
    assert page.fetch_profile(META_PAGE_ID).followers == 48210
    account = instagram(instagram_platform, http)
    own = account.fetch_profile(META_IG_USERNAME)
    assert (own.platform_id, own.handle, own.followers) == (META_IG_ID, META_IG_USERNAME, 9120)
    assert account.fetch_profile(META_IG_ID) == own  # the insights ask by account id
    for connector in (page, account):
        assert Capability.AUDIENCE not in type(connector).capabilities
        for call in (
            connector.fetch_followers,
            lambda connector=connector: connector.fetch_engagers(COMMUNITY_POST),
        ):
            with pytest.raises(ConnectorError) as caught:
                call()
            assert caught.value.reason is ErrorReason.UNSUPPORTED


def test_instagram_publishing_cap_is_transient_posting_cap(
    instagram_platform: InstagramHarness, http: HttpClient
) -> None:
    instagram_platform.server.fail_next(
        "POST", r"/media_publish$", "meta", "ig_error_9_publish_limit"
    )
    with pytest.raises(ConnectorError) as caught:
        instagram(instagram_platform, http).publish(post("one too many", media=(JPEG,)))
    assert caught.value.reason is ErrorReason.POSTING_CAP
    assert caught.value.permanent is False and caught.value.retry_after is not None
    assert caught.value.outcome_unknown is False


def test_instagram_rate_limit_uses_business_use_case_header(
    instagram_platform: InstagramHarness, http: HttpClient
) -> None:
    instagram_platform.server.fail_next(
        "GET", r"/media$", "meta", "error_80002_instagram_rate_limit"
    )
    before = datetime.now(UTC)
    with pytest.raises(ConnectorError) as caught:
        instagram(instagram_platform, http).fetch_inbound("")
    assert caught.value.reason is ErrorReason.RATE_LIMITED
    assert caught.value.retry_after is not None
    assert caught.value.retry_after >= before + timedelta(minutes=42)


def test_instagram_expired_token(instagram_platform: InstagramHarness, http: HttpClient) -> None:
    instagram_platform.revoke_force_credentials()
    with pytest.raises(ConnectorError) as caught:
        instagram(instagram_platform, http).verify()
    assert caught.value.reason is ErrorReason.AUTH_EXPIRED and caught.value.breaks_account
    assert instagram_platform.access_token not in str(caught.value)


# == the stand-in answers in the recorded shapes ============================================


def shape(value: object) -> object:
    """Keys and value types, recursively (lists by their first element)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def without_paging(value: object) -> object:
    """The payload without its (opaque, server-specific) paging cursors."""
    if isinstance(value, dict):
        return {key: without_paging(item) for key, item in value.items() if key != "paging"}
    if isinstance(value, list):
        return [without_paging(item) for item in value]
    return value


def test_stand_in_answers_in_the_recorded_shapes(facebook_platform: FacebookHarness) -> None:
    server = facebook_platform.server
    root = f"{server.url}/{GRAPH_VERSION}"
    page_token = facebook_platform.access_token
    user_token = server.issue_graph_token(kind="user")

    def call(method: str, path: str, token: str = page_token, **params: str) -> Any:
        query = {"access_token": token}
        if method == "GET":
            query.update(params)
            return httpx.get(f"{root}/{path}", params=query).json()
        return httpx.request(method, f"{root}/{path}", params=query, data=params).json()

    def recorded(name: str) -> Any:
        return recording("meta", name).body

    def same(answer: object, name: str) -> None:
        assert shape(answer) == shape(recorded(name)), name

    same(
        call("GET", META_PAGE_ID, fields="id,name,username,link,about,location,followers_count"),
        "page",
    )
    same(
        call(
            "GET",
            "me/accounts",
            user_token,
            fields="access_token,category,category_list,name,id,tasks,instagram_business_account{id,username}",
        ),
        "me_accounts",
    )
    feed = call(
        "GET",
        f"{META_PAGE_ID}/feed",
        fields="id,message,created_time,from,permalink_url,"
        "comments.filter(stream).order(reverse_chronological){id,message,created_time,from,parent,"
        "permalink_url,attachment}",
    )
    assert without_paging(feed) == without_paging(recorded("page_feed"))  # seeded from it
    same(call("POST", f"{META_PAGE_ID}/feed", message="Shape check"), "feed_create")
    photo = httpx.post(
        f"{root}/{META_PAGE_ID}/photos",
        params={"access_token": page_token},
        data={"message": "Photo shape"},
        files={"source": ("a.jpg", b"jpg", "image/jpeg")},
    ).json()
    same(photo, "photos_create")
    same(call("POST", f"{COMMUNITY_POST}/comments", message="Comment shape"), "comments_create")
    server.g_objects[COMMUNITY_POST].update({"_reactions": 2, "_shares": 1})
    engagement = call(
        "GET",
        COMMUNITY_POST,
        fields="id,reactions.summary(total_count).limit(0),"
        "comments.summary(total_count).limit(0),shares",
    )
    assert set(engagement) == set(recorded("post_engagement"))
    same(call("GET", META_IG_ID, user_token, fields="id,username,name"), "ig_user")
    same(
        call(
            "GET",
            META_IG_ID,
            user_token,
            fields="business_discovery.username(northtown_council){id,username,name,biography,followers_count}",
        ),
        "ig_business_discovery",
    )
    media = call(
        "GET",
        f"{META_IG_ID}/media",
        user_token,
        fields="id,caption,timestamp,permalink,media_type,like_count,comments_count,"
        "comments{id,text,timestamp,username,from,replies{id,text,timestamp,username,from,parent_id}}",
    )
    assert without_paging(media) == without_paging(recorded("ig_media"))
    tags = call(
        "GET",
        f"{META_IG_ID}/tags",
        user_token,
        fields="id,caption,timestamp,permalink,username,media_type,media_url",
    )
    assert without_paging(tags) == without_paging(recorded("ig_tags"))
    unreachable = call(
        "POST", f"{META_IG_ID}/media", user_token, image_url="http://127.0.0.1:9/x.jpg"
    )
    same(unreachable, "ig_error_9004_media_fetch")  # Instagram could not download it
    image_url = server.host_media(JPEG.data)
    container = call("POST", f"{META_IG_ID}/media", user_token, image_url=image_url, caption="c")
    same(container, "ig_container_create")
    same(call("GET", container["id"], user_token, fields="status_code"), "ig_container_status")
    published = call("POST", f"{META_IG_ID}/media_publish", user_token, creation_id=container["id"])
    same(published, "ig_media_publish")
    ig_comment = call("POST", f"{IG_MEDIA}/comments", user_token, message="hi")
    same(ig_comment, "ig_comment_create")
    same(call("POST", ig_comment["id"], user_token, hide="true"), "ig_comment_hide")
    same(call("POST", TOP_COMMENT, is_hidden="true"), "comment_hide")
    same(call("DELETE", published["id"], user_token), "delete_success")


# == Hiding comments =====================================================================


def test_facebook_hides_and_shows_a_comment(
    facebook_platform: FacebookHarness, http: HttpClient
) -> None:
    connector = facebook(facebook_platform, http)
    comment = facebook_platform.public_reply(COMMUNITY_POST, "Cheap watches at example.com")
    connector.hide_inbound(comment)
    assert facebook_platform.is_hidden(comment)
    connector.hide_inbound(comment)  # the same flag again is fine
    connector.hide_inbound(comment, hidden=False)
    assert not facebook_platform.is_hidden(comment)
    body = facebook_platform.server.requests("POST", rf"^/{GRAPH_VERSION}/{comment}$")
    assert body == 3


def test_facebook_cannot_hide_a_post_on_the_page(
    facebook_platform: FacebookHarness, http: HttpClient
) -> None:
    visitor_post = facebook_platform.public_mention("A visitor post on the Page")
    with pytest.raises(ConnectorError) as caught:
        facebook(facebook_platform, http).hide_inbound(visitor_post)
    assert caught.value.reason is ErrorReason.UNSUPPORTED
    assert facebook_platform.server.requests("POST", rf"/{visitor_post}$") == 0


def test_instagram_hides_a_comment_but_not_someone_elses_media(
    instagram_platform: InstagramHarness, http: HttpClient
) -> None:
    connector = instagram(instagram_platform, http)
    comment = instagram_platform.public_reply(IG_MEDIA, "follow me for free stuff")
    connector.hide_inbound(comment)
    assert instagram_platform.is_hidden(comment)
    connector.hide_inbound(comment, hidden=False)
    assert not instagram_platform.is_hidden(comment)
    tagged = instagram_platform.public_mention("tagged you in my post")
    with pytest.raises(ConnectorError) as caught:
        connector.hide_inbound(tagged)
    assert caught.value.permanent and not caught.value.breaks_account


def test_hiding_through_a_cut_connection_is_a_plain_transient_error(
    facebook_platform: FacebookHarness, http: HttpClient
) -> None:
    comment = facebook_platform.public_reply(COMMUNITY_POST, "spam")
    with FaultProxy(facebook_platform.server.url) as proxy:
        proxy.add(Rule("POST", rf"/{comment}\?", "cut"))
        connector = facebook(facebook_platform, http, proxy.url)
        with pytest.raises(ConnectorError) as caught:
            connector.hide_inbound(comment)
        # Setting a flag twice is harmless: nothing to reconcile, just try again.
        assert not caught.value.permanent and not caught.value.outcome_unknown
        connector.hide_inbound(comment)
    assert facebook_platform.is_hidden(comment)


def test_a_comment_that_cannot_be_hidden_does_not_break_the_account(
    facebook_platform: FacebookHarness, http: HttpClient
) -> None:
    comment = facebook_platform.public_reply(COMMUNITY_POST, "spam")
    facebook_platform.server.fail_next("POST", rf"/{comment}$", "meta", "error_200_permission")
    with pytest.raises(ConnectorError) as caught:
        facebook(facebook_platform, http).hide_inbound(comment)
    assert caught.value.reason is ErrorReason.REJECTED and not caught.value.breaks_account
    assert "does not let this account hide this comment" in caught.value.message
    facebook_platform.revoke_force_credentials()
    with pytest.raises(ConnectorError) as caught:
        facebook(facebook_platform, http).hide_inbound(comment)
    assert caught.value.breaks_account  # an expired token still does
