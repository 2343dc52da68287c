"""Inbound: platform pages → stored messages, exactly once, never lost.

The whole guarantee rests on one transaction per page: the new messages, their
revisions and the account's new cursor commit together. A worker killed before the
commit leaves the old cursor, so the same page is fetched again and the unique key
(agency, platform, platform id) absorbs any overlap; killed after the commit, the
next fetch starts after the page. Either way nothing is lost or duplicated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from beatdesk.audit.models import PersonalDataCategory
from beatdesk.audit.record import record_event

from .contract import ConnectorError, InboundItem, InboundKind, InboundPage
from .health import SYSTEM, note_failure, note_success
from .models import ConnectedAccount, InboundMessage, InboundRevision
from .runtime import open_connector

logger = logging.getLogger("beatdesk.channels")

MAX_PAGES_PER_POLL = 20
MAX_BACKOFF = timedelta(minutes=15)

#: Called after commit with the ids of newly stored messages (the inbox triages them).
NEW_MESSAGE_LISTENERS: list[Callable[[list[int]], None]] = []


@dataclass
class IngestResult:
    new: int = 0
    duplicates: int = 0
    edited: int = 0
    deleted: int = 0

    def add(self, other: IngestResult) -> None:
        self.new += other.new
        self.duplicates += other.duplicates
        self.edited += other.edited
        self.deleted += other.deleted


class CursorMoved(RuntimeError):
    """Another worker advanced this account's cursor first; this page is dropped."""


def _text(value: str, limit: int | None = None) -> str:
    """Platform text as a database text column can hold it: PostgreSQL refuses NUL, and
    one such character must not stop a whole page of messages from being stored (the
    raw payload keeps the exact bytes)."""
    cleaned = value.replace("\x00", "\ufffd")
    return cleaned[:limit] if limit is not None else cleaned


def _message_from(account: ConnectedAccount, item: InboundItem) -> InboundMessage:
    return InboundMessage(
        agency_id=account.agency_id,
        account=account,
        platform=account.kind,
        platform_id=item.platform_id,
        kind=item.kind.value,
        url=_text(item.url, 500),
        author_id=_text(item.author_id, 200),
        author_handle=_text(item.author_handle, 200),
        author_display_name=_text(item.author_display_name, 200),
        author_location=_text(item.author_location, 200),
        text=_text(item.text),
        media=[
            {"url": _text(m.url), "kind": m.kind, "alt_text": _text(m.alt_text)} for m in item.media
        ],
        reply_to_id=_text(item.reply_to_id, 300),
        thread_root_id=_text(item.thread_root_id, 300),
        created_at=item.created_at,
        raw_payload=item.raw,
        edited_at=item.edited_at,
        deleted_on_platform_at=timezone.now() if item.deleted else None,
        geo_lat=item.geo[0] if item.geo else None,
        geo_lon=item.geo[1] if item.geo else None,
    )


def store_items(
    account: ConnectedAccount,
    items: Sequence[InboundItem],
    *,
    expected_cursor: str | None = None,
    new_cursor: str | None = None,
) -> IngestResult:
    """Store a page of items (and optionally move the cursor) in one transaction.

    ``expected_cursor`` guards against two workers polling one account: the page is
    stored only if the account's cursor is still the one the page was fetched from.
    """
    result = IngestResult()
    new_ids: list[int] = []
    with transaction.atomic():
        locked = ConnectedAccount.objects.select_for_update().get(pk=account.pk)
        if expected_cursor is not None and locked.inbound_cursor != expected_cursor:
            raise CursorMoved(f"cursor of account {account.pk} moved")
        by_id: dict[str, InboundItem] = {}
        for item in items:
            by_id[item.platform_id] = item  # the last state of an item in a page wins
        existing = {
            m.platform_id: m
            for m in InboundMessage.objects.filter(
                agency_id=account.agency_id,
                platform=account.kind,
                platform_id__in=list(by_id),
            )
        }
        fresh = [_message_from(account, item) for pid, item in by_id.items() if pid not in existing]
        if fresh:
            InboundMessage.objects.bulk_create(fresh, ignore_conflicts=True)
            stored = dict(
                InboundMessage.objects.filter(
                    agency_id=account.agency_id,
                    platform=account.kind,
                    platform_id__in=[m.platform_id for m in fresh],
                ).values_list("platform_id", "id")
            )
            new_ids = [stored[m.platform_id] for m in fresh if m.platform_id in stored]
            result.new = len(new_ids)
        result.duplicates = len(items) - result.new
        for pid, message in existing.items():
            change = _record_change(message, by_id[pid])
            if change == InboundRevision.Kind.EDIT:
                result.edited += 1
            elif change == InboundRevision.Kind.DELETE:
                result.deleted += 1
        if new_cursor is not None:
            ConnectedAccount.objects.filter(pk=account.pk).update(inbound_cursor=new_cursor)
            account.inbound_cursor = new_cursor
        if result.new or result.edited or result.deleted:
            record_event(
                event_type="channel.ingested",
                actor_label=SYSTEM,
                agency=account.agency,
                target=account,
                summary=(
                    f"{result.new} new, {result.edited} edited, {result.deleted} deleted "
                    f"messages from {account}"
                ),
                data={
                    "new": result.new,
                    "edited": result.edited,
                    "deleted": result.deleted,
                    "first_id": min(new_ids) if new_ids else None,
                    "last_id": max(new_ids) if new_ids else None,
                },
                personal_data=PersonalDataCategory.COLLECTION,
            )
        if new_ids and NEW_MESSAGE_LISTENERS:
            ids = list(new_ids)
            for listener in NEW_MESSAGE_LISTENERS:
                transaction.on_commit(partial(listener, ids))
    return result


def _record_change(message: InboundMessage, item: InboundItem) -> str | None:
    """Keep the original, record an edit or deletion seen on the platform."""
    if item.deleted:
        if message.deleted_on_platform_at:
            return None
        kind = InboundRevision.Kind.DELETE
    elif _text(item.text) != message.text:
        kind = InboundRevision.Kind.EDIT
    else:
        return None
    if not message.revisions.exists():
        InboundRevision.objects.create(
            message=message,
            kind=InboundRevision.Kind.ORIGINAL,
            text=message.text,
            raw_payload=bytes(message.raw_payload),
            recorded_at=message.received_at,
        )
    InboundRevision.objects.create(
        message=message,
        kind=kind,
        text="" if item.deleted else _text(item.text),
        raw_payload=item.raw,
    )
    if kind == InboundRevision.Kind.DELETE:
        message.deleted_on_platform_at = timezone.now()
        message.save(update_fields=["deleted_on_platform_at"])
    else:
        message.text = _text(item.text)
        message.edited_at = item.edited_at or timezone.now()
        message.save(update_fields=["text", "edited_at"])
    return kind


def ingest_page(account: ConnectedAccount, cursor: str, page: InboundPage) -> IngestResult:
    return store_items(account, page.items, expected_cursor=cursor, new_cursor=page.cursor)


def _backoff(account: ConnectedAccount) -> timedelta:
    seconds = account.poll_interval_seconds * (2 ** min(account.consecutive_failures, 8))
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


def poll_account(account_id: int) -> IngestResult:
    """Fetch everything new for one account and store it. Never raises ConnectorError."""
    account = ConnectedAccount.objects.select_related("agency").get(pk=account_id)
    result = IngestResult()
    now = timezone.now()
    if not account.is_live or (account.paused_until and account.paused_until > now):
        return result
    try:
        with open_connector(account) as connector:
            for _ in range(MAX_PAGES_PER_POLL):
                cursor = account.inbound_cursor
                page = connector.fetch_inbound(cursor)
                result.add(ingest_page(account, cursor, page))
                note_success(account, connector)
                if not page.more:
                    break
    except ConnectorError as error:
        logger.info("poll of account %s failed: %r", account.pk, error)
        note_failure(account, error)
        next_poll = timezone.now() + _backoff(account)
        if account.paused_until and account.paused_until > next_poll:
            next_poll = account.paused_until
    except CursorMoved:
        next_poll = timezone.now()
    else:
        next_poll = timezone.now() + timedelta(seconds=account.poll_interval_seconds)
    ConnectedAccount.objects.filter(pk=account.pk).update(next_poll_at=next_poll)
    return result


def refresh_recent(account_id: int, *, within: timedelta = timedelta(days=2)) -> IngestResult:
    """Re-read recent messages so platform edits and deletions are recorded."""
    account = ConnectedAccount.objects.select_related("agency").get(pk=account_id)
    if not account.is_live:
        return IngestResult()
    recent = list(
        InboundMessage.objects.filter(
            account=account,
            received_at__gte=timezone.now() - within,
            deleted_on_platform_at__isnull=True,
        ).values_list("platform_id", flat=True)[:200]
    )
    if not recent:
        return IngestResult()
    try:
        with open_connector(account) as connector:
            current = connector.refresh_items(recent)
            note_success(account, connector)
    except ConnectorError as error:
        note_failure(account, error)
        return IngestResult()
    originals = {
        m.platform_id: m
        for m in InboundMessage.objects.filter(account=account, platform_id__in=recent)
    }
    items: list[InboundItem] = []
    for pid, item in current.items():
        if item is None and pid in originals:
            message = originals[pid]
            items.append(_tombstone(message))
        elif item is not None:
            items.append(item)
    return store_items(account, items)


def _tombstone(message: InboundMessage) -> InboundItem:
    return InboundItem(
        platform_id=message.platform_id,
        kind=InboundKind(message.kind),
        author_id=message.author_id,
        author_handle=message.author_handle,
        author_display_name=message.author_display_name,
        text=message.text,
        created_at=message.created_at,
        raw=b'{"deleted":true}',
        deleted=True,
    )
