"""Bluesky connector: AT Protocol XRPC over the one ``HttpClient``.

Every request goes to the account's PDS (or the bsky.social entryway) at
``settings.base_url``. ``app.bsky.*`` queries are answered by the AppView the PDS
is configured with: the PDS forwards them itself when no ``atproto-proxy`` header
is sent, which works on bsky.social and on self-hosted PDSes alike, so none is sent.

Sessions: an app password is exchanged for access and refresh tokens
(``createSession``); the tokens are handed to the caller through
``updated_credentials`` so that later connectors reuse them (``createSession`` is
heavily rate-limited on bsky.social). An expired access token is refreshed
(``refreshSession``); when the refresh token is refused too, the app password is
tried again, and only when the app password is refused is the account broken.

Publishing is idempotent: the post's record key is ``OutboundPost.key`` (a TID), so
a second ``createRecord`` with the same key cannot create a second post; the PDS
refuses it and the existing record is read back instead.

Hiding a reply (``hide_inbound``): the thread's root post, which must be the
account's, gets a threadgate record (``app.bsky.feed.threadgate``, the same record key
as the root) whose ``hiddenReplies`` lists the reply; AppViews then show it only
behind "hidden replies". The record is read, changed and written back with
``putRecord``'s compare-and-swap, so a concurrent change (by the Bluesky app, say) is
never overwritten; its reply rules (``allow``) are kept as they are.

Audience (``fetch_followers``, ``fetch_engagers``): ``app.bsky.graph.getFollowers`` of
the account, and ``app.bsky.feed.getLikes`` then ``app.bsky.feed.getRepostedBy`` of a
post, one AppView page per call. Bluesky profiles have no location, so ``location``
is always empty; the profile's ``description`` is kept.

Inbound: ``listNotifications`` (mentions, replies, quotes). The AppView sorts
notifications by ``min(indexedAt, createdAt)``, so a post whose author's clock runs
slow can appear just *below* the newest time already seen. The cursor therefore
keeps a short overlap window and the (hashed) URIs already returned inside it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from beatdesk.channels.contract import (
    AccountIdentity,
    Capability,
    ConnectionSettings,
    Connector,
    ConnectorError,
    ErrorReason,
    InboundItem,
    InboundKind,
    InboundPage,
    MediaItem,
    MediaRules,
    OutboundMedia,
    OutboundPost,
    PostingCap,
    PostMetrics,
    Profile,
    ProfilePage,
    PublishedRef,
)
from beatdesk.channels.keys import is_post_key
from beatdesk.core.http import HttpClient, error_for_status, rate_limit_from_headers

logger = logging.getLogger("beatdesk.channels.bluesky")

Json = dict[str, Any]

POST_COLLECTION = "app.bsky.feed.post"
THREADGATE_COLLECTION = "app.bsky.feed.threadgate"
MAX_HIDDEN_REPLIES = 300  # app.bsky.feed.threadgate: hiddenReplies maxLength
SWAP_ATTEMPTS = 3
WEB_URL = "https://bsky.app"
#: Notification reasons that are messages to the force (likes, reposts, follows are not).
INBOUND_REASONS: dict[str, InboundKind] = {
    "reply": InboundKind.REPLY,
    "quote": InboundKind.QUOTE,
    "mention": InboundKind.MENTION,
}
#: When one post is both a reply and a mention, it is reported once, as the first kind here.
KIND_PRECEDENCE = (InboundKind.REPLY, InboundKind.QUOTE, InboundKind.MENTION)
#: How far below the newest time seen late notifications are still picked up.
OVERLAP = timedelta(minutes=5)
NOTIFICATION_PAGE = 100
MAX_NOTIFICATION_PAGES = 50
GET_POSTS_BATCH = 25  # app.bsky.feed.getPosts accepts at most 25 URIs
#: getFollowers, getLikes and getRepostedBy take ``limit`` from 1 to 100.
AUDIENCE_PAGE_MAX = 100
#: ``fetch_engagers`` reads the likes of a post, then its reposts; its cursor is
#: ``<phase>:<AppView cursor>``.
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 1_000_000  # app.bsky.embed.images blob limit
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
AUTH_RETRY_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})
ACCOUNT_GONE_ERRORS = frozenset(
    {"AccountTakedown", "AccountDeactivated", "AccountSuspended", "AccountNotFound"}
)
NOT_FOUND_ERRORS = frozenset({"RecordNotFound", "NotFound", "ProfileNotFound"})

# Rich-text detection (mentions, links, hashtags) for facets. Indexes are UTF-8 bytes.
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
MENTION_RE = re.compile(rf"(?:^|(?<=[\s(\[]))@({_LABEL}(?:\.{_LABEL})+)")
URL_RE = re.compile(r"(?:^|(?<=[\s(\[]))(https?://[^\s<>\"]+)")
TAG_RE = re.compile(r"(?:^|(?<=\s))#([^\s#]+)")
TRAILING_PUNCTUATION = ".,;:!?'\""
_FRACTION_RE = re.compile(r"(\.\d{6})\d+")


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime) -> str:
    """AT Protocol datetime: UTC, milliseconds, ``Z``."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(_FRACTION_RE.sub(r"\1", value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _str(obj: Mapping[str, Any] | None, key: str) -> str:
    value = obj.get(key) if obj else None
    return value if isinstance(value, str) else ""


def _int(obj: Mapping[str, Any], key: str) -> int:
    value = obj.get(key)
    return value if isinstance(value, int) else 0


def _obj(obj: Mapping[str, Any] | None, key: str) -> Json:
    value = obj.get(key) if obj else None
    return value if isinstance(value, dict) else {}


def _list(obj: Mapping[str, Any] | None, key: str) -> list[Any]:
    value = obj.get(key) if obj else None
    return value if isinstance(value, list) else []


def _raw(payload: Json) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class AtUri:
    did: str
    collection: str
    rkey: str

    @classmethod
    def parse(cls, value: str) -> AtUri:
        match = re.fullmatch(r"at://([^/]+)/([^/]+)/([^/?#]+)", value)
        if not match:
            raise ConnectorError(
                f"not a Bluesky post URI: {value[:100]!r}",
                permanent=True,
                reason=ErrorReason.NOT_FOUND,
            )
        return cls(*match.groups())

    def __str__(self) -> str:
        return f"at://{self.did}/{self.collection}/{self.rkey}"


def post_url(handle_or_did: str, uri: str) -> str:
    """The bsky.app address of a post (the web app reads the post from any AppView)."""
    return f"{WEB_URL}/profile/{handle_or_did}/post/{AtUri.parse(uri).rkey}"


def _byte_span(text: str, start: int, end: int) -> Json:
    byte_start = len(text[:start].encode())
    return {"byteStart": byte_start, "byteEnd": byte_start + len(text[start:end].encode())}


def _trim_url(url: str) -> str:
    while url and url[-1] in TRAILING_PUNCTUATION:
        url = url[:-1]
    if url.endswith(")") and url.count("(") < url.count(")"):
        url = url[:-1]
    return url


@dataclass
class _Cursor:
    """Where ``fetch_inbound`` stopped: the newest sort time seen and the hashed URIs
    already returned within ``OVERLAP`` below it. ``None`` time: start from now."""

    newest: datetime | None
    seen: set[str]

    @classmethod
    def load(cls, value: str) -> _Cursor:
        if not value:
            return cls(None, set())
        newest: datetime | None = None
        seen: set[str] = set()
        try:
            data = json.loads(value)
            newest = _parse_time(data["t"])
            seen = {str(item) for item in data.get("s", [])}
        except (ValueError, KeyError, TypeError):
            newest = _parse_time(value)  # a bare timestamp: newer than that
        if newest is None:
            logger.warning("unreadable Bluesky cursor, starting from now")
            return cls(None, set())
        return cls(newest, seen)

    def dump(self) -> str:
        newest = self.newest or EPOCH
        return json.dumps({"t": _iso(newest), "s": sorted(self.seen)}, separators=(",", ":"))


def _uri_hash(uri: str) -> str:
    return hashlib.sha256(uri.encode()).hexdigest()[:16]


class BlueskyConnector(Connector):
    kind = "bluesky"
    label = "Bluesky"
    capabilities = frozenset(
        {
            Capability.VERIFY,
            Capability.PUBLISH,
            Capability.REPLY,
            Capability.MEDIA,
            Capability.FETCH_INBOUND,
            Capability.REFRESH,
            Capability.DELETE,
            Capability.METRICS,
            Capability.PROFILES,
            Capability.HIDE,
            Capability.AUDIENCE,
        }
    )
    idempotent_publish = True
    max_text_length = 300  # graphemes
    # Documented PDS limits: 5,000 points an hour, a created record costs 3.
    posting_cap = PostingCap(posts=1_666, per_seconds=3_600)
    media_rules = MediaRules(
        types={
            "image/jpeg": MAX_IMAGE_BYTES,
            "image/png": MAX_IMAGE_BYTES,
            "image/gif": MAX_IMAGE_BYTES,
        },
        max_items=MAX_IMAGES,
    )
    credential_fields = (
        ("identifier", "Handle or DID", False),
        ("app_password", "App password", True),
    )
    default_base_url = "https://bsky.social"

    def __init__(self, settings: ConnectionSettings, http: HttpClient) -> None:
        super().__init__(settings, http)
        self.base_url = (settings.base_url or self.default_base_url).rstrip("/")
        creds = settings.credentials
        self._access = creds.get("access_jwt", "")
        self._refresh = creds.get("refresh_jwt", "")
        self._did = creds.get("did", "") or settings.platform_account_id
        self._handle = settings.handle
        if not (self._access and self._did):
            self._access = ""

    # ------------------------------------------------------------------ transport

    def _send(
        self,
        method: str,
        nsid: str,
        *,
        token: str = "",
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        content_type: str = "",
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        response = self.http.request(
            method,
            f"{self.base_url}/xrpc/{nsid}",
            headers=headers,
            params=params,
            json=json_body,
            content=content,
        )
        state = rate_limit_from_headers(response.headers)
        if state is not None:
            self.rate_limit = state
        return response

    @staticmethod
    def _body(response: httpx.Response) -> Json:
        if not response.content:
            return {}
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def _decode(self, response: httpx.Response, nsid: str) -> Json:
        if not response.content:
            return {}
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ConnectorError(
                f"Bluesky {nsid}: the answer is not a JSON object",
                permanent=False,
                reason=ErrorReason.BAD_RESPONSE,
                status=response.status_code,
            )
        return body

    def _error(self, response: httpx.Response, nsid: str) -> ConnectorError:
        """The ``ConnectorError`` for a failed XRPC call (XRPC error name first)."""
        body = self._body(response)
        name = _str(body, "error")
        detail = _str(body, "message")[:200]
        status = response.status_code
        what = f"Bluesky {nsid}: {name or status}" + (f" ({detail})" if detail else "")
        if status == 429 or status >= 500:
            generic = error_for_status(response, "Bluesky")
            assert generic is not None
            return ConnectorError(
                what,
                permanent=generic.permanent,
                reason=generic.reason,
                retry_after=generic.retry_after,
                status=status,
            )
        if name in ACCOUNT_GONE_ERRORS:
            return ConnectorError(
                what, permanent=True, reason=ErrorReason.AUTH_REVOKED, status=status
            )
        if name in AUTH_RETRY_ERRORS or status == 401:
            return ConnectorError(
                what, permanent=True, reason=ErrorReason.AUTH_EXPIRED, status=status
            )
        if status == 403:
            return ConnectorError(
                what, permanent=True, reason=ErrorReason.AUTH_REVOKED, status=status
            )
        if name in NOT_FOUND_ERRORS or status == 404:
            return ConnectorError(what, permanent=True, reason=ErrorReason.NOT_FOUND, status=status)
        return ConnectorError(what, permanent=True, reason=ErrorReason.REJECTED, status=status)

    def _xrpc(
        self,
        method: str,
        nsid: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        content_type: str = "",
    ) -> Json:
        """An authenticated XRPC call; renews the session once if the token is refused."""
        self._ensure_session()
        for attempt in (1, 2):
            response = self._send(
                method,
                nsid,
                token=self._access,
                params=params,
                json_body=json_body,
                content=content,
                content_type=content_type,
            )
            if response.status_code < 400:
                return self._decode(response, nsid)
            name = _str(self._body(response), "error")
            if attempt == 1 and (name in AUTH_RETRY_ERRORS or response.status_code == 401):
                # Refused before it was processed: safe to send again, writes included.
                self._renew()
                continue
            raise self._error(response, nsid)
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ session

    def _ensure_session(self) -> None:
        if not self._access:
            self._renew()

    def _renew(self) -> None:
        """New tokens: refresh the session if we can, else sign in with the app password."""
        if self._refresh:
            response = self._send("POST", "com.atproto.server.refreshSession", token=self._refresh)
            if response.status_code < 400:
                self._store_session(self._decode(response, "com.atproto.server.refreshSession"))
                return
            error = self._error(response, "com.atproto.server.refreshSession")
            if not error.breaks_account:
                raise error
            # Refresh token expired or revoked: the app password may still be good.
            logger.info("Bluesky refresh token refused (%s), signing in again", error.message)
            self._refresh = ""
        self._create_session()

    def _create_session(self) -> None:
        identifier = self.settings.credentials.get("identifier", "").strip().removeprefix("@")
        password = self.settings.credentials.get("app_password", "")
        if not identifier or not password:
            raise ConnectorError(
                "Bluesky needs a handle and an app password",
                permanent=True,
                reason=ErrorReason.AUTH_EXPIRED,
            )
        nsid = "com.atproto.server.createSession"
        response = self._send(
            "POST", nsid, json_body={"identifier": identifier, "password": password}
        )
        if response.status_code >= 400:
            error = self._error(response, nsid)
            name = _str(self._body(response), "error")
            if name == "AuthFactorTokenRequired":
                error = ConnectorError(
                    "Bluesky asks for an email code: connect with an app password instead "
                    "of the account password",
                    permanent=True,
                    reason=ErrorReason.AUTH_REVOKED,
                    status=response.status_code,
                )
            elif response.status_code == 401:
                error = ConnectorError(
                    "Bluesky rejected the handle or app password (revoked or mistyped)",
                    permanent=True,
                    reason=ErrorReason.AUTH_REVOKED,
                    status=401,
                )
            raise error
        session = self._decode(response, nsid)
        status = _str(session, "status")
        if session.get("active") is False and status in {"takendown", "suspended", "deactivated"}:
            raise ConnectorError(
                f"the Bluesky account is {status}",
                permanent=True,
                reason=ErrorReason.AUTH_REVOKED,
            )
        self._store_session(session)

    def _store_session(self, session: Json) -> None:
        access, refresh, did = (
            _str(session, "accessJwt"),
            _str(session, "refreshJwt"),
            _str(session, "did"),
        )
        if not (access and refresh and did):
            raise ConnectorError(
                "Bluesky returned a session without tokens",
                permanent=False,
                reason=ErrorReason.BAD_RESPONSE,
            )
        self._access, self._refresh, self._did = access, refresh, did
        self._handle = _str(session, "handle") or self._handle
        self.updated_credentials = {
            **self.settings.credentials,
            "access_jwt": access,
            "refresh_jwt": refresh,
            "did": did,
        }

    @property
    def did(self) -> str:
        self._ensure_session()
        return self._did

    # ------------------------------------------------------------------ account

    def verify(self) -> AccountIdentity:
        # A refresh (or a sign-in) proves the app password has not been revoked: an
        # access token stays valid for a while after its app password is deleted.
        self._renew()
        session = self._xrpc("GET", "com.atproto.server.getSession")
        did = _str(session, "did") or self._did
        handle = _str(session, "handle") or self._handle or did
        if session.get("active") is False:
            raise ConnectorError(
                f"the Bluesky account is {_str(session, 'status') or 'inactive'}",
                permanent=True,
                reason=ErrorReason.AUTH_REVOKED,
            )
        display_name = ""
        try:
            display_name = self.fetch_profile(did).display_name
        except ConnectorError as exc:
            if exc.reason != ErrorReason.NOT_FOUND and exc.reason != ErrorReason.REJECTED:
                raise
            # A brand-new account may not be on the AppView yet.
        return AccountIdentity(
            platform_account_id=did,
            handle=handle,
            display_name=display_name or handle,
            url=f"{WEB_URL}/profile/{handle}",
        )

    def fetch_profile(self, handle_or_id: str) -> Profile:
        actor = handle_or_id.strip().removeprefix("@")
        body = self._xrpc("GET", "app.bsky.actor.getProfile", params={"actor": actor})
        did = _str(body, "did")
        if not did:
            raise ConnectorError(
                "Bluesky getProfile: no DID in the answer",
                permanent=False,
                reason=ErrorReason.BAD_RESPONSE,
            )
        return _profile(body)

    # ------------------------------------------------------------------ audience

    def fetch_followers(self, cursor: str = "", limit: int = 100) -> ProfilePage:
        params: dict[str, Any] = {"actor": self.did, "limit": _audience_limit(limit)}
        if cursor:
            params["cursor"] = cursor
        body = self._xrpc("GET", "app.bsky.graph.getFollowers", params=params)
        profiles = _profiles(_list(body, "followers"))
        return ProfilePage(profiles=profiles, cursor=_next_cursor(body, cursor, profiles))

    def fetch_engagers(self, platform_id: str, cursor: str = "", limit: int = 100) -> ProfilePage:
        """Who liked the post, then who reposted it (``cursor`` says which, and where)."""
        uri = str(AtUri.parse(platform_id))

        def page(phase: str, inner: str) -> ProfilePage:
            params: dict[str, Any] = {"uri": uri, "limit": _audience_limit(limit)}
            if inner:
                params["cursor"] = inner
            if phase == "likes":
                body = self._xrpc("GET", "app.bsky.feed.getLikes", params=params)
                likes = [like for like in _list(body, "likes") if isinstance(like, dict)]
                profiles = _profiles([like.get("actor") for like in likes])
                return ProfilePage(profiles=profiles, cursor=_next_cursor(body, inner, likes))
            body = self._xrpc("GET", "app.bsky.feed.getRepostedBy", params=params)
            profiles = _profiles(_list(body, "repostedBy"))
            return ProfilePage(profiles=profiles, cursor=_next_cursor(body, inner, profiles))

        return self._likes_then_reposts(cursor, page)

    # ------------------------------------------------------------------ publishing

    def publish(self, post: OutboundPost) -> PublishedRef:
        if not is_post_key(post.key):
            raise ConnectorError(
                f"publish key {post.key[:20]!r} is not a TID",
                permanent=True,
                reason=ErrorReason.REJECTED,
            )
        did = self.did
        record: Json = {"$type": POST_COLLECTION, "text": post.text, "createdAt": _iso(_now())}
        facets = self._facets(post.text)
        if facets:
            record["facets"] = facets
        if post.reply_to_id:
            record["reply"] = self._reply_refs(post.reply_to_id)
        if post.media:
            record["embed"] = self._images_embed(post.media)
        nsid = "com.atproto.repo.createRecord"
        body = {"repo": did, "collection": POST_COLLECTION, "rkey": post.key, "record": record}
        try:
            created = self._xrpc("POST", nsid, json_body=body)
        except ConnectorError as exc:
            if exc.outcome_unknown or exc.reason not in {ErrorReason.SERVER, ErrorReason.REJECTED}:
                raise
            # The PDS refuses a record key that is taken (with a 500 today): was this
            # post created by an earlier attempt whose answer we never received?
            try:
                existing = self.find_published(post, EPOCH)
            except ConnectorError:
                raise exc from None
            if existing is None:
                raise
            logger.info("Bluesky post %s already existed: earlier attempt succeeded", post.key)
            return existing
        uri = _str(created, "uri")
        if not uri:
            raise ConnectorError(
                "Bluesky createRecord: no URI in the answer",
                permanent=False,
                reason=ErrorReason.BAD_RESPONSE,
                outcome_unknown=True,
            )
        return PublishedRef(
            platform_id=uri,
            url=post_url(self._handle or did, uri),
            published_at=_parse_time(record["createdAt"]),
        )

    def find_published(self, post: OutboundPost, since: datetime) -> PublishedRef | None:
        if not is_post_key(post.key):
            return None
        did = self.did
        try:
            body = self._xrpc(
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": did, "collection": POST_COLLECTION, "rkey": post.key},
            )
        except ConnectorError as exc:
            if exc.reason == ErrorReason.NOT_FOUND:
                return None
            raise
        uri = _str(body, "uri") or f"at://{did}/{POST_COLLECTION}/{post.key}"
        value = _obj(body, "value")
        return PublishedRef(
            platform_id=uri,
            url=post_url(self._handle or did, uri),
            published_at=_parse_time(value.get("createdAt")),
        )

    def delete(self, platform_id: str) -> None:
        uri = AtUri.parse(platform_id)
        did = self.did
        if uri.did != did:
            raise ConnectorError(
                "Bluesky: only the account's own posts can be deleted",
                permanent=True,
                reason=ErrorReason.REJECTED,
            )
        try:
            self._xrpc(
                "POST",
                "com.atproto.repo.deleteRecord",
                json_body={"repo": did, "collection": uri.collection, "rkey": uri.rkey},
            )
        except ConnectorError as exc:
            if exc.outcome_unknown:  # deleting again is harmless
                exc.outcome_unknown = False
            raise

    def hide_inbound(self, platform_id: str, *, hidden: bool = True) -> None:
        """List (or unlist) a reply in the ``hiddenReplies`` of its thread's threadgate."""
        did = self.did
        root = self._thread_root(platform_id)
        if not root or root == platform_id:
            raise ConnectorError(
                "Bluesky can hide replies only; this post starts its own thread",
                permanent=True,
                reason=ErrorReason.UNSUPPORTED,
            )
        root_uri = AtUri.parse(root)
        if root_uri.did != did or root_uri.collection != POST_COLLECTION:
            raise ConnectorError(
                "Bluesky hides replies only in threads the account started",
                permanent=True,
                reason=ErrorReason.REJECTED,
            )
        where = {"repo": did, "collection": THREADGATE_COLLECTION, "rkey": root_uri.rkey}
        for attempt in range(1, SWAP_ATTEMPTS + 1):
            try:
                current = self._xrpc("GET", "com.atproto.repo.getRecord", params=where)
            except ConnectorError as exc:
                if exc.reason is not ErrorReason.NOT_FOUND:
                    raise
                current = {}
            record = dict(_obj(current, "value")) or {
                "$type": THREADGATE_COLLECTION,
                "post": root,
                "createdAt": _iso(_now()),
            }
            listed = [uri for uri in _list(record, "hiddenReplies") if isinstance(uri, str)]
            if (platform_id in listed) == hidden:
                return  # already as asked
            listed = [*listed, platform_id] if hidden else [u for u in listed if u != platform_id]
            if len(listed) > MAX_HIDDEN_REPLIES:
                raise ConnectorError(
                    f"Bluesky hides at most {MAX_HIDDEN_REPLIES} replies in one thread",
                    permanent=True,
                    reason=ErrorReason.REJECTED,
                )
            record["hiddenReplies"] = listed
            # swapRecord: the CID read above, or null for "must not exist yet".
            body = {**where, "record": record, "swapRecord": _str(current, "cid") or None}
            try:
                self._xrpc("POST", "com.atproto.repo.putRecord", json_body=body)
                return
            except ConnectorError as exc:
                exc.outcome_unknown = False  # writing the same list again is harmless
                if "InvalidSwap" in exc.message and attempt < SWAP_ATTEMPTS:
                    continue  # someone else changed the threadgate meanwhile: read again
                raise
        raise AssertionError("unreachable")

    def _thread_root(self, uri: str) -> str:
        """The root of the thread a post belongs to ("" when the post is not a reply)."""
        view = self._get_posts([uri]).get(uri)
        if view is not None:
            record = _obj(view, "record")
        else:
            # Not on the AppView (not indexed yet, or hidden from us): ask the PDS.
            at = AtUri.parse(uri)
            try:
                found = self._xrpc(
                    "GET",
                    "com.atproto.repo.getRecord",
                    params={"repo": at.did, "collection": at.collection, "rkey": at.rkey},
                )
            except ConnectorError as exc:
                if exc.reason not in {ErrorReason.NOT_FOUND, ErrorReason.REJECTED}:
                    raise
                raise ConnectorError(
                    "Bluesky: the reply no longer exists",
                    permanent=True,
                    reason=ErrorReason.NOT_FOUND,
                ) from None
            record = _obj(found, "value")
        return _str(_obj(_obj(record, "reply"), "root"), "uri")

    def _reply_refs(self, parent_uri: str) -> Json:
        uri = AtUri.parse(parent_uri)
        parent = self._get_posts([parent_uri]).get(parent_uri)
        if parent is None:
            # Not on the AppView (not indexed yet, or hidden from us): ask the PDS.
            try:
                parent = self._xrpc(
                    "GET",
                    "com.atproto.repo.getRecord",
                    params={"repo": uri.did, "collection": uri.collection, "rkey": uri.rkey},
                )
            except ConnectorError as exc:
                if exc.reason not in {ErrorReason.NOT_FOUND, ErrorReason.REJECTED}:
                    raise
                raise ConnectorError(
                    "Bluesky: the post being replied to no longer exists",
                    permanent=True,
                    reason=ErrorReason.NOT_FOUND,
                ) from None
            parent["record"] = _obj(parent, "value")
        parent_ref = {"uri": parent_uri, "cid": _str(parent, "cid")}
        root = _obj(_obj(_obj(parent, "record"), "reply"), "root")
        root_ref = (
            {"uri": _str(root, "uri"), "cid": _str(root, "cid")}
            if _str(root, "uri") and _str(root, "cid")
            else parent_ref
        )
        return {"root": root_ref, "parent": parent_ref}

    def _images_embed(self, media: Sequence[OutboundMedia]) -> Json:
        if len(media) > MAX_IMAGES:
            raise ConnectorError(
                f"Bluesky takes at most {MAX_IMAGES} images a post",
                permanent=True,
                reason=ErrorReason.REJECTED,
            )
        images = []
        for item in media:
            if not item.mime_type.startswith("image/"):
                raise ConnectorError(
                    f"Bluesky posts can carry images only, not {item.mime_type}",
                    permanent=True,
                    reason=ErrorReason.UNSUPPORTED,
                )
            if len(item.data) > MAX_IMAGE_BYTES:
                raise ConnectorError(
                    f"image too large for Bluesky ({len(item.data)} bytes, "
                    f"at most {MAX_IMAGE_BYTES})",
                    permanent=True,
                    reason=ErrorReason.REJECTED,
                )
            try:
                uploaded = self._xrpc(
                    "POST",
                    "com.atproto.repo.uploadBlob",
                    content=item.data,
                    content_type=item.mime_type,
                )
            except ConnectorError as exc:
                # An orphan blob is harmless: no post exists yet.
                exc.outcome_unknown = False
                raise
            blob = _obj(uploaded, "blob")
            if not blob:
                raise ConnectorError(
                    "Bluesky uploadBlob: no blob in the answer",
                    permanent=False,
                    reason=ErrorReason.BAD_RESPONSE,
                )
            images.append({"image": blob, "alt": item.alt_text})
        return {"$type": "app.bsky.embed.images", "images": images}

    def _facets(self, text: str) -> list[Json]:
        """Mention, link and hashtag facets, so the AppView notifies and links."""
        facets: list[Json] = []
        taken: list[tuple[int, int]] = []

        def add(start: int, end: int, feature: Json) -> None:
            if any(start < other_end and other_start < end for other_start, other_end in taken):
                return
            taken.append((start, end))
            facets.append({"index": _byte_span(text, start, end), "features": [feature]})

        for match in URL_RE.finditer(text):
            url = _trim_url(match.group(1))
            if len(url) > len("https://"):
                start = match.start(1)
                add(start, start + len(url), {"$type": "app.bsky.richtext.facet#link", "uri": url})
        resolved: dict[str, str] = {}
        for match in MENTION_RE.finditer(text):
            handle = match.group(1).lower()
            if handle not in resolved:
                resolved[handle] = self._resolve_handle(handle)
            if resolved[handle]:
                add(
                    match.start(),
                    match.end(),
                    {"$type": "app.bsky.richtext.facet#mention", "did": resolved[handle]},
                )
        for match in TAG_RE.finditer(text):
            tag = match.group(1).rstrip(TRAILING_PUNCTUATION)
            if tag and not tag.isdigit() and len(tag) <= 64:
                add(
                    match.start(),
                    match.start(1) + len(tag),
                    {"$type": "app.bsky.richtext.facet#tag", "tag": tag},
                )
        facets.sort(key=lambda facet: int(facet["index"]["byteStart"]))
        return facets

    def _resolve_handle(self, handle: str) -> str:
        """The DID of ``handle``, or "" when it does not resolve (no mention then)."""
        try:
            body = self._xrpc(
                "GET", "com.atproto.identity.resolveHandle", params={"handle": handle}
            )
        except ConnectorError as exc:
            if exc.permanent and not exc.breaks_account:
                return ""
            raise
        return _str(body, "did")

    # ------------------------------------------------------------------ reading posts

    def _get_posts(self, uris: Sequence[str]) -> dict[str, Json]:
        """Post views by URI from the AppView; absent (deleted, hidden) posts are left out."""
        found: dict[str, Json] = {}
        for batch in _chunks(list(dict.fromkeys(uris)), GET_POSTS_BATCH):
            body = self._xrpc("GET", "app.bsky.feed.getPosts", params={"uris": list(batch)})
            for view in _list(body, "posts"):
                if isinstance(view, dict) and _str(view, "uri"):
                    found[_str(view, "uri")] = view
        return found

    def fetch_metrics(self, platform_ids: Sequence[str]) -> list[PostMetrics]:
        views = self._get_posts(platform_ids)
        return [
            PostMetrics(
                platform_id=uri,
                likes=_int(view, "likeCount"),
                reposts=_int(view, "repostCount"),
                replies=_int(view, "replyCount"),
                quotes=_int(view, "quoteCount"),
            )
            for uri in platform_ids
            if (view := views.get(uri)) is not None
        ]

    def refresh_items(self, platform_ids: Sequence[str]) -> dict[str, InboundItem | None]:
        views = self._get_posts(platform_ids)
        result: dict[str, InboundItem | None] = {}
        for uri in platform_ids:
            view = views.get(uri)
            if view is None:
                result[uri] = None
                continue
            record = _obj(view, "record")
            embed_type = _str(_obj(record, "embed"), "$type")
            if _obj(record, "reply"):
                kind = InboundKind.REPLY
            elif embed_type.startswith("app.bsky.embed.record"):
                kind = InboundKind.QUOTE
            else:
                kind = InboundKind.MENTION
            result[uri] = self._item(
                uri=uri,
                kind=kind,
                author=_obj(view, "author"),
                record=record,
                sort_time=_parse_time(view.get("indexedAt")),
                media=_media_from_view(_obj(view, "embed")),
                raw=_raw(view),
            )
        return result

    def _item(
        self,
        *,
        uri: str,
        kind: InboundKind,
        author: Json,
        record: Json,
        sort_time: datetime | None,
        media: tuple[MediaItem, ...],
        raw: bytes,
    ) -> InboundItem:
        reply = _obj(record, "reply")
        parent = _str(_obj(reply, "parent"), "uri")
        root = _str(_obj(reply, "root"), "uri") or parent
        author_did = _str(author, "did") or AtUri.parse(uri).did
        handle = _str(author, "handle")
        return InboundItem(
            platform_id=uri,
            kind=kind,
            author_id=author_did,
            author_handle=handle,
            author_display_name=_str(author, "displayName"),
            text=_str(record, "text"),
            created_at=_parse_time(record.get("createdAt")) or sort_time or _now(),
            raw=raw,
            url=post_url(handle if handle and handle != "handle.invalid" else author_did, uri),
            media=media,
            reply_to_id=parent,
            thread_root_id=root or uri,
        )

    # ------------------------------------------------------------------ inbound

    def fetch_inbound(self, cursor: str, limit: int = 100) -> InboundPage:
        state = _Cursor.load(cursor)
        notifications = self._recent_notifications(state.newest)
        if state.newest is None:
            # Start from now: everything already there counts as seen.
            newest = max((when for when, _ in notifications), default=EPOCH)
            seen = {
                _uri_hash(_str(n, "uri"))
                for when, n in notifications
                if _str(n, "reason") in INBOUND_REASONS and when >= newest - OVERLAP
            }
            return InboundPage(items=[], cursor=_Cursor(newest, seen).dump(), more=False)

        # One candidate per post: a reply that also mentions the force is one message.
        candidates: dict[str, tuple[datetime, InboundKind, Json]] = {}
        for when, notification in notifications:
            kind = INBOUND_REASONS.get(_str(notification, "reason"))
            uri = _str(notification, "uri")
            if kind is None or not uri or _uri_hash(uri) in state.seen:
                continue
            current = candidates.get(uri)
            if current is None or KIND_PRECEDENCE.index(kind) < KIND_PRECEDENCE.index(current[1]):
                candidates[uri] = (when, kind, notification)
        ordered = sorted(candidates.items(), key=lambda entry: (entry[1][0], entry[0]))
        chosen = ordered[: max(limit, 1)]
        more = len(ordered) > len(chosen)

        views = self._media_views([notification for _, (_, _, notification) in chosen])
        items = [
            self._item(
                uri=uri,
                kind=kind,
                author=_obj(notification, "author"),
                record=_obj(notification, "record"),
                sort_time=when,
                media=_media_from_view(_obj(views.get(uri), "embed")),
                raw=_raw(notification),
            )
            for uri, (when, kind, notification) in chosen
        ]

        newest = state.newest
        if chosen:
            newest = max(newest, chosen[-1][1][0])
        if not more and notifications:
            # Everything wanted up to the newest notification has been returned.
            newest = max(newest, max(when for when, _ in notifications))
        returned = {_uri_hash(uri) for uri, _ in chosen}
        seen = {
            _uri_hash(_str(n, "uri"))
            for when, n in notifications
            if when >= newest - OVERLAP
            and (_uri_hash(_str(n, "uri")) in state.seen or _uri_hash(_str(n, "uri")) in returned)
        }
        return InboundPage(items=items, cursor=_Cursor(newest, seen).dump(), more=more)

    def _recent_notifications(self, newest: datetime | None) -> list[tuple[datetime, Json]]:
        """Notifications (newest first) down to ``OVERLAP`` below ``newest``.

        With no ``newest`` (start from now) the window ends ``OVERLAP`` below the
        newest notification there is.
        """
        floor = newest - OVERLAP if newest else None
        found: list[tuple[datetime, Json]] = []
        page_cursor = ""
        for _ in range(MAX_NOTIFICATION_PAGES):
            params: dict[str, Any] = {"limit": NOTIFICATION_PAGE}
            if page_cursor:
                params["cursor"] = page_cursor
            body = self._xrpc("GET", "app.bsky.notification.listNotifications", params=params)
            reached_floor = False
            for notification in _list(body, "notifications"):
                if not isinstance(notification, dict):
                    continue
                when = _parse_time(notification.get("indexedAt"))
                if when is None:
                    continue
                if floor is None:
                    floor = when - OVERLAP
                if when < floor:
                    reached_floor = True
                    break
                found.append((when, notification))
            page_cursor = _str(body, "cursor")
            if reached_floor or not page_cursor:
                return found
            cursor_time = _parse_time(page_cursor)
            if floor is not None and cursor_time is not None and cursor_time < floor:
                return found
        logger.warning(
            "Bluesky notifications: stopped after %d pages; older ones skipped",
            MAX_NOTIFICATION_PAGES,
        )
        return found

    def _media_views(self, notifications: Sequence[Json]) -> dict[str, Json]:
        """Post views (for image URLs) of the notifications whose records carry media."""
        uris = [
            _str(n, "uri")
            for n in notifications
            if _str(_obj(_obj(n, "record"), "embed"), "$type")
            in {
                "app.bsky.embed.images",
                "app.bsky.embed.video",
                "app.bsky.embed.recordWithMedia",
            }
        ]
        return self._get_posts(uris) if uris else {}


def _profile(view: Json) -> Profile:
    """A ``Profile`` from an actor view (``profileView`` or ``profileViewDetailed``).

    Bluesky has no location field: ``location`` stays empty. ``followersCount`` is in
    the detailed view only (``getProfile``)."""
    followers = view.get("followersCount")
    return Profile(
        platform_id=_str(view, "did"),
        handle=_str(view, "handle"),
        display_name=_str(view, "displayName"),
        description=_str(view, "description"),
        followers=followers if isinstance(followers, int) else None,
    )


def _profiles(views: Sequence[Any]) -> list[Profile]:
    return [_profile(view) for view in views if isinstance(view, dict) and _str(view, "did")]


def _audience_limit(limit: int) -> int:
    return max(1, min(limit, AUDIENCE_PAGE_MAX))


def _next_cursor(body: Json, given: str, page: Sequence[object]) -> str:
    """The AppView's cursor for the next page, or "" at the end (an empty page, or a
    cursor that does not move, ends the list: an AppView may send one regardless)."""
    following = _str(body, "cursor")
    return following if page and following and following != given else ""


def _media_from_view(embed: Json) -> tuple[MediaItem, ...]:
    """Media references from a post view's ``embed`` (URLs served by the AppView's CDN)."""
    kind = _str(embed, "$type")
    if kind == "app.bsky.embed.images#view":
        return tuple(
            MediaItem(url=_str(image, "fullsize"), kind="image", alt_text=_str(image, "alt"))
            for image in _list(embed, "images")
            if isinstance(image, dict) and _str(image, "fullsize")
        )
    if kind == "app.bsky.embed.video#view" and _str(embed, "playlist"):
        return (MediaItem(url=_str(embed, "playlist"), kind="video", alt_text=_str(embed, "alt")),)
    if kind == "app.bsky.embed.recordWithMedia#view":
        return _media_from_view(_obj(embed, "media"))
    return ()
