"""The one contract every social-network connector implements.

Domain code (inbox, publishing, insights) sees only these dataclasses and
``ConnectorError``; it never imports an SDK or knows a platform's wire format.
Nothing here touches the database: connectors are plain objects built from
decrypted credentials by ``channels.registry`` and discarded after use.

Publishing contract (at most once per (post, account)):

* ``OutboundPost.key`` is stable for one (post, account) pair. A connector whose
  ``idempotent_publish`` is true guarantees that calling ``publish`` twice with the
  same key yields one platform post (Mastodon ``Idempotency-Key``, Bluesky record
  key). Otherwise the caller must ask ``find_published`` before any retry whose
  outcome is unknown.
* ``ConnectorError.outcome_unknown`` is true when the request may have reached the
  platform and we do not know whether it was accepted (the connection dropped after
  the request was sent). The caller must reconcile, never blindly retry.

Media: ``Connector.media_rules`` says what a post may carry (checked before a post is
queued); ``OutboundMedia`` holds the bytes. A platform that fetches media itself from
a public address (Instagram) calls ``Connector.media_url``, which the caller sets.

Moderation: ``hide_inbound`` hides (or shows again) someone else's reply or comment
on the platform, where the platform allows it (``Capability.HIDE``). It is idempotent:
hiding what is hidden succeeds, so a lost answer can simply be retried.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from beatdesk.core.http import HttpClient


class Capability(enum.StrEnum):
    VERIFY = "verify"
    PUBLISH = "publish"
    REPLY = "reply"
    MEDIA = "media"
    FETCH_INBOUND = "fetch_inbound"
    DIRECT_MESSAGES = "direct_messages"
    STREAM = "stream"
    REFRESH = "refresh"  # re-read inbound items to record edits and deletions
    DELETE = "delete"
    METRICS = "metrics"
    PROFILES = "profiles"
    HIDE = "hide"  # hide other people's replies or comments from public view
    AUDIENCE = "audience"  # list followers and the people who liked/reposted our posts


class ErrorReason(enum.StrEnum):
    AUTH_EXPIRED = "auth_expired"  # token expired: reconnect needed
    AUTH_REVOKED = "auth_revoked"  # permission withdrawn or account suspended
    RATE_LIMITED = "rate_limited"
    POSTING_CAP = "posting_cap"  # platform's daily/periodic posting cap reached
    NETWORK = "network"
    SERVER = "server"  # platform 5xx
    REJECTED = "rejected"  # the platform refused this content (too long, duplicate, ...)
    NOT_FOUND = "not_found"
    UNSUPPORTED = "unsupported"
    BAD_RESPONSE = "bad_response"  # the platform answered something we cannot parse


#: Reasons that mean the account itself is broken (not just this one request).
ACCOUNT_BROKEN_REASONS = frozenset({ErrorReason.AUTH_EXPIRED, ErrorReason.AUTH_REVOKED})


class ConnectorError(Exception):
    """A connector call failed.

    ``permanent``: retrying the same call cannot succeed (bad credentials, content
    refused). Transient errors (network, 5xx, rate limits) may be retried, after
    ``retry_after`` when given. ``outcome_unknown`` marks a write that may or may
    not have taken effect. The message must never contain a credential.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        reason: ErrorReason,
        retry_after: datetime | None = None,
        outcome_unknown: bool = False,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.reason = reason
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown
        self.status = status

    @property
    def breaks_account(self) -> bool:
        return self.reason in ACCOUNT_BROKEN_REASONS

    def __repr__(self) -> str:
        return (
            f"ConnectorError({self.message!r}, permanent={self.permanent}, "
            f"reason={self.reason.value}, outcome_unknown={self.outcome_unknown})"
        )


@dataclass(frozen=True)
class ConnectionSettings:
    """What a connector needs to talk to one account.

    ``credentials`` holds decrypted secrets (tokens, app passwords); keep it out of
    logs, pages and audit payloads. ``platform_account_id`` and ``handle`` are empty
    before the first ``verify``.
    """

    base_url: str
    credentials: Mapping[str, str]
    platform_account_id: str = ""
    handle: str = ""

    def __repr__(self) -> str:  # never print secrets
        return f"ConnectionSettings(base_url={self.base_url!r}, handle={self.handle!r})"


@dataclass(frozen=True)
class AccountIdentity:
    platform_account_id: str
    handle: str
    display_name: str
    url: str = ""
    token_expires_at: datetime | None = None


@dataclass(frozen=True)
class MediaItem:
    """Media attached to an inbound item, by reference (we keep the URL, not the bytes)."""

    url: str
    kind: str = "image"  # image, video, gifv, audio, unknown
    alt_text: str = ""


@dataclass(frozen=True)
class OutboundMedia:
    """An image or video to publish. ``ref`` names the stored copy it was read from
    (a storage name; empty when it has none): ``Connector.media_url`` publishes that
    copy at a public address for platforms that fetch media themselves."""

    data: bytes
    mime_type: str
    alt_text: str = ""
    ref: str = ""

    def __repr__(self) -> str:
        return f"OutboundMedia({self.mime_type}, {len(self.data)} bytes)"


class InboundKind(enum.StrEnum):
    MENTION = "mention"
    REPLY = "reply"
    COMMENT = "comment"
    DIRECT = "direct"
    QUOTE = "quote"


@dataclass(frozen=True)
class InboundItem:
    """One public message (or direct message) normalised from a platform payload.

    ``raw`` is the platform's payload for this item, verbatim bytes, kept as
    evidence. ``platform_id`` is unique per platform. ``deleted`` marks a tombstone
    (the platform says the item no longer exists).
    """

    platform_id: str
    kind: InboundKind
    author_id: str
    author_handle: str
    author_display_name: str
    text: str
    created_at: datetime
    raw: bytes
    author_location: str = ""
    url: str = ""
    media: tuple[MediaItem, ...] = ()
    reply_to_id: str = ""
    thread_root_id: str = ""
    edited_at: datetime | None = None
    deleted: bool = False
    # (latitude, longitude) where the author attached a precise location; None otherwise.
    geo: tuple[float, float] | None = None


@dataclass(frozen=True)
class InboundPage:
    """Items newer than the cursor given, oldest first, and the cursor to store once
    they are committed. ``more`` asks the caller to fetch again at once."""

    items: Sequence[InboundItem]
    cursor: str
    more: bool = False


@dataclass(frozen=True)
class OutboundPost:
    key: str  # stable per (post, account): a TID from ``channels.keys.new_post_key``
    text: str
    media: tuple[OutboundMedia, ...] = ()
    reply_to_id: str = ""


@dataclass(frozen=True)
class PublishedRef:
    platform_id: str
    url: str
    published_at: datetime | None = None


@dataclass(frozen=True)
class PostMetrics:
    platform_id: str
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    impressions: int | None = None  # only where the platform reports reach


@dataclass(frozen=True)
class Profile:
    platform_id: str
    handle: str
    display_name: str
    location: str = ""
    description: str = ""
    followers: int | None = None


#: The two lists ``fetch_engagers`` reads, in order.
ENGAGER_PHASES: tuple[str, str] = ("likes", "reposts")


@dataclass(frozen=True)
class ProfilePage:
    """A page of public profiles and the cursor for the next one ("" when there is none)."""

    profiles: Sequence[Profile]
    cursor: str = ""


@dataclass
class RateLimitState:
    """Last rate-limit headers seen; the health page shows it."""

    remaining: int | None = None
    limit: int | None = None
    reset_at: datetime | None = None


@dataclass(frozen=True)
class MediaRules:
    """What one post may carry on a platform, checked before the post is queued.

    ``types`` maps each accepted MIME type to the largest file the platform takes.
    ``required``: a post (not a reply) needs at least one item (Instagram).
    ``on_replies``: replies may carry media. ``by_url``: the platform fetches each item
    from a public address (``Connector.media_url``) instead of taking the bytes.
    """

    types: Mapping[str, int]
    max_items: int
    required: bool = False
    on_replies: bool = True
    by_url: bool = False


@dataclass(frozen=True)
class PostingCap:
    """The platform's own posting limit for one account (documented limits)."""

    posts: int
    per_seconds: int


class Connector(ABC):
    """Base class of every connector.

    Subclasses set the class attributes and implement what their capabilities
    promise; the defaults raise ``ConnectorError(UNSUPPORTED)``. Every method may
    raise ``ConnectorError`` and nothing else for platform or network trouble.
    After each call ``rate_limit`` holds the latest rate-limit headers and
    ``updated_credentials`` holds refreshed secrets the caller must store (or None).
    """

    kind: ClassVar[str]
    label: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    idempotent_publish: ClassVar[bool] = False
    max_text_length: ClassVar[int] = 500
    posting_cap: ClassVar[PostingCap | None] = None
    #: What a post may carry (None: text only).
    media_rules: ClassVar[MediaRules | None] = None
    #: Fields the connect form asks for; secrets are marked so they are never echoed.
    credential_fields: ClassVar[tuple[tuple[str, str, bool], ...]] = ()  # (name, label, secret)
    default_base_url: ClassVar[str] = ""

    def __init__(self, settings: ConnectionSettings, http: HttpClient) -> None:
        self.settings = settings
        self.http = http
        self.rate_limit = RateLimitState()
        self.updated_credentials: dict[str, str] | None = None
        #: Publishes one stored media item at a public, short-lived address and returns
        #: it; set by the caller for platforms whose ``media_rules.by_url`` is true.
        self.media_url: Callable[[OutboundMedia], str] | None = None

    def _unsupported(self, what: str) -> ConnectorError:
        return ConnectorError(
            f"{self.label} does not support {what}",
            permanent=True,
            reason=ErrorReason.UNSUPPORTED,
        )

    @abstractmethod
    def verify(self) -> AccountIdentity:
        """Check the credentials and return who they belong to."""

    def publish(self, post: OutboundPost) -> PublishedRef:
        raise self._unsupported("publishing")

    def find_published(self, post: OutboundPost, since: datetime) -> PublishedRef | None:
        """Look for ``post`` among this account's posts since ``since`` (reconciliation)."""
        raise self._unsupported("looking up published posts")

    def fetch_inbound(self, cursor: str, limit: int = 100) -> InboundPage:
        """Items addressed to this account newer than ``cursor`` ("" = start now)."""
        raise self._unsupported("fetching inbound messages")

    def refresh_items(self, platform_ids: Sequence[str]) -> dict[str, InboundItem | None]:
        """Current state of inbound items (None: deleted on the platform)."""
        raise self._unsupported("re-reading messages")

    def delete(self, platform_id: str) -> None:
        raise self._unsupported("deleting posts")

    def hide_inbound(self, platform_id: str, *, hidden: bool = True) -> None:
        """Hide someone else's reply or comment from public view (``hidden=False``
        shows it again). Hiding what is already hidden succeeds."""
        raise self._unsupported("hiding other people's messages")

    def fetch_metrics(self, platform_ids: Sequence[str]) -> list[PostMetrics]:
        raise self._unsupported("post metrics")

    def fetch_profile(self, handle_or_id: str) -> Profile:
        raise self._unsupported("profiles")

    def fetch_followers(self, cursor: str = "", limit: int = 100) -> ProfilePage:
        """A page of the followers of this account."""
        raise self._unsupported("listing followers")

    def fetch_engagers(self, platform_id: str, cursor: str = "", limit: int = 100) -> ProfilePage:
        """A page of the people who liked or reposted one of our posts (repliers are
        not included: they arrive as inbound messages)."""
        raise self._unsupported("listing who engaged with a post")

    def _likes_then_reposts(
        self, cursor: str, fetch_page: Callable[[str, str], ProfilePage]
    ) -> ProfilePage:
        """Engagers as one listing over two platform lists: ``cursor`` is
        ``"<phase>:<platform cursor>"`` with phase ``likes`` then ``reposts``.
        ``fetch_page(phase, platform_cursor)`` reads one page of one list and returns the
        platform's next cursor ("" at its end). A post nobody liked goes straight on to
        its reposts, so a call makes at most two requests."""
        phase, _, inner = (cursor or f"{ENGAGER_PHASES[0]}:").partition(":")
        if phase not in ENGAGER_PHASES:
            raise ConnectorError(
                f"not a cursor of {self.label} engagers: {cursor[:40]!r}",
                permanent=True,
                reason=ErrorReason.REJECTED,
            )
        page = fetch_page(phase, inner)
        if page.cursor:
            return ProfilePage(profiles=page.profiles, cursor=f"{phase}:{page.cursor}")
        if phase == "reposts":
            return ProfilePage(profiles=page.profiles)
        if not page.profiles:  # nobody (left) liked it: go straight on to the reposts
            return self._likes_then_reposts("reposts:", fetch_page)
        return ProfilePage(profiles=page.profiles, cursor="reposts:")


@dataclass(frozen=True)
class OAuthApp:
    """An agency's registered app on an OAuth platform (X, Meta)."""

    client_id: str
    client_secret: str
    redirect_uri: str

    def __repr__(self) -> str:
        return f"OAuthApp(client_id={self.client_id!r}, redirect_uri={self.redirect_uri!r})"


@dataclass(frozen=True)
class OAuthStart:
    """Where to send the admin's browser, and what to keep in their session until
    the platform redirects back (``state`` is checked, ``code_verifier`` is PKCE)."""

    authorize_url: str
    state: str
    code_verifier: str = ""


class OAuthConnector(Connector):
    """A connector whose accounts are connected by an OAuth redirect flow.

    ``start_oauth`` must use a fresh random ``state`` (and PKCE where the platform
    supports it); ``finish_oauth`` exchanges the code and returns the credentials to
    store (access token, refresh token, expiry as ISO 8601 in ``expires_at``...).
    """

    oauth_scopes: ClassVar[tuple[str, ...]] = ()

    @classmethod
    @abstractmethod
    def start_oauth(cls, app: OAuthApp) -> OAuthStart: ...

    @classmethod
    @abstractmethod
    def finish_oauth(
        cls,
        app: OAuthApp,
        *,
        code: str,
        code_verifier: str,
        http: HttpClient,
        base_url: str | None = None,
    ) -> dict[str, str]:
        """``base_url`` overrides the platform's API host (tests, private deployments)."""

    def refresh_credentials(self) -> dict[str, str]:
        """New credentials from a refresh token (also set as ``updated_credentials``)."""
        raise self._unsupported("token refresh")


@dataclass
class ConnectorInfo:
    """Registry entry: enough to list a connector without importing it."""

    kind: str
    label: str
    import_path: str  # "module:Class"
    oauth: bool = False
    notes: list[str] = field(default_factory=list)
