"""Facebook Page and Instagram professional account connectors (Meta Graph API).

Both connect through Facebook Login (``graph.start_oauth``/``finish_oauth``): the code
is exchanged for a short-lived user token, that for a long-lived one (about 60 days),
and ``GET /me/accounts`` lists the Pages the user manages with a Page access token
each (Page tokens obtained from a long-lived user token do not expire) and the
Instagram professional account linked to each Page. The first Page (or the first Page
with an Instagram account) is connected; ``pages`` in the credentials lists the others
(id and name only) for a chooser.

References (developers.facebook.com, read November 2026):

* Pages: ``POST /{page-id}/feed`` and ``/{page-id}/photos``, ``GET /{page-id}/posts``,
  ``GET /{page-id}/feed``, ``POST /{object-id}/comments``, ``POST /{comment-id}`` with
  ``is_hidden`` (hide a comment; Graph API changelog v2.2 and the Comment reference)
  (https://developers.facebook.com/docs/pages-api/posts,
  https://developers.facebook.com/docs/graph-api/reference/page/feed,
  https://developers.facebook.com/docs/graph-api/reference/object/comments).
* Instagram: content publishing is two steps, ``POST /{ig-user-id}/media`` (a
  container; Meta fetches the image from a public URL) then
  ``POST /{ig-user-id}/media_publish``; ``GET /{ig-user-id}/media``,
  ``/{ig-media-id}/comments``, ``/{ig-comment-id}/replies``, ``/{ig-user-id}/tags``,
  ``POST /{ig-comment-id}`` with ``hide`` (hide a comment; the IG Comment reference)
  (https://developers.facebook.com/docs/instagram-platform/content-publishing and the
  IG User, IG Media and IG Comment references). Accounts may publish 100 posts through
  the API in a moving 24 hours (the content-publishing guide; carousels count once).

Not done: Page conversations (Messenger) and Instagram direct messages; comments on
Page posts older than the 25 most recent; Instagram @mentions in captions or comments
of other people's media (they arrive only by webhook; photo tags through ``/tags``
are read); alt text on Facebook photos; videos.
"""

from __future__ import annotations

import functools
import json
import secrets
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

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
    PublishedRef,
    RateLimitState,
)
from beatdesk.core.http import HttpClient

from .graph import (
    DIALOG_URL,
    GRAPH_BASE_URL,
    GraphClient,
    GraphError,
    dicts,
    exchange_token,
    next_page_params,
    number,
    parse_graph_time,
    text,
)

FACEBOOK_SCOPES = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_posts",
    "pages_manage_engagement",
)
INSTAGRAM_SCOPES = (
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "pages_show_list",
    "pages_read_engagement",
    "business_management",
)

#: Inbound items up to this much older than the newest one seen are still accepted
#: (by id) when they appear late; Graph reads are not strictly ordered in time.
OVERLAP = timedelta(minutes=10)
MAX_CURSOR_IDS = 1000
RECENT_POSTS = 25
MAX_COMMENT_PAGES = 5
FIND_SKEW = timedelta(minutes=2)
FIND_PAGES = 5
MAX_CAROUSEL = 10
CONTAINER_POLLS = 10

FB_COMMENT_FIELDS = (
    "id,message,created_time,from{id,name},parent{id},permalink_url,"
    "attachment{type,url,media{image{src}}}"
)
FB_POST_FIELDS = "id,message,created_time,from{id,name},permalink_url"
FB_FEED_FIELDS = (
    f"{FB_POST_FIELDS},comments.filter(stream).order(reverse_chronological)"
    f".limit(100){{{FB_COMMENT_FIELDS}}}"
)
IG_COMMENT_FIELDS = "id,text,timestamp,username,from{id,username},parent_id"
IG_MEDIA_FIELDS = (
    f"id,caption,timestamp,permalink,comments.limit(50){{{IG_COMMENT_FIELDS},"
    f"replies{{{IG_COMMENT_FIELDS}}}}}"
)
IG_TAG_FIELDS = "id,caption,timestamp,permalink,username,media_type,media_url"

ATTACHMENT_KINDS = {
    "photo": "image",
    "sticker": "image",
    "video_inline": "video",
    "video": "video",
    "animated_image_share": "gifv",
    "animated_image_video": "gifv",
}


def _same_text(ours: str, theirs: str) -> bool:
    """Graph keeps the message as sent; only line endings and Unicode form may differ."""

    def normal(value: str) -> str:
        return unicodedata.normalize("NFC", value).replace("\r\n", "\n").strip()

    return normal(ours) == normal(theirs)


def _raw(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _epoch_seconds(value: datetime) -> int:
    return int(value.timestamp())


@dataclass(frozen=True)
class InboundCursor:
    """Where inbound reading stands: the newest creation time seen and the ids seen in
    the ``OVERLAP`` before it (so late arrivals are taken once, early ones never twice).

    Serialised as ``{"t": ISO 8601 or "", "seen": {id: epoch seconds}}``; ``t`` empty
    means nothing existed when reading started.
    """

    at: datetime | None
    seen: Mapping[str, int]

    @classmethod
    def parse(cls, raw: str) -> InboundCursor:
        try:
            value = json.loads(raw)
        except ValueError:
            raise ValueError(f"not a Meta inbound cursor: {raw[:40]!r}") from None
        if not isinstance(value, dict):
            raise ValueError("not a Meta inbound cursor")
        seen = value.get("seen")
        return cls(
            at=parse_graph_time(value.get("t")),
            seen={
                str(key): int(stamp)
                for key, stamp in (seen.items() if isinstance(seen, dict) else [])
                if isinstance(stamp, int)
            },
        )

    @classmethod
    def start(cls, items: Iterable[InboundItem]) -> InboundCursor:
        return cls(at=None, seen={}).advance(items)

    def is_new(self, item: InboundItem) -> bool:
        if self.at is None:
            return True
        if item.platform_id in self.seen:
            return False
        return item.created_at > self.at - OVERLAP

    def advance(self, items: Iterable[InboundItem]) -> InboundCursor:
        seen = dict(self.seen)
        at = self.at
        for item in items:
            seen[item.platform_id] = _epoch_seconds(item.created_at)
            if at is None or item.created_at > at:
                at = item.created_at
        if at is not None:
            horizon = _epoch_seconds(at - OVERLAP)
            kept = sorted(
                ((stamp, key) for key, stamp in seen.items() if stamp >= horizon), reverse=True
            )[:MAX_CURSOR_IDS]
            seen = {key: stamp for stamp, key in kept}
        return InboundCursor(at=at, seen=seen)

    def dump(self) -> str:
        return json.dumps(
            {"t": self.at.isoformat() if self.at else "", "seen": dict(self.seen)},
            separators=(",", ":"),
            sort_keys=True,
        )


def _page_of_new(cursor: str, candidates: list[InboundItem], limit: int) -> InboundPage:
    if not cursor:
        return InboundPage(items=[], cursor=InboundCursor.start(candidates).dump())
    state = InboundCursor.parse(cursor)
    unique = {item.platform_id: item for item in candidates if state.is_new(item)}
    fresh = sorted(unique.values(), key=lambda item: (item.created_at, item.platform_id))
    page = fresh[: max(limit, 1)]
    return InboundPage(items=page, cursor=state.advance(page).dump(), more=len(fresh) > len(page))


class MetaConnector(OAuthConnector):
    """What the Facebook Page and Instagram connectors share (not registered itself)."""

    default_base_url = GRAPH_BASE_URL
    credential_fields = ()

    def __init__(self, settings: ConnectionSettings, http: HttpClient) -> None:
        super().__init__(settings, http)
        self._credentials: dict[str, str] = dict(settings.credentials)

    # -- OAuth (Facebook Login) -------------------------------------------------------

    @classmethod
    def start_oauth(cls, app: OAuthApp) -> OAuthStart:
        state = secrets.token_urlsafe(32)
        query = urlencode(
            {
                "client_id": app.client_id,
                "redirect_uri": app.redirect_uri,
                "state": state,
                "response_type": "code",
                "scope": ",".join(cls.oauth_scopes),
            }
        )
        return OAuthStart(authorize_url=f"{DIALOG_URL}?{query}", state=state)

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
        """Code -> short-lived user token -> long-lived user token -> Pages.

        ``code_verifier`` is unused (the exchange authenticates with the app secret);
        ``base_url`` overrides the Graph host (tests).
        """
        base = base_url or cls.default_base_url
        short = exchange_token(
            http,
            base,
            {
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "redirect_uri": app.redirect_uri,
                "code": code,
            },
        )
        long_lived = exchange_token(
            http,
            base,
            {
                "grant_type": "fb_exchange_token",
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "fb_exchange_token": text(short, "access_token"),
            },
        )
        user_token = text(long_lived, "access_token")
        expires_in = number(long_lived, "expires_in")
        expires_at = (
            (datetime.now(UTC) + timedelta(seconds=expires_in)).isoformat(timespec="seconds")
            if expires_in
            else ""
        )
        graph = GraphClient(
            http, base, user_token, label=cls.label, secret_values=(app.client_secret,)
        )
        pages: list[dict[str, Any]] = []
        for batch in graph.pages(
            "me/accounts",
            {"fields": "id,name,access_token,instagram_business_account{id,username}"},
            max_pages=5,
        ):
            pages.extend(batch)
        return cls._credentials_from_pages(pages, user_token, expires_at)

    @classmethod
    def _credentials_from_pages(
        cls, pages: list[dict[str, Any]], user_token: str, expires_at: str
    ) -> dict[str, str]:
        raise NotImplementedError

    # -- plumbing ---------------------------------------------------------------------

    def _secret_values(self) -> tuple[str, ...]:
        return tuple(
            value for key, value in self._credentials.items() if "token" in key or "secret" in key
        )

    def _note_rate_limit(self, state: RateLimitState) -> None:
        self.rate_limit = state

    def _graph(self) -> GraphClient:
        return GraphClient(
            self.http,
            self.settings.base_url or self.default_base_url,
            self._credentials.get("access_token", ""),
            label=self.label,
            on_rate_limit=self._note_rate_limit,
            secret_values=self._secret_values(),
        )

    def _token_expiry(self) -> datetime | None:
        return parse_graph_time(self._credentials.get("expires_at", ""))

    def _missing(self, what: str) -> ConnectorError:
        return ConnectorError(
            f"{self.label}: {what} is not stored: reconnect the account",
            permanent=True,
            reason=ErrorReason.AUTH_REVOKED,
        )

    def _no_id(self, what: str) -> ConnectorError:
        return ConnectorError(
            f"{self.label} answered {what} without an id",
            permanent=False,
            reason=ErrorReason.BAD_RESPONSE,
        )

    def _set_flag(self, object_id: str, flag: str, hidden: bool, what: str) -> None:
        """``POST /{object-id}`` with ``flag`` (``is_hidden``, ``hide``): a flag set to
        the same value twice is harmless, so a lost answer is a plain transient error.

        A permission error here (codes 10, 200-299) refuses this one request: some
        comments cannot be hidden (``can_hide`` false), and a missing moderation
        permission stops only moderation. Token errors (190) still break the account.
        """
        try:
            body = self._graph().post(object_id, data={flag: "true" if hidden else "false"})
        except GraphError as exc:
            exc.outcome_unknown = False
            if exc.reason is ErrorReason.AUTH_REVOKED and exc.code not in (190, 102):
                raise ConnectorError(
                    f"{exc.message}: {self.label} does not let this account "
                    f"{'hide' if hidden else 'show'} this {what} (some cannot be hidden; "
                    "if none can, reconnect the account to grant the moderation permission)",
                    permanent=True,
                    reason=ErrorReason.REJECTED,
                    status=exc.status,
                ) from None
            raise
        except ConnectorError as exc:
            exc.outcome_unknown = False
            raise
        if body.get("success") is not True:
            raise ConnectorError(
                f"{self.label} did not confirm that the {what} is "
                f"{'hidden' if hidden else 'shown'}",
                permanent=False,
                reason=ErrorReason.BAD_RESPONSE,
            )

    @staticmethod
    def _staging(step: Callable[[], str], what: str) -> str:
        """Run a step that creates nothing visible (an unpublished photo, an Instagram
        container): losing its answer leaves no post behind, so ``outcome_unknown`` is
        cleared and the publish may be retried."""
        try:
            return step()
        except ConnectorError as exc:
            if exc.outcome_unknown:
                exc.outcome_unknown = False
                exc.message = f"{exc.message} ({what}; nothing was published)"
                exc.args = (exc.message,)
            raise


class FacebookPageConnector(MetaConnector):
    kind = "facebook"
    label = "Facebook"
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
        }
    )
    idempotent_publish = False
    max_text_length = 63206
    #: Meta documents no per-Page posting cap for the Pages API (only call-rate limits).
    posting_cap = None
    #: Photos only, up to 4 MB each (Meta's photo guidance); ten a post is our own cap.
    #: Comments (replies) carry no media here.
    media_rules = MediaRules(
        types={"image/jpeg": 4_000_000, "image/png": 4_000_000, "image/gif": 4_000_000},
        max_items=10,
        on_replies=False,
    )
    oauth_scopes = FACEBOOK_SCOPES

    @classmethod
    def _credentials_from_pages(
        cls, pages: list[dict[str, Any]], user_token: str, expires_at: str
    ) -> dict[str, str]:
        usable = [page for page in pages if text(page, "id") and text(page, "access_token")]
        if not usable:
            raise ConnectorError(
                "this Facebook user manages no Page the app may act for",
                permanent=True,
                reason=ErrorReason.REJECTED,
            )
        page = usable[0]
        credentials = {
            "access_token": text(page, "access_token"),
            "page_id": text(page, "id"),
            "page_name": text(page, "name"),
            "user_access_token": user_token,
            "pages": json.dumps(
                [{"id": text(item, "id"), "name": text(item, "name")} for item in usable],
                separators=(",", ":"),
                ensure_ascii=False,
            ),
        }
        if expires_at:
            credentials["user_token_expires_at"] = expires_at
        return credentials

    def _page_id(self) -> str:
        page_id = self._credentials.get("page_id") or self.settings.platform_account_id
        if not page_id:
            raise self._missing("the Page id")
        return page_id

    def verify(self) -> AccountIdentity:
        page = self._graph().get(self._page_id(), {"fields": "id,name,username,link"})
        page_id = text(page, "id")
        if not page_id:
            raise self._no_id("the Page lookup")
        return AccountIdentity(
            platform_account_id=page_id,
            handle=text(page, "username") or page_id,
            display_name=text(page, "name"),
            url=text(page, "link") or f"https://www.facebook.com/{page_id}",
        )

    # -- publishing -------------------------------------------------------------------

    def publish(self, post: OutboundPost) -> PublishedRef:
        graph = self._graph()
        page_id = self._page_id()
        for media in post.media:
            if not media.mime_type.lower().startswith("image/"):
                raise ConnectorError(
                    f"the Facebook connector posts images only, not {media.mime_type}",
                    permanent=True,
                    reason=ErrorReason.UNSUPPORTED,
                )
        if post.reply_to_id:
            if post.media:
                raise ConnectorError(
                    "the Facebook connector does not attach media to comment replies",
                    permanent=True,
                    reason=ErrorReason.UNSUPPORTED,
                )
            body = graph.post(f"{post.reply_to_id}/comments", data={"message": post.text})
            return self._ref(text(body, "id"))
        if len(post.media) == 1:
            media = post.media[0]
            body = graph.post(
                f"{page_id}/photos",
                data={"message": post.text, "published": "true"},
                files={"source": ("upload", media.data, media.mime_type)},
            )
            return self._ref(text(body, "post_id") or text(body, "id"))
        data: dict[str, str] = {"message": post.text}
        for index, media in enumerate(post.media):
            photo_id = self._staging(
                functools.partial(self._stage_photo, graph, page_id, media),
                "unpublished photo upload",
            )
            data[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo_id})
        body = graph.post(f"{page_id}/feed", data=data)
        return self._ref(text(body, "id"))

    def _stage_photo(self, graph: GraphClient, page_id: str, media: OutboundMedia) -> str:
        body = graph.post(
            f"{page_id}/photos",
            data={"published": "false"},
            files={"source": ("upload", media.data, media.mime_type)},
        )
        photo_id = text(body, "id")
        if not photo_id:
            raise self._no_id("the photo upload")
        return photo_id

    def _ref(self, object_id: str, published_at: datetime | None = None) -> PublishedRef:
        if not object_id:
            raise ConnectorError(
                "Facebook accepted the post but answered without its id",
                permanent=False,
                reason=ErrorReason.BAD_RESPONSE,
                outcome_unknown=True,
            )
        return PublishedRef(
            platform_id=object_id,
            url=f"https://www.facebook.com/{object_id}",
            published_at=published_at,
        )

    def find_published(self, post: OutboundPost, since: datetime) -> PublishedRef | None:
        """The Page's post (or, for a reply, its comment on ``reply_to_id``) whose
        message is exactly ``post.text``, created at or after ``since`` (oldest first)."""
        graph = self._graph()
        page_id = self._page_id()
        floor = since - FIND_SKEW
        matches: list[tuple[datetime, str]] = []
        if post.reply_to_id:
            pages = graph.pages(
                f"{post.reply_to_id}/comments",
                {
                    "filter": "stream",
                    "order": "reverse_chronological",
                    "fields": "id,message,created_time,from{id}",
                    "limit": 100,
                },
                FIND_PAGES,
            )
        else:
            pages = graph.pages(
                f"{page_id}/posts",
                {
                    "since": _epoch_seconds(floor),
                    "fields": "id,message,created_time,permalink_url",
                    "limit": 100,
                },
                FIND_PAGES,
            )
        for batch in pages:
            oldest: datetime | None = None
            for item in batch:
                created = parse_graph_time(item.get("created_time"))
                if created is None:
                    continue
                oldest = created if oldest is None else min(oldest, created)
                if created < floor or not _same_text(post.text, text(item, "message")):
                    continue
                if post.reply_to_id and text(item.get("from"), "id") != page_id:
                    continue
                matches.append((created, text(item, "id")))
            if oldest is not None and oldest < floor:
                break
        if not matches:
            return None
        created, object_id = min(matches)
        return self._ref(object_id, created)

    def delete(self, platform_id: str) -> None:
        body = self._graph().delete(platform_id)
        if body.get("success") is not True:
            raise ConnectorError(
                f"Facebook did not delete {platform_id}",
                permanent=True,
                reason=ErrorReason.REJECTED,
            )

    def hide_inbound(self, platform_id: str, *, hidden: bool = True) -> None:
        """Hide a comment (or a reply to one) on the Page's posts: ``is_hidden``. The
        commenter and their friends still see it. A visitor's post on the Page is not
        a comment and is refused here."""
        if platform_id.startswith(f"{self._page_id()}_"):
            raise ConnectorError(
                "Facebook: only comments can be hidden, not posts on the Page",
                permanent=True,
                reason=ErrorReason.UNSUPPORTED,
            )
        self._set_flag(platform_id, "is_hidden", hidden, "comment")

    # -- inbound ----------------------------------------------------------------------

    def fetch_inbound(self, cursor: str, limit: int = 100) -> InboundPage:
        """Comments on the Page's 25 most recent posts and posts by visitors, newer than
        ``cursor``, oldest first. ``""`` starts now (no backlog).

        One ``GET /{page-id}/feed`` with the comments expanded
        (``comments.filter(stream).order(reverse_chronological)``: replies to comments
        included, newest first); a post whose expanded comments reach past the page of
        100 is read further through ``/{post-id}/comments`` while they are still new.
        """
        horizon = None
        if cursor:
            at = InboundCursor.parse(cursor).at
            horizon = at - OVERLAP if at else datetime.min.replace(tzinfo=UTC)
        candidates = self._inbound_candidates(horizon)
        return _page_of_new(cursor, candidates, limit)

    def _inbound_candidates(self, horizon: datetime | None) -> list[InboundItem]:
        graph = self._graph()
        page_id = self._page_id()
        feed = graph.get(f"{page_id}/feed", {"fields": FB_FEED_FIELDS, "limit": RECENT_POSTS})
        items: list[InboundItem] = []
        for post in dicts(feed.get("data")):
            post_id = text(post, "id")
            if not post_id:
                continue
            author = post.get("from")
            if text(author, "id") and text(author, "id") != page_id:
                items.append(self._post_item(post))
            comments = post.get("comments")
            batch = dicts(comments.get("data")) if isinstance(comments, dict) else []
            paging = comments.get("paging") if isinstance(comments, dict) else None
            for _ in range(MAX_COMMENT_PAGES):
                items.extend(
                    self._comment_item(comment, post_id)
                    for comment in batch
                    if text(comment.get("from"), "id") != page_id and text(comment, "id")
                )
                following = next_page_params(paging)
                if following is None or horizon is None:
                    break
                # Newest first: once this page reaches back past the horizon, the
                # next pages hold only comments already seen.
                times = [parse_graph_time(c.get("created_time")) for c in batch]
                oldest = min((t for t in times if t), default=None)
                if oldest is not None and oldest <= horizon:
                    break
                more = graph.get(
                    f"{post_id}/comments",
                    {
                        "filter": "stream",
                        "order": "reverse_chronological",
                        "fields": FB_COMMENT_FIELDS,
                        "limit": 100,
                        **following,
                    },
                )
                batch = dicts(more.get("data"))
                paging = more.get("paging")
        return items

    def _post_item(self, post: dict[str, Any]) -> InboundItem:
        author = post.get("from")
        payload = {key: value for key, value in post.items() if key != "comments"}
        post_id = text(post, "id")
        return InboundItem(
            platform_id=post_id,
            kind=InboundKind.MENTION,
            author_id=text(author, "id"),
            author_handle="",
            author_display_name=text(author, "name"),
            text=text(post, "message"),
            created_at=parse_graph_time(post.get("created_time")) or datetime.now(UTC),
            raw=_raw(payload),
            url=text(post, "permalink_url") or f"https://www.facebook.com/{post_id}",
            thread_root_id=post_id,
        )

    def _comment_item(self, comment: dict[str, Any], post_id: str) -> InboundItem:
        author = comment.get("from")
        comment_id = text(comment, "id")
        parent = text(comment.get("parent"), "id")
        attachment = comment.get("attachment")
        media: tuple[MediaItem, ...] = ()
        if isinstance(attachment, dict):
            image = attachment.get("media")
            src = text(image.get("image"), "src") if isinstance(image, dict) else ""
            url = src or text(attachment, "url")
            if url:
                kind = ATTACHMENT_KINDS.get(text(attachment, "type"), "unknown")
                media = (MediaItem(url=url, kind=kind),)
        return InboundItem(
            platform_id=comment_id,
            kind=InboundKind.COMMENT,
            author_id=text(author, "id"),
            author_handle="",
            author_display_name=text(author, "name"),
            text=text(comment, "message"),
            created_at=parse_graph_time(comment.get("created_time")) or datetime.now(UTC),
            raw=_raw(comment),
            url=text(comment, "permalink_url") or f"https://www.facebook.com/{comment_id}",
            media=media,
            reply_to_id=parent or post_id,
            thread_root_id=post_id,
        )

    def refresh_items(self, platform_ids: Sequence[str]) -> dict[str, InboundItem | None]:
        """Re-read posts and comments one by one; ``None`` when Graph says the object
        does not exist (code 100, subcode 33)."""
        graph = self._graph()
        page_id = self._page_id()
        result: dict[str, InboundItem | None] = {}
        for object_id in platform_ids:
            is_post = object_id.startswith(f"{page_id}_")
            try:
                body = graph.get(
                    object_id, {"fields": FB_POST_FIELDS if is_post else FB_COMMENT_FIELDS}
                )
            except ConnectorError as exc:
                if exc.reason is ErrorReason.NOT_FOUND:
                    result[object_id] = None
                    continue
                raise
            if is_post:
                result[object_id] = self._post_item(body)
            else:
                # A comment id is "{post object id}_{comment id}"; the Page post is
                # "{page id}_{post object id}".
                post_object = object_id.split("_", 1)[0]
                result[object_id] = self._comment_item(body, f"{page_id}_{post_object}")
        return result

    def fetch_metrics(self, platform_ids: Sequence[str]) -> list[PostMetrics]:
        graph = self._graph()
        page_id = self._page_id()
        metrics: list[PostMetrics] = []
        for object_id in platform_ids:
            fields = (
                "id,reactions.summary(total_count).limit(0),"
                "comments.filter(stream).summary(total_count).limit(0)"
            )
            if object_id.startswith(f"{page_id}_"):
                fields += ",shares"
            body = graph.get(object_id, {"fields": fields})
            metrics.append(
                PostMetrics(
                    platform_id=text(body, "id") or object_id,
                    likes=number(body, "reactions", "summary", "total_count"),
                    replies=number(body, "comments", "summary", "total_count"),
                    reposts=number(body, "shares", "count"),
                )
            )
        return metrics

    def fetch_profile(self, handle_or_id: str) -> Profile:
        """A Page's public profile (Graph exposes no profiles of people)."""
        body = self._graph().get(
            handle_or_id.strip().lstrip("@"),
            {"fields": "id,name,username,about,location,followers_count"},
        )
        location = body.get("location")
        place = ""
        if isinstance(location, dict):
            place = ", ".join(
                part for part in (text(location, "city"), text(location, "country")) if part
            )
        followers = body.get("followers_count")
        return Profile(
            platform_id=text(body, "id"),
            handle=text(body, "username") or text(body, "id"),
            display_name=text(body, "name"),
            location=place,
            description=text(body, "about"),
            followers=followers if isinstance(followers, int) else None,
        )


class InstagramConnector(MetaConnector):
    """An Instagram professional account linked to a Facebook Page.

    Instagram fetches post images from a public URL (it cannot take bytes): set
    ``media_url`` to a callable that publishes an ``OutboundMedia`` at a public,
    short-lived URL and returns it. Images must be JPEG. Without it, posts with media
    are refused (``UNSUPPORTED``); Instagram has no text-only posts.
    """

    kind = "instagram"
    label = "Instagram"
    capabilities = frozenset(
        {
            Capability.VERIFY,
            Capability.PUBLISH,
            Capability.REPLY,
            Capability.MEDIA,
            Capability.FETCH_INBOUND,
            Capability.REFRESH,
            Capability.METRICS,
            Capability.PROFILES,
            Capability.HIDE,
        }
    )
    idempotent_publish = False
    max_text_length = 2200
    #: "Instagram accounts are limited to 100 API-published posts within a 24-hour
    #: moving period" (content-publishing guide; the media_publish reference still says
    #: 50; ``GET /{ig-user-id}/content_publishing_limit`` gives the live figure).
    posting_cap = PostingCap(posts=100, per_seconds=24 * 60 * 60)
    #: JPEG only, under 8 MiB (the Instagram error-code reference: "It should be less than
    #: 8 MiB"), one to ten (a carousel); fetched by Instagram from ``media_url``.
    media_rules = MediaRules(
        types={"image/jpeg": 8 * 1024 * 1024},
        max_items=MAX_CAROUSEL,
        required=True,
        on_replies=False,
        by_url=True,
    )
    oauth_scopes = INSTAGRAM_SCOPES
    container_poll_seconds: ClassVar[float] = 2.0

    def __init__(self, settings: ConnectionSettings, http: HttpClient) -> None:
        super().__init__(settings, http)
        self.sleep: Callable[[float], None] = time.sleep
        self._handle = self._credentials.get("ig_username") or settings.handle
        self._edges: dict[str, str] = {}

    @classmethod
    def _credentials_from_pages(
        cls, pages: list[dict[str, Any]], user_token: str, expires_at: str
    ) -> dict[str, str]:
        for page in pages:
            account = page.get("instagram_business_account")
            if isinstance(account, dict) and text(account, "id"):
                credentials = {
                    "access_token": user_token,
                    "ig_user_id": text(account, "id"),
                    "ig_username": text(account, "username"),
                    "page_id": text(page, "id"),
                }
                if expires_at:
                    credentials["expires_at"] = expires_at
                return credentials
        raise ConnectorError(
            "none of this user's Facebook Pages has an Instagram professional account",
            permanent=True,
            reason=ErrorReason.REJECTED,
        )

    def _ig_id(self) -> str:
        ig_id = self._credentials.get("ig_user_id") or self.settings.platform_account_id
        if not ig_id:
            raise self._missing("the Instagram account id")
        return ig_id

    def _own_handle(self) -> str:
        if not self._handle:
            self.verify()
        return self._handle

    def verify(self) -> AccountIdentity:
        body = self._graph().get(self._ig_id(), {"fields": "id,username,name"})
        ig_id = text(body, "id")
        if not ig_id:
            raise self._no_id("the account lookup")
        self._handle = text(body, "username")
        return AccountIdentity(
            platform_account_id=ig_id,
            handle=self._handle,
            display_name=text(body, "name") or self._handle,
            url=f"https://www.instagram.com/{self._handle}/",
            token_expires_at=self._token_expiry(),
        )

    # -- publishing -------------------------------------------------------------------

    def _reply_edge(self, object_id: str) -> str:
        """``comments`` when ``object_id`` is a media object, ``replies`` for a comment.

        Both are bare numeric ids; asking a comment for ``media_type`` is answered with
        code 100 ("nonexisting field"), which tells them apart without writing."""
        if object_id not in self._edges:
            try:
                body = self._graph().get(object_id, {"fields": "id,media_type"})
            except GraphError as exc:
                if exc.code != 100 or exc.subcode == 33:
                    raise
                self._edges[object_id] = "replies"
            else:
                self._edges[object_id] = "comments" if text(body, "media_type") else "replies"
        return self._edges[object_id]

    def publish(self, post: OutboundPost) -> PublishedRef:
        graph = self._graph()
        if post.reply_to_id:
            if post.media:
                raise ConnectorError(
                    "Instagram comments cannot carry media",
                    permanent=True,
                    reason=ErrorReason.UNSUPPORTED,
                )
            edge = self._reply_edge(post.reply_to_id)
            body = graph.post(f"{post.reply_to_id}/{edge}", data={"message": post.text})
            comment_id = text(body, "id")
            if not comment_id:
                raise ConnectorError(
                    "Instagram accepted the comment but answered without its id",
                    permanent=False,
                    reason=ErrorReason.BAD_RESPONSE,
                    outcome_unknown=True,
                )
            return PublishedRef(platform_id=comment_id, url="")
        if not post.media:
            raise ConnectorError(
                "Instagram posts need at least one image",
                permanent=True,
                reason=ErrorReason.REJECTED,
            )
        container = self._staging(lambda: self._container(graph, post), "media container")
        # Step two: from here on a lost answer may mean a published post.
        body = graph.post(f"{self._ig_id()}/media_publish", data={"creation_id": container})
        media_id = text(body, "id")
        if not media_id:
            raise ConnectorError(
                "Instagram published the container but answered without the media id",
                permanent=False,
                reason=ErrorReason.BAD_RESPONSE,
                outcome_unknown=True,
            )
        permalink, published_at = "", None
        try:
            details = graph.get(media_id, {"fields": "id,permalink,timestamp"})
            permalink = text(details, "permalink")
            published_at = parse_graph_time(details.get("timestamp"))
        except ConnectorError:
            pass  # the post exists; its link is a nicety
        return PublishedRef(platform_id=media_id, url=permalink, published_at=published_at)

    def _public_url(self, media: OutboundMedia) -> str:
        if media.mime_type.lower() != "image/jpeg":
            raise ConnectorError(
                f"Instagram publishes JPEG images only, not {media.mime_type}",
                permanent=True,
                reason=ErrorReason.UNSUPPORTED,
            )
        if self.media_url is None:
            raise ConnectorError(
                "Instagram needs a public URL for each image and none can be made here",
                permanent=True,
                reason=ErrorReason.UNSUPPORTED,
            )
        return self.media_url(media)

    def _container(self, graph: GraphClient, post: OutboundPost) -> str:
        """Step one: create the container (and carousel children), wait until ready."""
        ig_id = self._ig_id()
        if len(post.media) > MAX_CAROUSEL:
            raise ConnectorError(
                f"Instagram carousels hold at most {MAX_CAROUSEL} images",
                permanent=True,
                reason=ErrorReason.REJECTED,
            )
        if len(post.media) == 1:
            media = post.media[0]
            data = {"image_url": self._public_url(media), "caption": post.text}
            if media.alt_text:
                data["alt_text"] = media.alt_text
        else:
            children = []
            for media in post.media:
                child = {"image_url": self._public_url(media), "is_carousel_item": "true"}
                if media.alt_text:
                    child["alt_text"] = media.alt_text
                body = graph.post(f"{ig_id}/media", data=child)
                if not text(body, "id"):
                    raise self._no_id("the carousel item")
                children.append(text(body, "id"))
            data = {"media_type": "CAROUSEL", "children": ",".join(children), "caption": post.text}
        body = graph.post(f"{ig_id}/media", data=data)
        container = text(body, "id")
        if not container:
            raise self._no_id("the media container")
        for attempt in range(CONTAINER_POLLS):
            status = graph.get(container, {"fields": "id,status_code,status"})
            code = text(status, "status_code")
            if code in ("FINISHED", ""):
                return container
            if code in ("ERROR", "EXPIRED"):
                raise ConnectorError(
                    f"Instagram could not prepare the post ({code}: "
                    f"{text(status, 'status')[:200]})",
                    permanent=True,
                    reason=ErrorReason.REJECTED,
                )
            if code == "PUBLISHED":
                raise ConnectorError(
                    "Instagram container already published",
                    permanent=True,
                    reason=ErrorReason.REJECTED,
                )
            if attempt + 1 < CONTAINER_POLLS:
                self.sleep(self.container_poll_seconds)
        raise ConnectorError(
            "Instagram is still processing the media; try again later",
            permanent=False,
            reason=ErrorReason.SERVER,
        )

    def find_published(self, post: OutboundPost, since: datetime) -> PublishedRef | None:
        """Our media whose caption is ``post.text`` (or, for a reply, our comment on
        ``reply_to_id``) created at or after ``since``; oldest match first."""
        graph = self._graph()
        floor = since - FIND_SKEW
        matches: list[tuple[datetime, str, str]] = []
        if post.reply_to_id:
            handle = self._own_handle()
            edge = self._reply_edge(post.reply_to_id)
            pages = graph.pages(
                f"{post.reply_to_id}/{edge}",
                {"fields": "id,text,timestamp,username,from{id,username}", "limit": 50},
                FIND_PAGES,
            )
            for batch in pages:
                for comment in batch:
                    created = parse_graph_time(comment.get("timestamp"))
                    author = text(comment, "username") or text(comment.get("from"), "username")
                    if (
                        created is not None
                        and created >= floor
                        and author == handle
                        and _same_text(post.text, text(comment, "text"))
                    ):
                        matches.append((created, text(comment, "id"), ""))
        else:
            for batch in graph.pages(
                f"{self._ig_id()}/media",
                {"fields": "id,caption,timestamp,permalink", "limit": 50},
                FIND_PAGES,
            ):
                oldest: datetime | None = None
                for media in batch:
                    created = parse_graph_time(media.get("timestamp"))
                    if created is None:
                        continue
                    oldest = created if oldest is None else min(oldest, created)
                    if created >= floor and _same_text(post.text, text(media, "caption")):
                        matches.append((created, text(media, "id"), text(media, "permalink")))
                if oldest is not None and oldest < floor:
                    break
        if not matches:
            return None
        created, object_id, permalink = min(matches)
        return PublishedRef(platform_id=object_id, url=permalink, published_at=created)

    # -- inbound ----------------------------------------------------------------------

    def fetch_inbound(self, cursor: str, limit: int = 100) -> InboundPage:
        """Comments and replies on the 25 most recent media, and media in which the
        account is tagged (``/tags``), newer than ``cursor``; oldest first."""
        horizon = None
        if cursor:
            at = InboundCursor.parse(cursor).at
            horizon = at - OVERLAP if at else datetime.min.replace(tzinfo=UTC)
        return _page_of_new(cursor, self._inbound_candidates(horizon), limit)

    def _inbound_candidates(self, horizon: datetime | None) -> list[InboundItem]:
        graph = self._graph()
        ig_id = self._ig_id()
        handle = self._own_handle()
        items: list[InboundItem] = []
        body = graph.get(f"{ig_id}/media", {"fields": IG_MEDIA_FIELDS, "limit": RECENT_POSTS})
        for media in dicts(body.get("data")):
            media_id = text(media, "id")
            comments = media.get("comments")
            batch = dicts(comments.get("data")) if isinstance(comments, dict) else []
            paging = comments.get("paging") if isinstance(comments, dict) else None
            for _ in range(MAX_COMMENT_PAGES):
                for comment in batch:
                    replies = comment.get("replies")
                    for reply in [
                        comment,
                        *dicts(replies.get("data") if isinstance(replies, dict) else None),
                    ]:
                        if text(reply, "id") and self._author(reply) != handle:
                            items.append(self._comment_item(reply, media_id))
                following = next_page_params(paging)
                if following is None or horizon is None:
                    break
                # Instagram does not promise an order: read on while a page still
                # holds anything new.
                times = [parse_graph_time(c.get("timestamp")) for c in batch]
                if not any(t is not None and t > horizon for t in times):
                    break
                more = graph.get(
                    f"{media_id}/comments",
                    {
                        "fields": f"{IG_COMMENT_FIELDS},replies{{{IG_COMMENT_FIELDS}}}",
                        "limit": 50,
                        **following,
                    },
                )
                batch = dicts(more.get("data"))
                paging = more.get("paging")
        tags = graph.get(f"{ig_id}/tags", {"fields": IG_TAG_FIELDS, "limit": RECENT_POSTS})
        for media in dicts(tags.get("data")):
            if text(media, "id") and text(media, "username") != handle:
                items.append(self._tag_item(media))
        return items

    @staticmethod
    def _author(comment: Mapping[str, Any]) -> str:
        return text(comment, "username") or text(comment.get("from"), "username")

    def _comment_item(self, comment: dict[str, Any], media_id: str) -> InboundItem:
        payload = {key: value for key, value in comment.items() if key != "replies"}
        comment_id = text(comment, "id")
        return InboundItem(
            platform_id=comment_id,
            kind=InboundKind.COMMENT,
            author_id=text(comment.get("from"), "id"),
            author_handle=self._author(comment),
            author_display_name="",
            text=text(comment, "text"),
            created_at=parse_graph_time(comment.get("timestamp")) or datetime.now(UTC),
            raw=_raw(payload),
            reply_to_id=text(comment, "parent_id") or media_id,
            thread_root_id=media_id,
        )

    def _tag_item(self, media: dict[str, Any]) -> InboundItem:
        media_id = text(media, "id")
        kind = {"IMAGE": "image", "VIDEO": "video", "CAROUSEL_ALBUM": "image"}.get(
            text(media, "media_type"), "unknown"
        )
        url = text(media, "media_url")
        return InboundItem(
            platform_id=media_id,
            kind=InboundKind.MENTION,
            author_id="",
            author_handle=text(media, "username"),
            author_display_name="",
            text=text(media, "caption"),
            created_at=parse_graph_time(media.get("timestamp")) or datetime.now(UTC),
            raw=_raw(media),
            url=text(media, "permalink"),
            media=(MediaItem(url=url, kind=kind),) if url else (),
            thread_root_id=media_id,
        )

    def refresh_items(self, platform_ids: Sequence[str]) -> dict[str, InboundItem | None]:
        """Re-read comments (and tagged media); ``None`` for objects Graph says do not
        exist (code 100, subcode 33)."""
        graph = self._graph()
        result: dict[str, InboundItem | None] = {}
        for object_id in platform_ids:
            try:
                try:
                    body = graph.get(object_id, {"fields": f"{IG_COMMENT_FIELDS},media{{id}}"})
                except GraphError as exc:
                    if exc.code != 100 or exc.subcode == 33:
                        raise
                    result[object_id] = self._tag_item(
                        graph.get(object_id, {"fields": IG_TAG_FIELDS})
                    )
                    continue
            except ConnectorError as exc:
                if exc.reason is ErrorReason.NOT_FOUND:
                    result[object_id] = None
                    continue
                raise
            result[object_id] = self._comment_item(body, text(body.get("media"), "id"))
        return result

    def hide_inbound(self, platform_id: str, *, hidden: bool = True) -> None:
        """Hide a comment on the account's media: ``hide``. Its author still sees it.
        Media the account is tagged in is someone else's and cannot be hidden (Graph
        refuses it)."""
        self._set_flag(platform_id, "hide", hidden, "comment")

    def fetch_metrics(self, platform_ids: Sequence[str]) -> list[PostMetrics]:
        graph = self._graph()
        metrics: list[PostMetrics] = []
        for media_id in platform_ids:
            body = graph.get(media_id, {"fields": "id,like_count,comments_count"})
            metrics.append(
                PostMetrics(
                    platform_id=text(body, "id") or media_id,
                    likes=number(body, "like_count"),
                    replies=number(body, "comments_count"),
                )
            )
        return metrics

    def fetch_profile(self, handle_or_id: str) -> Profile:
        """The account itself (by id or username) from its own node; another
        professional account through ``business_discovery`` (by username)."""
        username = handle_or_id.strip().lstrip("@")
        own_id = self._ig_id()
        if username == own_id or (self._handle and username.lower() == self._handle.lower()):
            found: Any = self._graph().get(
                own_id, {"fields": "id,username,name,biography,followers_count"}
            )
        else:
            body = self._graph().get(
                own_id,
                {
                    "fields": f"business_discovery.username({username})"
                    "{id,username,name,biography,followers_count}"
                },
            )
            found = body.get("business_discovery")
        if not isinstance(found, dict):
            raise ConnectorError(
                f"Instagram has no professional account {username}",
                permanent=True,
                reason=ErrorReason.NOT_FOUND,
            )
        followers = found.get("followers_count")
        return Profile(
            platform_id=text(found, "id"),
            handle=text(found, "username"),
            display_name=text(found, "name"),
            description=text(found, "biography"),
            followers=followers if isinstance(followers, int) else None,
        )
