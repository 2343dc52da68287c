"""X (formerly Twitter) connector: plain HTTP against the X API v2.

References (docs.x.com, read November 2026):

* OAuth 2.0 Authorization Code Flow with PKCE:
  https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token
  (authorize at ``https://x.com/i/oauth2/authorize``, token at ``POST /2/oauth2/token``
  with HTTP basic auth of client id and secret for confidential clients; access tokens
  live two hours, ``offline.access`` adds a refresh token, which is single use).
* Posts: ``POST /2/tweets``, ``DELETE /2/tweets/:id``, ``GET /2/tweets?ids=``,
  ``GET /2/users/:id/tweets``, ``GET /2/users/:id/mentions``.
* Users: ``GET /2/users/me``, ``GET /2/users/:id``, ``GET /2/users/by/username/:username``.
* Media: ``POST /2/media/upload`` (multipart ``media`` + ``media_category``) and
  ``POST /2/media/metadata`` (alt text).
* Audience: ``GET /2/users/:id/followers`` (scope ``follows.read``),
  ``GET /2/tweets/:id/liking_users`` (``like.read``; since likes became private, only
  for the account's own posts, and at most 100 likers a post) and
  ``GET /2/tweets/:id/retweeted_by``, paged with ``pagination_token`` =
  ``meta.next_token``: https://docs.x.com/x-api/users/follows/introduction,
  https://docs.x.com/x-api/posts/likes/introduction and
  https://docs.x.com/x-api/posts/retweets/introduction. A 403 there (a token from
  before Beatdesk asked for these scopes, or an API access level without the endpoint)
  refuses the request only: it does not break the account.
* Hide replies: ``PUT /2/tweets/:id/hidden`` with ``{"hidden": true}`` (scope
  ``tweet.moderate.write``; only replies in conversations the account started;
  hiding a hidden reply succeeds): https://docs.x.com/x-api/posts/hide-replies.
* Errors are RFC 7807-style problems (``title``, ``detail``, ``type``, ``status``);
  rate limits come as ``x-rate-limit-limit/-remaining/-reset`` (reset in epoch seconds,
  no ``Retry-After``): https://docs.x.com/x-api/fundamentals/rate-limits

Publishing is **not** idempotent: X has no idempotency key. After a create whose
outcome is unknown the caller must call ``find_published`` before any retry. A blind
retry is doubly wrong on X: it either duplicates the post or, when X's duplicate
detection catches it, answers 403 "duplicate content", which would mark a post that
*was* published as refused.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from beatdesk.channels.contract import (
    AccountIdentity,
    Capability,
    ConnectionSettings,
    ConnectorError,
    ErrorReason,
    InboundItem,
    InboundKind,
    InboundPage,
    MediaItem,
    MediaRules,
    OAuthApp,
    OAuthConnector,
    OAuthStart,
    OutboundMedia,
    OutboundPost,
    PostingCap,
    PostMetrics,
    Profile,
    ProfilePage,
    PublishedRef,
)
from beatdesk.core.http import HttpClient, error_for_status, rate_limit_from_headers, retry_after

API_BASE_URL = "https://api.x.com"
AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
WEB_URL = "https://x.com"

SCOPES = (
    "tweet.read",
    "tweet.write",
    "users.read",
    "offline.access",
    "dm.read",
    "tweet.moderate.write",
    "follows.read",
    "like.read",
)

TWEET_FIELDS = (
    "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,"
    "attachments,edit_history_tweet_ids,entities,note_tweet,geo"
)
USER_FIELDS = "username,name,location"
MEDIA_FIELDS = "url,preview_image_url,type,alt_text"
EXPANSIONS = "author_id,attachments.media_keys"
#: Fields of the people in follower and engager lists.
AUDIENCE_USER_FIELDS = "location,description"
#: ``max_results`` of the lists: followers take up to 1,000, liking_users and
#: retweeted_by up to 100.
FOLLOWERS_PAGE_MAX = 1000
ENGAGERS_PAGE_MAX = 100
#: ``fetch_engagers`` reads who liked a post, then who reposted it; its cursor is
#: ``<phase>:<pagination token>``.
ENGAGER_PATHS = {"likes": "liking_users", "reposts": "retweeted_by"}

#: Refresh the access token this long before X says it expires.
REFRESH_MARGIN = timedelta(seconds=60)
#: Look this far before ``since`` when reconciling (clock skew between us and X).
FIND_SKEW = timedelta(minutes=2)
#: X returns at most the 800 most recent mentions (8 pages of 100).
MAX_MENTION_PAGES = 8
MAX_TIMELINE_PAGES = 10
LOOKUP_BATCH = 100

IMAGE_CATEGORIES = {
    "image/jpeg": "tweet_image",
    "image/png": "tweet_image",
    "image/webp": "tweet_image",
    "image/gif": "tweet_gif",
}

TCO_URL = re.compile(r"https?://t\.co/[A-Za-z0-9]+")
LEADING_MENTIONS = r"(?:@\w{1,15}\s+)*"


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _basic_auth(client_id: str, client_secret: str) -> str:
    raw = f"{client_id}:{client_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _x_time(value: datetime) -> str:
    """X's ``start_time`` format: ``YYYY-MM-DDTHH:mm:ssZ``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _str(mapping: Mapping[str, Any], key: str) -> str:
    value = mapping.get(key)
    return value if isinstance(value, str) else ""


def _int(mapping: Mapping[str, Any], key: str) -> int:
    value = mapping.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _full_text(tweet: Mapping[str, Any]) -> str:
    """The post's whole text: ``note_tweet.text`` for long posts, else ``text``."""
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str):
        return str(note["text"])
    return _str(tweet, "text")


def _expanded_text(tweet: Mapping[str, Any]) -> str:
    """Human text: HTML entities undone (X escapes & < >) and t.co links expanded."""
    text = _full_text(tweet)
    entities = tweet.get("entities")
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("entities"), dict):
        entities = note["entities"]
    if isinstance(entities, dict):
        for url in _dicts(entities.get("urls")):
            short, expanded = _str(url, "url"), _str(url, "expanded_url")
            if short and expanded:
                text = text.replace(short, expanded)
    return html.unescape(text)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text).replace("\r\n", "\n").strip()


def _looks_like_link(value: str) -> bool:
    return value.startswith(("http://", "https://")) or (
        "." in value.strip(".") and not value.endswith(".")
    )


def text_matches(ours: str, theirs: str) -> bool:
    """Whether a post text returned by X is the text we posted.

    X rewrites a post on the way in: every link (``https://...`` and bare domains it
    auto-links such as ``police.uk/appeal``) becomes a ``https://t.co/...`` link,
    ``&``, ``<`` and ``>`` come back as HTML entities, and a reply's text gains the
    ``@handles`` of the conversation in front. So the comparison undoes the entities,
    turns each t.co link in X's text into a wildcard that must cover one link-looking
    word of ours, allows leading @mentions that we did not write, and treats runs of
    whitespace alike. Anything else must be identical. Two posts differing only in a
    link's target would match; reconciliation also requires the post to be ours and
    newer than the attempt, which makes that harmless in practice.
    """
    ours_n = _normalise(ours)
    theirs_n = _normalise(html.unescape(theirs))
    candidates = [theirs_n]
    if not ours_n.startswith("@"):
        stripped = re.sub("^" + LEADING_MENTIONS, "", theirs_n)
        if stripped != theirs_n:
            candidates.append(stripped)
    for candidate in candidates:
        if candidate == ours_n:
            return True
        found = _wildcard(candidate).fullmatch(ours_n)
        if found and all(_looks_like_link(group) for group in found.groups()):
            return True
    return False


def _wildcard(text: str) -> re.Pattern[str]:
    """X's text as a pattern: each t.co link becomes a group standing for one word."""
    parts: list[str] = []
    position = 0
    for match in TCO_URL.finditer(text):
        parts.append(_literal(text[position : match.start()]))
        parts.append(r"(\S+)")
        position = match.end()
    parts.append(_literal(text[position:]))
    return re.compile("".join(parts), re.DOTALL)


def _literal(segment: str) -> str:
    """A regex for a literal text segment in which any whitespace run matches any other."""
    pieces = re.split(r"\s+", segment)
    return r"\s+".join(re.escape(piece) for piece in pieces)


def x_error(response: httpx.Response) -> ConnectorError | None:
    """The ``ConnectorError`` for an X API answer, or None for success.

    X answers problems as ``{"title", "detail", "type", "status"}`` (v2) or, on some
    paths, ``{"errors": [{"message", "code"}]}``. The detail is included in the message:
    X never echoes credentials in it.
    """
    status = response.status_code
    if status < 400:
        return None
    detail = _problem_text(response)
    lowered = detail.lower()
    suffix = f": {detail}" if detail else ""
    if status == 401:
        return ConnectorError(
            f"X rejected the access token (401){suffix}",
            permanent=True,
            reason=ErrorReason.AUTH_EXPIRED,
            status=status,
        )
    if status == 403:
        if "duplicate" in lowered:
            return ConnectorError(
                f"X refused a duplicate post (403){suffix}",
                permanent=True,
                reason=ErrorReason.REJECTED,
                status=status,
            )
        if "reply to this conversation is not allowed" in lowered or (
            "not allowed" in lowered and "reply" in lowered
        ):
            return ConnectorError(
                f"X does not allow this reply (403){suffix}",
                permanent=True,
                reason=ErrorReason.REJECTED,
                status=status,
            )
        # "You are not permitted to perform this action", suspended accounts, revoked
        # app access, client-forbidden: the account cannot act until someone looks.
        return ConnectorError(
            f"X refused permission (403){suffix}",
            permanent=True,
            reason=ErrorReason.AUTH_REVOKED,
            status=status,
        )
    if status == 429:
        headers = response.headers
        for scope in ("user", "app"):
            if headers.get(f"x-{scope}-limit-24hour-remaining") == "0":
                reset = headers.get(f"x-{scope}-limit-24hour-reset", "")
                when = _epoch(reset) or retry_after(response)
                return ConnectorError(
                    f"X {scope} 24-hour posting limit reached (429)",
                    permanent=False,
                    reason=ErrorReason.POSTING_CAP,
                    retry_after=when,
                    status=status,
                )
        return ConnectorError(
            f"X rate limit reached (429){suffix}",
            permanent=False,
            reason=ErrorReason.RATE_LIMITED,
            retry_after=retry_after(response),
            status=status,
        )
    if status >= 500:
        return error_for_status(response, "X")
    if status == 404:
        return ConnectorError(
            f"X: not found (404){suffix}",
            permanent=True,
            reason=ErrorReason.NOT_FOUND,
            status=status,
        )
    return ConnectorError(
        f"X refused the request ({status}){suffix}",
        permanent=True,
        reason=ErrorReason.REJECTED,
        status=status,
    )


def _epoch(value: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _problem_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [_str(body, "detail") or _str(body, "title")]
    for error in _dicts(body.get("errors")):
        parts.append(_str(error, "detail") or _str(error, "message"))
    # OAuth token endpoint errors
    parts.append(_str(body, "error_description") or _str(body, "error"))
    return "; ".join(part for part in parts if part)[:300]


class XConnector(OAuthConnector):
    kind = "x"
    label = "X"
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
    idempotent_publish = False
    max_text_length = 280
    #: ``POST /2/tweets``: 100 requests per 15 minutes per user (docs.x.com/x-api/
    #: fundamentals/rate-limits, "Create Post", November 2026). X's account rules add
    #: 2,400 posts a day in semi-hourly slices (help.x.com/en/rules-and-policies/
    #: x-limits); the API figure is the one the API enforces with a 429.
    posting_cap = PostingCap(posts=100, per_seconds=15 * 60)
    #: Up to four images a post: 5 MB each, 15 MB for a GIF (docs.x.com media best
    #: practices). Videos are not uploaded by this connector.
    media_rules = MediaRules(
        types={
            "image/jpeg": 5 * 1024 * 1024,
            "image/png": 5 * 1024 * 1024,
            "image/gif": 15 * 1024 * 1024,
        },
        max_items=4,
    )
    default_base_url = API_BASE_URL
    oauth_scopes = SCOPES

    def __init__(self, settings: ConnectionSettings, http: HttpClient) -> None:
        super().__init__(settings, http)
        self._credentials: dict[str, str] = dict(settings.credentials)
        self._user_id = settings.platform_account_id
        self._handle = settings.handle

    # -- OAuth ------------------------------------------------------------------------

    @classmethod
    def start_oauth(cls, app: OAuthApp) -> OAuthStart:
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9_-]
        query = urlencode(
            {
                "response_type": "code",
                "client_id": app.client_id,
                "redirect_uri": app.redirect_uri,
                "scope": " ".join(cls.oauth_scopes),
                "state": state,
                "code_challenge": pkce_challenge(verifier),
                "code_challenge_method": "S256",
            },
            quote_via=quote,
        )
        return OAuthStart(
            authorize_url=f"{AUTHORIZE_URL}?{query}", state=state, code_verifier=verifier
        )

    @classmethod
    def finish_oauth(
        cls,
        app: OAuthApp,
        *,
        code: str,
        code_verifier: str,
        http: HttpClient,
        base_url: str | None = None,
    ) -> dict[str, str]:
        """Exchange the authorization code; ``base_url`` overrides the API host (tests)."""
        if not code_verifier:
            raise ConnectorError(
                "X requires the PKCE code verifier kept from start_oauth",
                permanent=True,
                reason=ErrorReason.REJECTED,
            )
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": app.client_id,
            "redirect_uri": app.redirect_uri,
            "code_verifier": code_verifier,
        }
        body = _token_request(
            http,
            (base_url or cls.default_base_url).rstrip("/"),
            form,
            app.client_id,
            app.client_secret,
            secret_values=(code, code_verifier, app.client_secret),
        )
        credentials = _credentials_from_token(body)
        credentials["client_id"] = app.client_id
        if app.client_secret:
            credentials["client_secret"] = app.client_secret
        return credentials

    def refresh_credentials(self) -> dict[str, str]:
        refresh_token = self._credentials.get("refresh_token", "")
        client_id = self._credentials.get("client_id", "")
        if not refresh_token or not client_id:
            raise ConnectorError(
                "X access token expired and no refresh token is stored: reconnect the account",
                permanent=True,
                reason=ErrorReason.AUTH_EXPIRED,
            )
        client_secret = self._credentials.get("client_secret", "")
        body = _token_request(
            self.http,
            self._base,
            {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id},
            client_id,
            client_secret,
            secret_values=self._secret_values(),
        )
        fresh = _credentials_from_token(body)
        merged = dict(self._credentials)
        merged.update(fresh)
        if "refresh_token" not in fresh:
            merged.pop("refresh_token", None)
        self._credentials = merged
        self.updated_credentials = dict(merged)
        return dict(merged)

    # -- plumbing ---------------------------------------------------------------------

    @property
    def _base(self) -> str:
        return (self.settings.base_url or self.default_base_url).rstrip("/")

    def _secret_values(self) -> tuple[str, ...]:
        keys = ("access_token", "refresh_token", "client_secret")
        return tuple(self._credentials.get(key, "") for key in keys)

    def _ensure_fresh_token(self) -> None:
        expires_at = _parse_time(self._credentials.get("expires_at", ""))
        if expires_at is not None and datetime.now(UTC) >= expires_at - REFRESH_MARGIN:
            self.refresh_credentials()

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        allow_errors_body: bool = False,
    ) -> dict[str, Any]:
        self._ensure_fresh_token()
        token = self._credentials.get("access_token", "")
        if not token:
            raise ConnectorError(
                "no X access token stored: connect the account",
                permanent=True,
                reason=ErrorReason.AUTH_EXPIRED,
            )
        response = self.http.request(
            method,
            self._base + path,
            headers={"Authorization": f"Bearer {token}"},
            params=params,
            json=json_body,
            data=data,
            files=files,
        )
        state = rate_limit_from_headers(response.headers)
        if state is not None:
            self.rate_limit = state
        error = x_error(response)
        if error is not None:
            raise _scrubbed(error, self._secret_values())
        try:
            body = response.json()
        except ValueError:
            raise ConnectorError(
                f"X answered {method} {path} with something that is not JSON",
                permanent=False,
                reason=ErrorReason.BAD_RESPONSE,
                status=response.status_code,
            ) from None
        if not isinstance(body, dict):
            raise ConnectorError(
                f"X answered {method} {path} with an unexpected shape",
                permanent=False,
                reason=ErrorReason.BAD_RESPONSE,
                status=response.status_code,
            )
        if not allow_errors_body and "data" not in body and body.get("errors"):
            # v2 answers 200 with only "errors" when the one thing asked for is missing.
            problem = "; ".join(
                _str(error, "detail") or _str(error, "title") for error in _dicts(body["errors"])
            )
            not_found = any("not-found" in _str(error, "type") for error in _dicts(body["errors"]))
            raise ConnectorError(
                f"X: {problem[:300]}",
                permanent=True,
                reason=ErrorReason.NOT_FOUND if not_found else ErrorReason.REJECTED,
                status=response.status_code,
            )
        return body

    def _user(self) -> str:
        if not self._user_id:
            self.verify()
        return self._user_id

    def _post_url(self, tweet_id: str, handle: str = "") -> str:
        handle = handle or self._handle
        if handle:
            return f"{WEB_URL}/{handle}/status/{tweet_id}"
        return f"{WEB_URL}/i/web/status/{tweet_id}"

    # -- account ----------------------------------------------------------------------

    def verify(self) -> AccountIdentity:
        body = self._request("GET", "/2/users/me", params={"user.fields": "username,name"})
        user = body.get("data")
        if not isinstance(user, dict) or not _str(user, "id"):
            raise ConnectorError(
                "X /2/users/me answered without a user",
                permanent=False,
                reason=ErrorReason.BAD_RESPONSE,
            )
        self._user_id = _str(user, "id")
        self._handle = _str(user, "username")
        return AccountIdentity(
            platform_account_id=self._user_id,
            handle=self._handle,
            display_name=_str(user, "name"),
            url=f"{WEB_URL}/{self._handle}",
            token_expires_at=_parse_time(self._credentials.get("expires_at", "")),
        )

    # -- publishing -------------------------------------------------------------------

    def publish(self, post: OutboundPost) -> PublishedRef:
        payload: dict[str, Any] = {"text": post.text}
        if post.reply_to_id:
            payload["reply"] = {"in_reply_to_tweet_id": post.reply_to_id}
        if post.media:
            payload["media"] = {"media_ids": [self._upload(media) for media in post.media]}
        body = self._request("POST", "/2/tweets", json_body=payload)
        data = body.get("data")
        tweet_id = _str(data, "id") if isinstance(data, dict) else ""
        if not tweet_id:
            # The post may well exist: the caller must reconcile, not retry.
            raise ConnectorError(
                "X accepted the post but answered without its id",
                permanent=False,
                reason=ErrorReason.BAD_RESPONSE,
                outcome_unknown=True,
            )
        return PublishedRef(platform_id=tweet_id, url=self._post_url(tweet_id))

    def _upload(self, media: OutboundMedia) -> str:
        """Upload one image; returns its media id. Nothing is posted yet, so a lost
        connection here leaves no post behind (``outcome_unknown`` is cleared)."""
        category = IMAGE_CATEGORIES.get(media.mime_type.lower())
        if category is None:
            raise ConnectorError(
                f"X connector uploads images only, not {media.mime_type}",
                permanent=True,
                reason=ErrorReason.UNSUPPORTED,
            )
        try:
            body = self._request(
                "POST",
                "/2/media/upload",
                data={"media_category": category, "media_type": media.mime_type},
                files={"media": ("upload", media.data, media.mime_type)},
            )
            data = body.get("data")
            media_id = _str(data, "id") if isinstance(data, dict) else ""
            if not media_id:
                raise ConnectorError(
                    "X media upload answered without a media id",
                    permanent=False,
                    reason=ErrorReason.BAD_RESPONSE,
                )
            if media.alt_text:
                self._request(
                    "POST",
                    "/2/media/metadata",
                    json_body={
                        "id": media_id,
                        "metadata": {"alt_text": {"text": media.alt_text[:1000]}},
                    },
                )
        except ConnectorError as exc:
            if exc.outcome_unknown:
                exc.outcome_unknown = False
                exc.message = f"{exc.message} (media upload; no post was created)"
                exc.args = (exc.message,)
            raise
        return media_id

    def find_published(self, post: OutboundPost, since: datetime) -> PublishedRef | None:
        """Our post with ``post.text`` created at or after ``since`` (oldest match).

        Reads ``GET /2/users/:id/tweets`` from ``since`` (less two minutes of clock
        skew), replies included, and compares texts with ``text_matches`` because X
        rewrites links to t.co and escapes HTML. A reply must also answer
        ``post.reply_to_id``.
        """
        user_id = self._user()
        params: dict[str, Any] = {
            "start_time": _x_time(since - FIND_SKEW),
            "max_results": 100,
            "tweet.fields": "created_at,text,note_tweet,referenced_tweets",
        }
        matches: list[tuple[datetime, str]] = []
        for tweets, _includes in self._pages(
            f"/2/users/{user_id}/tweets", params, MAX_TIMELINE_PAGES
        ):
            for tweet in tweets:
                if post.reply_to_id and _replied_to(tweet) != post.reply_to_id:
                    continue
                if not text_matches(post.text, _full_text(tweet)):
                    continue
                created = _parse_time(tweet.get("created_at"))
                if created is None or created < since - FIND_SKEW:
                    continue
                matches.append((created, _str(tweet, "id")))
        if not matches:
            return None
        created, tweet_id = min(matches)
        return PublishedRef(
            platform_id=tweet_id, url=self._post_url(tweet_id), published_at=created
        )

    def delete(self, platform_id: str) -> None:
        body = self._request("DELETE", f"/2/tweets/{quote(platform_id, safe='')}")
        data = body.get("data")
        if not (isinstance(data, dict) and data.get("deleted") is True):
            raise ConnectorError(
                f"X did not delete post {platform_id}",
                permanent=True,
                reason=ErrorReason.REJECTED,
            )

    def hide_inbound(self, platform_id: str, *, hidden: bool = True) -> None:
        """Hide (or show again) a reply in a conversation the account started.

        X answers 403 for a post outside the account's conversations and for a token
        without ``tweet.moderate.write`` (accounts connected before Beatdesk asked for
        it). Neither means the account is broken, so that 403 refuses this request
        only (``REJECTED``), with what to do about it.
        """
        if not platform_id.isdigit():
            raise ConnectorError(
                f"not an X post id: {platform_id[:40]!r}",
                permanent=True,
                reason=ErrorReason.NOT_FOUND,
            )
        verb = "hide" if hidden else "show"
        try:
            body = self._request(
                "PUT", f"/2/tweets/{platform_id}/hidden", json_body={"hidden": hidden}
            )
        except ConnectorError as exc:
            if exc.status != 403:
                raise
            raise ConnectorError(
                f"X refused to {verb} this reply ({exc.message}). X hides only replies to "
                "conversations the account started, and only with the permission to "
                "moderate replies: reconnect the account if it was connected before that "
                "permission was asked for",
                permanent=True,
                reason=ErrorReason.REJECTED,
                status=403,
            ) from None
        data = body.get("data")
        if not (isinstance(data, dict) and data.get("hidden") is hidden):
            raise ConnectorError(
                f"X did not confirm that the reply is {'hidden' if hidden else 'shown'}",
                permanent=False,
                reason=ErrorReason.BAD_RESPONSE,
            )

    # -- inbound ----------------------------------------------------------------------

    def _pages(
        self, path: str, params: Mapping[str, Any], max_pages: int
    ) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
        """Pages of a v2 timeline (``meta.next_token`` -> ``pagination_token``)."""
        query = dict(params)
        for _ in range(max_pages):
            body = self._request("GET", path, params=query, allow_errors_body=True)
            includes = body.get("includes")
            yield _dicts(body.get("data")), includes if isinstance(includes, dict) else {}
            meta = body.get("meta")
            token = _str(meta, "next_token") if isinstance(meta, dict) else ""
            if not token:
                return
            query["pagination_token"] = token

    def fetch_inbound(self, cursor: str, limit: int = 100) -> InboundPage:
        """Mentions of the account newer than ``cursor`` (a post id), oldest first.

        ``""`` starts now: one small request learns the newest mention id and no
        backlog is returned. ``"0"`` means "there were no mentions when we started":
        everything X returns is new. X pages newest first, so all pages since the
        cursor are read (at most the 800 X keeps) before the oldest ``limit`` are
        returned; ``more`` asks for the rest at once.
        """
        user_id = self._user()
        path = f"/2/users/{user_id}/mentions"
        if not cursor:
            body = self._request("GET", path, params={"max_results": 5}, allow_errors_body=True)
            meta = body.get("meta")
            newest = _str(meta, "newest_id") if isinstance(meta, dict) else ""
            if not newest:
                ids = [_str(tweet, "id") for tweet in _dicts(body.get("data"))]
                newest = max(ids, key=int, default="")
            return InboundPage(items=[], cursor=newest or "0")
        params: dict[str, Any] = {
            "max_results": 100,
            "expansions": EXPANSIONS,
            "tweet.fields": TWEET_FIELDS,
            "user.fields": USER_FIELDS,
            "media.fields": MEDIA_FIELDS,
        }
        if cursor != "0":
            params["since_id"] = cursor
        seen: dict[str, InboundItem] = {}
        for tweets, includes in self._pages(path, params, MAX_MENTION_PAGES):
            users = {_str(user, "id"): user for user in _dicts(includes.get("users"))}
            media = {_str(item, "media_key"): item for item in _dicts(includes.get("media"))}
            for tweet in tweets:
                tweet_id = _str(tweet, "id")
                if not tweet_id.isdigit() or _str(tweet, "author_id") == user_id:
                    continue
                if cursor != "0" and int(tweet_id) <= int(cursor):
                    continue
                seen[tweet_id] = self._item(tweet, users, media)
        ordered = sorted(seen.values(), key=lambda item: int(item.platform_id))
        page = ordered[: max(limit, 1)]
        next_cursor = page[-1].platform_id if page else cursor
        return InboundPage(items=page, cursor=next_cursor, more=len(ordered) > len(page))

    def _item(
        self,
        tweet: dict[str, Any],
        users: Mapping[str, dict[str, Any]],
        media: Mapping[str, dict[str, Any]],
    ) -> InboundItem:
        tweet_id = _str(tweet, "id")
        author = users.get(_str(tweet, "author_id"), {})
        handle = _str(author, "username")
        attached: list[dict[str, Any]] = []
        attachments = tweet.get("attachments")
        if isinstance(attachments, dict):
            for key in attachments.get("media_keys") or []:
                if isinstance(key, str) and key in media:
                    attached.append(media[key])
        raw_doc: dict[str, Any] = {"data": tweet, "includes": {"users": [author] if author else []}}
        if attached:
            raw_doc["includes"]["media"] = attached
        reply_to = _replied_to(tweet)
        references = {_str(ref, "type") for ref in _dicts(tweet.get("referenced_tweets"))}
        if reply_to and _str(tweet, "in_reply_to_user_id") == self._user_id:
            kind = InboundKind.REPLY
        elif "quoted" in references:
            kind = InboundKind.QUOTE
        else:
            kind = InboundKind.MENTION
        history = [value for value in tweet.get("edit_history_tweet_ids") or [] if value]
        created = _parse_time(tweet.get("created_at")) or datetime.now(UTC)
        edited = created if len(history) > 1 and history[-1] == tweet_id else None
        return InboundItem(
            geo=_geotag(tweet),
            platform_id=tweet_id,
            kind=kind,
            author_id=_str(tweet, "author_id"),
            author_handle=handle,
            author_display_name=_str(author, "name"),
            author_location=_str(author, "location"),
            text=_expanded_text(tweet),
            created_at=created,
            raw=json.dumps(raw_doc, separators=(",", ":"), ensure_ascii=False).encode(),
            url=self._post_url(tweet_id, handle),
            media=tuple(
                MediaItem(
                    url=_str(item, "url") or _str(item, "preview_image_url"),
                    kind={"photo": "image", "animated_gif": "gifv"}.get(
                        _str(item, "type"), _str(item, "type") or "unknown"
                    ),
                    alt_text=_str(item, "alt_text"),
                )
                for item in attached
            ),
            reply_to_id=reply_to,
            thread_root_id=_str(tweet, "conversation_id"),
            edited_at=edited,
        )

    def _lookup(
        self, ids: Sequence[str], fields: str, expansions: str = ""
    ) -> Iterator[dict[str, Any]]:
        """``GET /2/tweets?ids=`` in batches of 100; yields each answer."""
        for start in range(0, len(ids), LOOKUP_BATCH):
            batch = [value for value in ids[start : start + LOOKUP_BATCH] if value]
            if not batch:
                continue
            params: dict[str, Any] = {"ids": ",".join(batch), "tweet.fields": fields}
            if expansions:
                params.update(
                    {
                        "expansions": expansions,
                        "user.fields": USER_FIELDS,
                        "media.fields": MEDIA_FIELDS,
                    }
                )
            yield self._request("GET", "/2/tweets", params=params, allow_errors_body=True)

    def refresh_items(self, platform_ids: Sequence[str]) -> dict[str, InboundItem | None]:
        """Current state of posts; ``None`` for those X reports as not found (deleted).

        Other per-post problems (a protected or suspended author) leave the id out of
        the result: the post is not known to be deleted.
        """
        self._user()
        result: dict[str, InboundItem | None] = {}
        for body in self._lookup(platform_ids, TWEET_FIELDS, EXPANSIONS):
            includes = body.get("includes")
            includes = includes if isinstance(includes, dict) else {}
            users = {_str(user, "id"): user for user in _dicts(includes.get("users"))}
            media = {_str(item, "media_key"): item for item in _dicts(includes.get("media"))}
            for tweet in _dicts(body.get("data")):
                result[_str(tweet, "id")] = self._item(tweet, users, media)
            for error in _dicts(body.get("errors")):
                if "resource-not-found" in _str(error, "type"):
                    result[_str(error, "resource_id") or _str(error, "value")] = None
        return result

    def fetch_metrics(self, platform_ids: Sequence[str]) -> list[PostMetrics]:
        metrics: list[PostMetrics] = []
        for body in self._lookup(platform_ids, "public_metrics"):
            for tweet in _dicts(body.get("data")):
                public = tweet.get("public_metrics")
                public = public if isinstance(public, dict) else {}
                impressions = public.get("impression_count")
                metrics.append(
                    PostMetrics(
                        platform_id=_str(tweet, "id"),
                        likes=_int(public, "like_count"),
                        reposts=_int(public, "retweet_count"),
                        replies=_int(public, "reply_count"),
                        quotes=_int(public, "quote_count"),
                        impressions=impressions if isinstance(impressions, int) else None,
                    )
                )
        return metrics

    def fetch_profile(self, handle_or_id: str) -> Profile:
        value = handle_or_id.strip().lstrip("@")
        params = {"user.fields": "username,name,location,description,public_metrics"}
        if value.isdigit():
            path = f"/2/users/{value}"
        else:
            path = f"/2/users/by/username/{quote(value, safe='')}"
        body = self._request("GET", path, params=params)
        user = body.get("data")
        if not isinstance(user, dict):
            raise ConnectorError(
                f"X has no user {value}", permanent=True, reason=ErrorReason.NOT_FOUND
            )
        return _profile(user)

    # -- audience ---------------------------------------------------------------------

    def fetch_followers(self, cursor: str = "", limit: int = 100) -> ProfilePage:
        path = f"/2/users/{self._user()}/followers"
        return self._user_page(path, cursor, min(limit, FOLLOWERS_PAGE_MAX), "list followers")

    def fetch_engagers(self, platform_id: str, cursor: str = "", limit: int = 100) -> ProfilePage:
        """Who liked the post, then who reposted it (``cursor`` says which, and where)."""
        if not platform_id.isdigit():
            raise ConnectorError(
                f"not an X post id: {platform_id[:40]!r}",
                permanent=True,
                reason=ErrorReason.NOT_FOUND,
            )

        def page(phase: str, token: str) -> ProfilePage:
            what = "list who liked a post" if phase == "likes" else "list who reposted a post"
            path = f"/2/tweets/{platform_id}/{ENGAGER_PATHS[phase]}"
            return self._user_page(path, token, min(limit, ENGAGERS_PAGE_MAX), what)

        return self._likes_then_reposts(cursor, page)

    def _user_page(self, path: str, token: str, limit: int, what: str) -> ProfilePage:
        """One page of a user list; the cursor is ``meta.next_token`` ("" at the end)."""
        params: dict[str, Any] = {
            "max_results": max(1, limit),
            "user.fields": AUDIENCE_USER_FIELDS,
        }
        if token:
            params["pagination_token"] = token
        try:
            body = self._request("GET", path, params=params)
        except ConnectorError as exc:
            if exc.status != 403:
                raise
            raise ConnectorError(
                f"X refused to {what} ({exc.message}). Reconnect the account if it was "
                "connected before Beatdesk asked for the permission to read followers and "
                "likes; the app's X API access level must also include this endpoint",
                permanent=True,
                reason=ErrorReason.REJECTED,
                status=403,
            ) from None
        users = _dicts(body.get("data"))
        meta = body.get("meta")
        following = _str(meta, "next_token") if isinstance(meta, dict) else ""
        if not users or following == token:
            following = ""
        return ProfilePage(
            profiles=[_profile(user) for user in users if _str(user, "id")], cursor=following
        )


def _profile(user: Mapping[str, Any]) -> Profile:
    """A ``Profile`` from a v2 user object: ``location`` is what the person wrote there
    (free text), ``followers`` comes with ``public_metrics`` only."""
    public = user.get("public_metrics")
    followers = public.get("followers_count") if isinstance(public, dict) else None
    return Profile(
        platform_id=_str(user, "id"),
        handle=_str(user, "username"),
        display_name=_str(user, "name"),
        location=_str(user, "location"),
        description=_str(user, "description"),
        followers=followers if isinstance(followers, int) else None,
    )


def _replied_to(tweet: Mapping[str, Any]) -> str:
    for ref in _dicts(tweet.get("referenced_tweets")):
        if _str(ref, "type") == "replied_to":
            return _str(ref, "id")
    return ""


def _scrubbed(error: ConnectorError, secret_values: Sequence[str]) -> ConnectorError:
    """Remove any credential that a platform might have echoed into an error message."""
    message = error.message
    for value in secret_values:
        if value and len(value) >= 6 and value in message:
            message = message.replace(value, "[redacted]")
    if message != error.message:
        error.message = message
        error.args = (message,)
    return error


def _token_request(
    http: HttpClient,
    base: str,
    form: Mapping[str, str],
    client_id: str,
    client_secret: str,
    *,
    secret_values: Sequence[str],
) -> dict[str, Any]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if client_secret:
        headers["Authorization"] = _basic_auth(client_id, client_secret)
    try:
        response = http.request("POST", f"{base}/2/oauth2/token", headers=headers, data=form)
    except ConnectorError as exc:
        # A token request changes nothing the caller could reconcile (though a lost
        # answer to a refresh may have used up the single-use refresh token).
        exc.outcome_unknown = False
        raise
    if response.status_code in (400, 401):
        raise _scrubbed(
            ConnectorError(
                f"X refused the token request ({response.status_code}): "
                f"{_problem_text(response) or 'invalid grant'}",
                permanent=True,
                reason=ErrorReason.AUTH_EXPIRED,
                status=response.status_code,
            ),
            secret_values,
        )
    error = x_error(response)
    if error is not None:
        raise _scrubbed(error, secret_values)
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise ConnectorError(
            "X token endpoint answered without an access token",
            permanent=False,
            reason=ErrorReason.BAD_RESPONSE,
        )
    return body


def _credentials_from_token(body: Mapping[str, Any]) -> dict[str, str]:
    credentials = {"access_token": str(body["access_token"])}
    if isinstance(body.get("refresh_token"), str):
        credentials["refresh_token"] = str(body["refresh_token"])
    expires_in = body.get("expires_in")
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        expires_at = datetime.now(UTC) + timedelta(seconds=float(expires_in))
        credentials["expires_at"] = expires_at.isoformat(timespec="seconds")
    if isinstance(body.get("scope"), str):
        credentials["scope"] = str(body["scope"])
    return credentials


def _geotag(tweet: dict[str, Any]) -> tuple[float, float] | None:
    """A tweet's exact point (``geo.coordinates``, GeoJSON lon/lat), if the author added one.

    A ``place_id`` alone (a named area, often a whole city) is not a geotag.
    """
    geo = tweet.get("geo")
    point = geo.get("coordinates") if isinstance(geo, dict) else None
    if not isinstance(point, dict) or point.get("type") != "Point":
        return None
    coordinates = point.get("coordinates")
    if (
        isinstance(coordinates, list)
        and len(coordinates) == 2
        and all(isinstance(c, (int, float)) for c in coordinates)
    ):
        lon, lat = float(coordinates[0]), float(coordinates[1])
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return lat, lon
    return None
