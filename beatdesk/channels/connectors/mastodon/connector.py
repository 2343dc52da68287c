"""The Mastodon connector: the REST API over ``beatdesk.core.http`` (no SDK).

An admin connects an account with the server's address and an access token made
in the account's *Preferences → Development* page (scopes ``read`` and ``write``);
there is no OAuth redirect. The token travels only in the ``Authorization`` header:
never in a URL, a log line or an error message.

Identifiers
    Mastodon ids are local to the server that hands them out: the same public
    status has a different id on every server that has seen it, and two servers
    can use the same id for different statuses. Every id this connector returns
    (statuses, accounts, ``platform_account_id``) is qualified with the account's
    server, ``<server>:<local id>`` (``mastodon.social:113456789012``), where
    ``<server>`` is the domain of the account's handle (``force@<server>``, fixed
    by ``verify``; the host of ``base_url`` before that). This keeps
    ``(agency, "mastodon", platform_id)`` unique when an agency has accounts on
    several servers, does not change when the account is reached through a proxy,
    and turns back into the local id without a request. (The status URI is
    globally unique too, but replying to, deleting or re-reading a status by URI
    costs a search request each.) Ids given to the connector may be qualified or
    bare; one qualified with another server is refused, since here it would name
    a different status.

Handles are ``user@domain`` (no leading ``@``), local accounts included, so they
mean the same person whichever of the agency's accounts saw them.

Publishing
    ``POST /api/v1/statuses`` with ``Idempotency-Key: <post key>``: Mastodon keeps a
    key for one hour per account and answers a repeat with the status it already
    made, so ``idempotent_publish`` holds within the hour. After that, or on a
    server that ignores the header, ``find_published`` looks the post up among the
    account's own recent statuses. A reply inherits the narrower of "public" and
    the visibility of the status it answers (a reply to a direct message stays
    direct: it must never be broadcast), and starts with an ``@mention`` of that
    status's author unless the text already has one, because Mastodon delivers a
    direct message only to the accounts it mentions and notifies an author of a
    reply only through a mention (every Mastodon app does the same).

Inbound
    ``GET /api/v1/notifications`` of types ``mention`` and ``quote`` (4.5+), with
    ``include_filtered=true`` so that messages held back by the account's
    notification policy (by default, private mentions from strangers since 4.3)
    still reach the desk. The cursor is the id of the newest notification already
    returned and pages forward with ``min_id``; Link headers are not followed (the
    next request goes to the configured server only, never to a URL the server
    names). A status whose visibility is ``direct`` is a direct message, one with
    ``in_reply_to_id`` a reply. The thread root is found by walking up the reply
    chain with the batch ``GET /api/v1/statuses?id[]=`` (4.3+), at most six extra
    requests per page; where the chain cannot be followed it is left empty.

Audience
    ``fetch_followers`` reads ``GET /api/v1/accounts/:id/followers`` of the account,
    ``fetch_engagers`` ``GET /api/v1/statuses/:id/favourited_by`` then
    ``/reblogged_by``, one page per call. These lists page by ``max_id`` taken from the
    ``Link`` header's ``next`` URL (the ids there are those of the follows or
    favourites, not of the accounts); only the parameter is kept, the request still
    goes to the configured server. Mastodon has no location field: ``location`` is the
    value of a profile field whose name means one ("Location", "Based in", "📍"...).

Limits
    Mastodon allows 300 requests per 5 minutes per account, 300 new statuses per 3
    hours (``RateLimiter::FAMILIES[:statuses]`` in Mastodon's
    ``app/lib/rate_limiter.rb``), 30 media uploads and 30 deletions per 30 minutes
    (docs.joinmastodon.org/api/rate-limits). Every response's ``X-RateLimit-*``
    headers update ``rate_limit``.
"""

from __future__ import annotations

import enum
import json
import logging
import mimetypes
import re
import time
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

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
from beatdesk.core.http import error_for_status, rate_limit_from_headers

if TYPE_CHECKING:
    from beatdesk.core.http import HttpClient

logger = logging.getLogger(__name__)

Json = dict[str, Any]

PLATFORM = "Mastodon"
#: Page size for lists: the default of most Mastodon list endpoints, under every maximum.
PAGE_SIZE = 40
#: Ids per ``GET /api/v1/statuses?id[]=`` request.
BATCH_SIZE = 20
#: Notification types that are messages to the account.
INBOUND_TYPES = ("mention", "quote")
#: Requests per round, and rounds, spent walking reply chains up to their roots.
ROOT_REQUESTS_PER_ROUND = 2
ROOT_ROUNDS = 3
#: ``find_published``: pages of the account's statuses to read, statuses to confirm
#: through ``/source``, and the allowance for the server's clock being behind ours.
RECONCILE_PAGES = 5
RECONCILE_SOURCE_CHECKS = 10
CLOCK_SKEW = timedelta(minutes=2)
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
#: Profile field names (compared case-insensitively, without a trailing colon) that
#: people use for where they are; a name with a round pushpin (📍) counts too.
LOCATION_FIELDS = frozenset(
    {"location", "based in", "where", "home", "lives in", "city", "town", "area"}
)
LOCATION_MARK = "\N{ROUND PUSHPIN}"
#: Account lists (followers, favourited_by, reblogged_by): default 40, at most 80.
ACCOUNTS_PAGE_MAX = 80
#: ``fetch_engagers`` reads who favourited a status, then who boosted it; its cursor
#: is ``<phase>:<max_id>``.
ENGAGER_PATHS = {"likes": "favourited_by", "reposts": "reblogged_by"}
#: Visibilities from widest to narrowest.
VISIBILITIES = ("public", "unlisted", "private", "direct")


class MastodonConnector(Connector):
    kind = "mastodon"
    label = "Mastodon"
    capabilities = frozenset(
        {
            Capability.VERIFY,
            Capability.PUBLISH,
            Capability.REPLY,
            Capability.MEDIA,
            Capability.FETCH_INBOUND,
            Capability.DIRECT_MESSAGES,
            Capability.REFRESH,
            Capability.DELETE,
            Capability.METRICS,
            Capability.PROFILES,
            Capability.AUDIENCE,
        }
    )
    idempotent_publish = True
    max_text_length = 500  # Mastodon's default; a server may allow more
    posting_cap = PostingCap(posts=300, per_seconds=3 * 60 * 60)
    #: Four attachments a status; the default size limits of Mastodon 4 (16 MiB images,
    #: 99 MiB videos: ``configuration.media_attachments`` of ``/api/v2/instance``). A
    #: server may set lower ones; its refusal then fails the post with its reason.
    media_rules = MediaRules(
        types={
            "image/jpeg": 16 * 1024 * 1024,
            "image/png": 16 * 1024 * 1024,
            "image/gif": 16 * 1024 * 1024,
            "video/mp4": 99 * 1024 * 1024,
        },
        max_items=4,
    )
    credential_fields = (("access_token", "Access token", True),)
    default_base_url = ""  # every force names its own server

    #: Waiting for the server to finish processing an upload (``202 Accepted``).
    media_poll_interval: ClassVar[float] = 1.0
    media_poll_attempts: ClassVar[int] = 60

    def __init__(self, settings: ConnectionSettings, http: HttpClient) -> None:
        super().__init__(settings, http)
        self._account_id = ""  # own local account id, once known
        self._batch_lookup: bool | None = None  # GET /api/v1/statuses?id[] (4.3+): unknown yet

    # ------------------------------------------------------------------ contract

    def verify(self) -> AccountIdentity:
        account = self._get_obj("/api/v1/accounts/verify_credentials")
        local_id = _text(account.get("id"))
        if not local_id:
            raise _bad_response("verify_credentials answered without an account id")
        domain = self._instance_domain()
        acct = _text(account.get("acct")) or _text(account.get("username"))
        self._account_id = local_id
        return AccountIdentity(
            platform_account_id=f"{domain}:{local_id}",
            handle=acct if "@" in acct else f"{acct}@{domain}",
            display_name=_text(account.get("display_name")) or acct,
            url=_text(account.get("url")),
        )

    def publish(self, post: OutboundPost) -> PublishedRef:
        text = post.text
        body: Json = {}
        visibility = "public"
        if post.reply_to_id:
            parent_id = self._local(post.reply_to_id, "the post replied to")
            parent = self._get_obj(f"/api/v1/statuses/{_segment(parent_id)}")
            visibility = _reply_visibility(_text(parent.get("visibility")))
            text = self._address_reply(text, parent)
            body["in_reply_to_id"] = parent_id
        media_ids = [self._upload(item) for item in post.media]
        body["status"] = text
        body["visibility"] = visibility
        if media_ids:
            body["media_ids"] = media_ids
        try:
            response = self._request(
                "POST", "/api/v1/statuses", json_body=body, headers={"Idempotency-Key": post.key}
            )
        except ConnectorError as error:
            if error.outcome_unknown or not _may_have_applied(error):
                raise
            raise ConnectorError(
                f"{error.message}; the post may have been created",
                permanent=False,
                reason=error.reason,
                retry_after=error.retry_after,
                outcome_unknown=True,
                status=error.status,
            ) from error
        status = self._obj(response, write=True)
        if not _text(status.get("id")):
            raise _bad_response("Mastodon accepted the post but sent no id", write=True)
        return self._ref(status)

    def find_published(self, post: OutboundPost, since: datetime) -> PublishedRef | None:
        account_id = self._own_account_id()
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        threshold = since - CLOCK_SKEW
        parent = self._local(post.reply_to_id, "the post replied to") if post.reply_to_id else ""
        wanted = _normalise(post.text)
        exact: list[Json] = []
        close: list[Json] = []
        max_id = ""
        for _ in range(RECONCILE_PAGES):
            params: dict[str, Any] = {"limit": PAGE_SIZE, "exclude_reblogs": "true"}
            if max_id:
                params["max_id"] = max_id
            page = self._get_list(f"/api/v1/accounts/{_segment(account_id)}/statuses", params)
            older = False
            for status in page:
                created = _parse_time(status.get("created_at"))
                if created is not None and created < threshold:
                    older = True
                    break
                if parent and _text(status.get("in_reply_to_id")) != parent:
                    continue
                if post.media and len(_list_of(status.get("media_attachments"))) != len(post.media):
                    continue
                verdict = _compare(wanted, html_to_text(_text(status.get("content"))))
                if verdict is _Match.EXACT:
                    exact.append(status)
                elif verdict is _Match.CLOSE:
                    close.append(status)
            max_id = _text(page[-1].get("id")) if page else ""
            if older or len(page) < PAGE_SIZE or not max_id:
                break
        if exact:
            return self._ref(exact[-1])  # newest first: the last is the copy published first
        # Rendering lost something (markup, spacing): compare the text as it was sent.
        for status in list(reversed(close))[:RECONCILE_SOURCE_CHECKS]:
            try:
                source = self._get_obj(f"/api/v1/statuses/{_segment(_text(status['id']))}/source")
            except ConnectorError as error:
                if error.reason is ErrorReason.NOT_FOUND:
                    continue
                raise
            if _compare(wanted, _text(source.get("text"))) is _Match.EXACT:
                return self._ref(status)
        return None

    def fetch_inbound(self, cursor: str, limit: int = 100) -> InboundPage:
        limit = max(1, limit)
        if not cursor:
            # Start now: no backlog, but remember where "now" is. "0" (before
            # everything) when there is nothing yet, so the first message is not lost.
            latest = self._get_list("/api/v1/notifications", self._inbound_params(1))
            top = _text(latest[0].get("id")) if latest else ""
            return InboundPage(items=(), cursor=top or "0")
        notes: list[Json] = []
        position = cursor
        more = False
        while len(notes) < limit:
            size = min(PAGE_SIZE, limit - len(notes))
            try:
                page = self._get_list(
                    "/api/v1/notifications", self._inbound_params(size, min_id=position)
                )
            except ConnectorError:
                if not notes:
                    raise
                more = True  # keep what was read; the next call meets the error again
                break
            newest = _text(page[0].get("id")) if page else ""
            if not newest or newest == position:
                break
            notes.extend(reversed(page))  # pages come newest first
            position = newest
            if len(page) < size:
                break
        else:
            more = True
        return InboundPage(items=self._inbound_items(notes), cursor=position, more=more)

    def refresh_items(self, platform_ids: Sequence[str]) -> dict[str, InboundItem | None]:
        """Ids of another server are left out of the answer (nothing is known of them)."""
        wanted = self._locals(platform_ids)
        current = self._statuses(list(wanted.values()), confirm_missing=True)
        roots = self._thread_roots([s for s in current.values() if s is not None])
        result: dict[str, InboundItem | None] = {}
        for platform_id, local in wanted.items():
            status = current.get(local)
            result[platform_id] = None if status is None else self._item(status, status, "", roots)
        return result

    def delete(self, platform_id: str) -> None:
        local = self._local(platform_id, "post")
        try:
            self._request("DELETE", f"/api/v1/statuses/{_segment(local)}")
        except ConnectorError as error:
            if error.reason is not ErrorReason.NOT_FOUND:
                raise
            logger.info("Mastodon status %s was already gone", platform_id)

    def fetch_metrics(self, platform_ids: Sequence[str]) -> list[PostMetrics]:
        """Posts deleted, hidden or of another server are left out of the answer."""
        wanted = self._locals(platform_ids)
        current = self._statuses(list(wanted.values()), confirm_missing=False)
        metrics: list[PostMetrics] = []
        for platform_id, local in wanted.items():
            status = current.get(local)
            if status is None:
                continue
            metrics.append(
                PostMetrics(
                    platform_id=platform_id,
                    likes=_int(status.get("favourites_count")),
                    reposts=_int(status.get("reblogs_count")),
                    replies=_int(status.get("replies_count")),
                    quotes=_int(status.get("quotes_count")),
                )
            )
        return metrics

    def fetch_profile(self, handle_or_id: str) -> Profile:
        value = handle_or_id.strip().lstrip("@")
        if not value:
            raise ConnectorError(
                "no Mastodon account named", permanent=True, reason=ErrorReason.NOT_FOUND
            )
        if "@" not in value and (":" in value or value.isdigit()):
            account = self._get_obj(f"/api/v1/accounts/{_segment(self._local(value, 'account'))}")
        else:
            acct = value
            for alias in self._aliases():
                if acct.lower().endswith("@" + alias):
                    acct = acct[: -len(alias) - 1]
                    break
            account = self._get_obj("/api/v1/accounts/lookup", params={"acct": acct})
        if not _text(account.get("id")):
            raise _bad_response("Mastodon answered with an account without an id")
        return self._profile(account)

    def fetch_followers(self, cursor: str = "", limit: int = 100) -> ProfilePage:
        account_id = self._own_account_id()
        return self._account_page(
            f"/api/v1/accounts/{_segment(account_id)}/followers", cursor, limit
        )

    def fetch_engagers(self, platform_id: str, cursor: str = "", limit: int = 100) -> ProfilePage:
        """Who favourited the status, then who boosted it (``cursor`` says which, and where)."""
        local = self._local(platform_id, "post")
        return self._likes_then_reposts(
            cursor,
            lambda phase, max_id: self._account_page(
                f"/api/v1/statuses/{_segment(local)}/{ENGAGER_PATHS[phase]}", max_id, limit
            ),
        )

    def _account_page(self, path: str, max_id: str, limit: int) -> ProfilePage:
        """One page of an account list; the cursor is the ``max_id`` of the ``Link``
        header's next page ("" when there is none)."""
        params: dict[str, Any] = {"limit": max(1, min(limit, ACCOUNTS_PAGE_MAX))}
        if max_id:
            params["max_id"] = max_id
        response = self._request("GET", path, params=params)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, list):
            raise _bad_response(f"Mastodon answered {response.status_code} with no JSON list")
        profiles = [self._profile(a) for a in _list_of(body) if _text(a.get("id"))]
        following = _next_max_id(response)
        if not body or following == max_id:
            following = ""
        return ProfilePage(profiles=profiles, cursor=following)

    def _profile(self, account: Json) -> Profile:
        followers = account.get("followers_count")
        return Profile(
            platform_id=self._qualify(_text(account.get("id"))),
            handle=self._full_acct(_text(account.get("acct"))),
            display_name=_text(account.get("display_name")),
            location=_location(account),
            description=html_to_text(_text(account.get("note"))),
            followers=followers if isinstance(followers, int) else None,
        )

    # ------------------------------------------------------------------ inbound

    def _inbound_params(self, size: int, *, min_id: str = "") -> dict[str, Any]:
        params: dict[str, Any] = {
            "types[]": list(INBOUND_TYPES),
            "include_filtered": "true",
            "limit": size,
        }
        if min_id:
            params["min_id"] = min_id
        return params

    def _inbound_items(self, notes: Sequence[Json]) -> list[InboundItem]:
        usable = [
            (note, note["status"])
            for note in notes
            if note.get("type") in INBOUND_TYPES and isinstance(note.get("status"), dict)
        ]
        roots = self._thread_roots([status for _, status in usable])
        items: list[InboundItem] = []
        seen: set[str] = set()
        for note, status in usable:
            item = self._item(status, note, _text(note.get("type")), roots)
            if item.platform_id not in seen:  # a quote that also mentions us: one message
                seen.add(item.platform_id)
                items.append(item)
        return items

    def _item(
        self, status: Json, raw: Json, note_type: str, roots: Mapping[str, str]
    ) -> InboundItem:
        account = status.get("account")
        author: Json = account if isinstance(account, dict) else {}
        local = _text(status.get("id"))
        body = html_to_text(_text(status.get("content")))
        warning = _text(status.get("spoiler_text")).strip()
        text = f"CW: {warning}\n\n{body}".strip() if warning else body
        parent = _text(status.get("in_reply_to_id"))
        root = roots.get(local, "")
        author_id = _text(author.get("id"))
        created = (
            _parse_time(status.get("created_at"))
            or _parse_time(raw.get("created_at"))
            or datetime.now(UTC)
        )
        return InboundItem(
            platform_id=self._qualify(local),
            kind=self._kind(status, note_type),
            author_id=self._qualify(author_id) if author_id else "",
            author_handle=self._full_acct(_text(author.get("acct"))),
            author_display_name=_text(author.get("display_name")) or _text(author.get("username")),
            text=text,
            created_at=created,
            raw=json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode(),
            author_location=_location(author),
            url=_text(status.get("url")) or _text(status.get("uri")),
            media=tuple(_media(m) for m in _list_of(status.get("media_attachments"))),
            reply_to_id=self._qualify(parent) if parent else "",
            thread_root_id=self._qualify(root) if root else "",
            edited_at=_parse_time(status.get("edited_at")),
        )

    def _kind(self, status: Json, note_type: str) -> InboundKind:
        if status.get("visibility") == "direct":
            return InboundKind.DIRECT
        if note_type == "quote":
            return InboundKind.QUOTE
        if status.get("in_reply_to_id"):
            return InboundKind.REPLY
        if not note_type and self._quotes_us(status):
            return InboundKind.QUOTE
        return InboundKind.MENTION

    def _quotes_us(self, status: Json) -> bool:
        quote_info = status.get("quote")
        quoted = quote_info.get("quoted_status") if isinstance(quote_info, dict) else None
        if not isinstance(quoted, dict) or not isinstance(quoted.get("account"), dict):
            return False
        own = self._account_id or self._maybe_local(self.settings.platform_account_id)
        return bool(own) and _text(quoted["account"].get("id")) == own

    def _thread_roots(self, statuses: Sequence[Json]) -> dict[str, str]:
        """Root status id (local) of each reply among ``statuses``, where it can be found.

        Walks up ``in_reply_to_id`` through the statuses at hand first, then asks
        the server for the missing links in batches, spending a few requests at
        most; a chain through a deleted or hidden status stays unresolved.
        """
        gone = "\x00"
        parents: dict[str, str] = {}
        for status in statuses:
            local = _text(status.get("id"))
            if local:
                parents[local] = _text(status.get("in_reply_to_id"))
        replies = [local for local, parent in parents.items() if parent]
        roots: dict[str, str] = {}

        def climb(start: str) -> tuple[str, str]:
            """(root, "") when resolved ("" root: unknown), or ("", id to look up)."""
            current, seen = parents[start], {start}
            while current not in seen:
                seen.add(current)
                if current not in parents:
                    return "", current
                above = parents[current]
                if above == gone:
                    return "", ""
                if not above:
                    return current, ""
                current = above
            return "", ""  # a loop: give up

        for round_number in range(ROOT_ROUNDS + 1):
            missing: set[str] = set()
            for local in replies:
                if local in roots:
                    continue
                root, need = climb(local)
                if need:
                    missing.add(need)
                else:
                    roots[local] = root
            if not missing or round_number == ROOT_ROUNDS:
                break
            try:
                found = self._statuses(
                    sorted(missing), confirm_missing=False, max_requests=ROOT_REQUESTS_PER_ROUND
                )
            except ConnectorError as error:
                logger.info("Mastodon thread roots left unresolved: %s", error.message)
                break
            if not found:
                break
            for local, fetched in found.items():
                parents[local] = gone if fetched is None else _text(fetched.get("in_reply_to_id"))
        return {local: root for local, root in roots.items() if root}

    # ------------------------------------------------------------------ statuses

    def _statuses(
        self, local_ids: Sequence[str], *, confirm_missing: bool, max_requests: int | None = None
    ) -> dict[str, Json | None]:
        """Statuses by local id, ``None`` for those gone (or no longer visible to us).

        Uses the batch lookup where the server has it (4.3+). A batch answers only
        with the statuses it can show, so with ``confirm_missing`` each absent one is
        asked for alone before it is called gone. With ``max_requests``, ids left
        unread are missing from the result.
        """
        wanted = list(dict.fromkeys(i for i in local_ids if i))
        found: dict[str, Json | None] = {}
        used = 0
        for start in range(0, len(wanted), BATCH_SIZE):
            chunk = wanted[start : start + BATCH_SIZE]
            if self._batch_lookup is not False:
                if max_requests is not None and used >= max_requests:
                    break
                used += 1
                try:
                    page = self._get_list("/api/v1/statuses", {"id[]": chunk})
                except ConnectorError as error:
                    if error.status != 404:
                        raise
                    self._batch_lookup = False  # before 4.3: one request per status
                else:
                    self._batch_lookup = True
                    for status in page:
                        if _text(status.get("id")) in chunk:
                            found[_text(status["id"])] = status
                    chunk = [i for i in chunk if i not in found]
                    if not confirm_missing:
                        found.update(dict.fromkeys(chunk))
                        continue
            for local in chunk:
                if max_requests is not None and used >= max_requests:
                    return found
                used += 1
                found[local] = self._status_or_none(local)
        return found

    def _status_or_none(self, local: str) -> Json | None:
        try:
            return self._get_obj(f"/api/v1/statuses/{_segment(local)}")
        except ConnectorError as error:
            if error.reason is ErrorReason.NOT_FOUND:
                return None
            raise

    def _ref(self, status: Json) -> PublishedRef:
        return PublishedRef(
            platform_id=self._qualify(_text(status.get("id"))),
            url=_text(status.get("url")) or _text(status.get("uri")),
            published_at=_parse_time(status.get("created_at")),
        )

    def _address_reply(self, text: str, parent: Json) -> str:
        author = parent.get("account")
        if not isinstance(author, dict):
            return text
        acct = _text(author.get("acct"))
        if not acct or self._is_self(author) or _mentions(text, acct):
            return text
        return f"@{acct} {text}"

    def _is_self(self, account: Json) -> bool:
        own = self._account_id or self._maybe_local(self.settings.platform_account_id)
        if own:
            return _text(account.get("id")) == own
        if self.settings.handle:
            return self._full_acct(_text(account.get("acct"))).lower() == (
                self.settings.handle.lstrip("@").lower()
            )
        return _text(account.get("id")) == self._own_account_id()

    def _upload(self, media: OutboundMedia) -> str:
        extension = mimetypes.guess_extension(media.mime_type) or ".bin"
        files = {"file": (f"upload{extension}", media.data, media.mime_type)}
        data = {"description": media.alt_text} if media.alt_text else None
        try:
            response = self._request("POST", "/api/v2/media", data=data, files=files)
            attachment = self._obj(response)
        except ConnectorError as error:
            if not error.outcome_unknown:
                raise
            # An orphan upload is harmless (the server discards it): no post exists yet.
            raise ConnectorError(
                f"{error.message} (uploading media; no post was made)",
                permanent=error.permanent,
                reason=error.reason,
                retry_after=error.retry_after,
                status=error.status,
            ) from error
        media_id = _text(attachment.get("id"))
        if not media_id:
            raise _bad_response("Mastodon stored the media but sent no id")
        if response.status_code == 202 or not attachment.get("url"):
            self._wait_for_media(media_id)
        return media_id

    def _wait_for_media(self, media_id: str) -> None:
        for _ in range(self.media_poll_attempts):
            time.sleep(self.media_poll_interval)
            response = self._request("GET", f"/api/v1/media/{_segment(media_id)}")
            if response.status_code == 200 and self._obj(response).get("url"):
                return
        raise ConnectorError(
            "Mastodon is still processing the media; try again later",
            permanent=False,
            reason=ErrorReason.SERVER,
        )

    # ------------------------------------------------------------------ identity

    def _instance_domain(self) -> str:
        """The server's own domain (``LOCAL_DOMAIN``), which handles are made of."""
        try:
            domain = _text(self._get_obj("/api/v2/instance").get("domain"))
        except ConnectorError as error:
            if error.reason is not ErrorReason.NOT_FOUND:
                raise
            domain = _text(self._get_obj("/api/v1/instance").get("uri"))  # before 4.0
        domain = domain.strip().lower().removeprefix("https://").removeprefix("http://")
        domain = domain.rstrip("/")
        if not domain or "/" in domain or any(c.isspace() for c in domain):
            raise _bad_response("Mastodon did not say which domain it serves")
        return domain

    def _own_account_id(self) -> str:
        if not self._account_id:
            if self.settings.platform_account_id:
                self._account_id = self._local(self.settings.platform_account_id, "account")
            else:
                account = self._get_obj("/api/v1/accounts/verify_credentials")
                self._account_id = _text(account.get("id"))
                if not self._account_id:
                    raise _bad_response("verify_credentials answered without an account id")
        return self._account_id

    def _origin(self) -> str:
        raw = (self.settings.base_url or "").strip()
        if "://" not in raw and raw:
            raw = "https://" + raw
        try:
            url = httpx.URL(raw)
        except httpx.InvalidURL:
            url = httpx.URL("")
        if url.scheme not in {"https", "http"} or not url.host:
            raise ConnectorError(
                "the Mastodon server address is missing or not a web address",
                permanent=True,
                reason=ErrorReason.AUTH_EXPIRED,
            )
        if url.scheme == "http" and url.host not in LOOPBACK_HOSTS:
            raise ConnectorError(
                "the Mastodon server address must start with https:// (the token would "
                "travel unencrypted)",
                permanent=True,
                reason=ErrorReason.AUTH_EXPIRED,
            )
        return f"{url.scheme}://{url.netloc.decode('ascii')}"

    def _server_key(self) -> str:
        _, at, domain = self.settings.handle.rpartition("@")
        if at and domain:
            return domain.lower()
        return httpx.URL(self._origin()).netloc.decode("ascii")

    def _aliases(self) -> set[str]:
        origin = httpx.URL(self._origin())
        return {self._server_key(), origin.netloc.decode("ascii"), origin.host}

    def _qualify(self, local: str) -> str:
        return f"{self._server_key()}:{local}"

    def _local(self, platform_id: str, what: str) -> str:
        value = platform_id.strip()
        server, colon, local = value.rpartition(":")
        if colon and server.lower() not in self._aliases():
            raise ConnectorError(
                f"{what} ({value}) belongs to another Mastodon server",
                permanent=True,
                reason=ErrorReason.REJECTED,
            )
        local = local if colon else value
        if not local:
            raise ConnectorError(
                f"{what} has no Mastodon id", permanent=True, reason=ErrorReason.NOT_FOUND
            )
        return local

    def _locals(self, platform_ids: Sequence[str]) -> dict[str, str]:
        """Local ids by the ids given, leaving out those of another server."""
        wanted: dict[str, str] = {}
        for platform_id in platform_ids:
            try:
                wanted[platform_id] = self._local(platform_id, "status")
            except ConnectorError:
                logger.warning("skipping %s: not an id of this Mastodon server", platform_id)
        return wanted

    def _maybe_local(self, platform_id: str) -> str:
        if not platform_id:
            return ""
        try:
            return self._local(platform_id, "account")
        except ConnectorError:
            return ""

    def _full_acct(self, acct: str) -> str:
        acct = acct.lstrip("@")
        if not acct or "@" in acct:
            return acct
        return f"{acct}@{self._server_key()}"

    # ------------------------------------------------------------------ HTTP

    def _token(self) -> str:
        token = (self.settings.credentials.get("access_token") or "").strip()
        if not token:
            raise ConnectorError(
                "no Mastodon access token is stored for this account",
                permanent=True,
                reason=ErrorReason.AUTH_EXPIRED,
            )
        return token

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = {"Accept": "application/json", "Authorization": f"Bearer {self._token()}"}
        all_headers.update(headers or {})
        response = self.http.request(
            method,
            self._origin() + path,
            headers=all_headers,
            params=params,
            json=json_body,
            data=data,
            files=files,
        )
        state = rate_limit_from_headers(response.headers)
        if state is not None:
            self.rate_limit = state
        error = self._error_for(response)
        if error is not None:
            raise error
        return response

    def _error_for(self, response: httpx.Response) -> ConnectorError | None:
        status = response.status_code
        if 300 <= status < 400:
            return ConnectorError(
                f"{PLATFORM} redirected the request ({status}): check the server address "
                "(it may have moved)",
                permanent=True,
                reason=ErrorReason.BAD_RESPONSE,
                status=status,
            )
        error = error_for_status(response, PLATFORM)
        if error is None:
            return None
        detail = self._detail(response)
        reason = error.reason
        if status == 401:
            revoked = "revoked" in detail.lower()
            reason = ErrorReason.AUTH_REVOKED if revoked else ErrorReason.AUTH_EXPIRED
        elif status == 403 and any(
            phrase in detail.lower() for phrase in ("not allowed", "may not")
        ):
            reason = ErrorReason.REJECTED  # this request is refused, not the account
        elif status == 410:
            reason = ErrorReason.NOT_FOUND
        return ConnectorError(
            f"{error.message}: {detail}" if detail else error.message,
            permanent=error.permanent,
            reason=reason,
            retry_after=error.retry_after,
            status=status,
        )

    def _detail(self, response: httpx.Response) -> str:
        """The server's own words from an error body, safe to show and store."""
        try:
            body = response.json()
        except ValueError:
            return ""
        if not isinstance(body, dict) or not isinstance(body.get("error"), str):
            return ""
        detail = " ".join(body["error"].split())
        token = (self.settings.credentials.get("access_token") or "").strip()
        if token:
            detail = detail.replace(token, "[redacted]")
        return detail[:200]

    def _obj(self, response: httpx.Response, *, write: bool = False) -> Json:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _bad_response(
                f"Mastodon answered {response.status_code} with no JSON object", write=write
            )
        return body

    def _get_obj(self, path: str, params: Mapping[str, Any] | None = None) -> Json:
        return self._obj(self._request("GET", path, params=params))

    def _get_list(self, path: str, params: Mapping[str, Any] | None = None) -> list[Json]:
        response = self._request("GET", path, params=params)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, list):
            raise _bad_response(f"Mastodon answered {response.status_code} with no JSON list")
        return [entry for entry in body if isinstance(entry, dict)]


# ---------------------------------------------------------------------- text


class _HtmlText(HTMLParser):
    """Collects the text of status HTML: paragraphs as blank lines, ``<br>`` as a newline."""

    BLOCKS = frozenset(
        {"p", "div", "blockquote", "pre", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6"}
    )
    HIDDEN = frozenset({"script", "style", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._owed = 0  # newlines to write before the next text
        self._pre = 0
        self._hidden = 0

    def _write(self, text: str) -> None:
        if self._owed and self.parts:
            self.parts.append("\n" * self._owed)
        self._owed = 0
        self.parts.append(text)

    def _owe(self, newlines: int) -> None:
        self._owed = max(self._owed, newlines)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self._write("\n")
        elif tag in self.BLOCKS:
            self._owe(2)
            if tag == "pre":
                self._pre += 1
        elif tag in {"li", "tr"}:
            self._owe(1)
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt and not self._hidden:
                self._write(alt)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self.BLOCKS:
            self._owe(2)
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
        elif tag in {"li", "tr"}:
            self._owe(1)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if not self._pre:
            data = re.sub(r"\s+", " ", data)
            if not data.strip() and (self._owed or not self.parts):
                return
        self._write(data)


def html_to_text(content: str) -> str:
    """Plain text of Mastodon status HTML.

    Tags are dropped (a link keeps its text, the whole URL included: Mastodon hides
    part of long URLs in ``invisible`` spans, which are kept), entities are
    unescaped, paragraphs become blank lines and ``<br>`` a line break.
    """
    if not content:
        return ""
    parser = _HtmlText()
    parser.feed(content)
    parser.close()
    lines = [line.strip(" \t") for line in "".join(parser.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _Match(enum.Enum):
    EXACT = "exact"
    CLOSE = "close"  # the same words and digits: worth checking the source text
    NONE = "none"


_LEADING_MENTIONS = re.compile(r"^(?:@[\w.-]+(?:@[\w.-]+)?\s+)+")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _skeleton(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _compare(wanted: str, candidate_text: str) -> _Match:
    """How ``candidate_text`` compares with ``wanted`` (normalised), allowing for the
    ``@mention`` a reply was given."""
    candidate = _normalise(candidate_text)
    variants = [candidate]
    stripped = _LEADING_MENTIONS.sub("", candidate, count=1)
    if stripped != candidate:
        variants.append(stripped)
    if wanted in variants:
        return _Match.EXACT
    key = _skeleton(wanted)
    if any(_skeleton(v) == key for v in variants):
        return _Match.CLOSE
    return _Match.NONE


def _mentions(text: str, acct: str) -> bool:
    pattern = r"(?<![\w@])@" + re.escape(acct) + r"(?![\w-]|\.[\w-])"
    return re.search(pattern, text, flags=re.IGNORECASE) is not None


# ---------------------------------------------------------------------- helpers


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _list_of(value: Any) -> list[Json]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _segment(local: str) -> str:
    return quote(local, safe="")


def _media(attachment: Json) -> MediaItem:
    return MediaItem(
        url=_text(attachment.get("url"))
        or _text(attachment.get("remote_url"))
        or _text(attachment.get("preview_url")),
        kind=_text(attachment.get("type")) or "unknown",
        alt_text=_text(attachment.get("description")),
    )


def _location(account: Json) -> str:
    """A "Location"-like profile field, if the person filled one in (Mastodon has no
    location of its own)."""
    for entry in _list_of(account.get("fields")):
        name = _text(entry.get("name"))
        key = " ".join(name.casefold().split()).rstrip(":").strip()
        if key in LOCATION_FIELDS or LOCATION_MARK in name:
            value = html_to_text(_text(entry.get("value")))
            if value:
                return " ".join(value.split())[:200]
    return ""


def _next_max_id(response: httpx.Response) -> str:
    """``max_id`` of the ``Link`` header's ``next`` URL ("" when there is no next page).
    Only the parameter is used: requests never go to a URL the server names."""
    url = response.links.get("next", {}).get("url", "")
    if not url:
        return ""
    try:
        return httpx.URL(url).params.get("max_id", "") or ""
    except httpx.InvalidURL:
        return ""


def _reply_visibility(parent: str) -> str:
    """The narrower of "public" and the visibility of the status answered."""
    return parent if parent in VISIBILITIES else "public"


def _may_have_applied(error: ConnectorError) -> bool:
    """A 5xx on a write other than 503 may come after the server made the post
    (a gateway timing out while Mastodon works on)."""
    return error.status is not None and error.status >= 500 and error.status != 503


def _bad_response(message: str, *, write: bool = False) -> ConnectorError:
    return ConnectorError(
        message, permanent=False, reason=ErrorReason.BAD_RESPONSE, outcome_unknown=write
    )
