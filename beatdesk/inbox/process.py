"""Triage, route and queue newly arrived messages; keep response targets honest.

``process_messages(ids)`` is idempotent: a message already triaged is skipped, so the
listener that runs right after an ingest commit and the sweep in the channels loop (for
anything a crash left behind) can never queue a message twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from beatdesk.agencies.models import Team
from beatdesk.audit.record import record_event
from beatdesk.channels.models import ConnectedAccount, InboundMessage
from beatdesk.language.triage import Triage, triage

from .models import Conversation, InboxSettings, MessageTriage, PublicContact
from .routing import Routing, places_for, route
from .targets import OFFICE_HOURS, Window, add_staffed_time

logger = logging.getLogger("beatdesk.inbox")

SYSTEM = "inbox"
# Messages are triaged in batches of this size (one transaction each).
BATCH = 200
# The sweep looks this far back for messages that missed the listener.
SWEEP_WINDOW = timedelta(days=7)
SWEEP_EVERY = timedelta(seconds=15)
SWEEP_GRACE = timedelta(seconds=10)


def on_new_messages(ids: list[int]) -> None:
    """Ingest listener: runs after the ingest transaction commits."""
    try:
        process_messages(ids)
    except Exception:
        # The sweep in the next tick retries; ingest itself must not fail for this.
        logger.exception("triage of %d new messages failed; the sweep will retry", len(ids))


def on_tick(now: datetime) -> None:
    """Channels-loop hook: check response targets; now and then, sweep untriaged messages."""
    global _last_sweep
    from .actions import check_targets

    try:
        check_targets(now)
    finally:
        # The sweep runs even when the target check fails: untriaged messages matter more.
        if _last_sweep is None or now - _last_sweep >= SWEEP_EVERY:
            _last_sweep = now
            sweep_untriaged(now)


_last_sweep: datetime | None = None


def sweep_untriaged(now: datetime | None = None) -> int:
    """Queue messages the listener never saw (a crash between two commits).

    Only messages older than ``SWEEP_GRACE``, so a message whose listener is about to run
    in another loop is left to that loop.
    """
    now = now or timezone.now()
    pending = list(
        InboundMessage.objects.filter(
            received_at__gte=now - SWEEP_WINDOW,
            received_at__lt=now - SWEEP_GRACE,
            triage__isnull=True,
        ).values_list("pk", flat=True)[:5000]
    )
    return process_messages(pending) if pending else 0


def process_messages(ids: Sequence[int]) -> int:
    """Triage and queue the given messages; returns how many were newly queued."""
    done = 0
    for start in range(0, len(ids), BATCH):
        batch = list(ids[start : start + BATCH])
        try:
            done += _process_batch(batch)
        except DatabaseError:
            # Another loop queued some of these at the same moment (IntegrityError), a
            # deadlock, or one message the database refuses: go one by one, so one bad
            # message never holds back the others (a P1 among them).
            for message_id in batch:
                try:
                    done += _process_batch([message_id])
                except IntegrityError:
                    continue  # already queued by another loop
                except DatabaseError:
                    logger.exception(
                        "message %s could not be queued; the sweep retries", message_id
                    )
    return done


def _thread_key(message: InboundMessage) -> str:
    return message.thread_root_id or message.platform_id


def author_key(message: InboundMessage) -> str:
    """Who a message is from, for conversations and contacts (some channels give no id)."""
    return message.author_id or message.author_handle or "unknown"


@dataclass
class _Batch:
    """What one batch reads once instead of once per message (~10 queries saved each)."""

    now: datetime
    settings: dict[int, InboxSettings] = field(default_factory=dict)
    windows: dict[int | None, list[Window] | None] = field(default_factory=dict)
    account_areas: dict[int, list[int]] = field(default_factory=dict)

    def settings_of(self, agency_id: int) -> InboxSettings:
        if agency_id not in self.settings:
            self.settings[agency_id] = settings_for(agency_id)
        return self.settings[agency_id]

    def windows_of(self, team_id: int | None) -> list[Window] | None:
        if team_id not in self.windows:
            self.windows[team_id] = windows_for(team_id)
        return self.windows[team_id]

    def areas_of(self, account: ConnectedAccount) -> list[int]:
        if account.pk not in self.account_areas:
            self.account_areas[account.pk] = list(account.areas.values_list("pk", flat=True))
        return self.account_areas[account.pk]

    def start_clock(self, conversation: Conversation, since: datetime) -> None:
        settings = self.settings_of(conversation.agency_id)
        # Threat to life is never held for office hours: the 24/7 desk owns P1s.
        windows = None if conversation.priority == "P1" else self.windows_of(conversation.team_id)
        _set_clock(conversation, since, settings, windows)


def _process_batch(ids: list[int]) -> int:
    """Triage, route and queue one batch in one transaction, with set-based reads/writes."""
    messages = list(
        InboundMessage.objects.filter(pk__in=ids, triage__isnull=True)
        .select_related("account")
        .order_by("received_at", "pk")
    )
    if not messages:
        return 0
    results = triage([m.text for m in messages])
    batch = _Batch(now=timezone.now())
    with transaction.atomic():
        contacts = _touch_contacts(messages)
        conversations = _existing_conversations(messages)
        created: dict[tuple[int, str, str, str], Conversation] = {}
        changed: dict[int, Conversation] = {}
        triages: list[tuple[MessageTriage, Conversation]] = []
        events: list[tuple[Conversation, InboundMessage, Triage, Routing, str]] = []
        for message, result in zip(messages, results, strict=True):
            routing = route(
                places_for(message.agency_id),
                text=message.text,
                geotag=(
                    (message.geo_lat, message.geo_lon)
                    if message.geo_lat is not None and message.geo_lon is not None
                    else None
                ),
                author_location=message.author_location,
                priority=result.priority,
                category=result.category,
                account_area_ids=batch.areas_of(message.account),
                account_team_id=message.account.team_id,
            )
            key = (message.agency_id, message.platform, _thread_key(message), author_key(message))
            conversation = conversations.get(key)
            if conversation is None:
                conversation = _new_conversation(
                    message, result, routing, contacts[_contact_key(message)], batch
                )
                conversations[key] = created[key] = conversation
                event = "inbox.queued"
            else:
                event = _add_to_conversation(conversation, message, result, routing, batch)
                if conversation.pk is not None:
                    changed[conversation.pk] = conversation
            triages.append((_triage_row(message, result, routing, batch.now), conversation))
            events.append((conversation, message, result, routing, event))
        if created:
            Conversation.objects.bulk_create(list(created.values()))
        for conversation in changed.values():
            conversation.save(update_fields=_CONVERSATION_FIELDS)
        rows = []
        for row, conversation in triages:
            row.conversation = conversation
            rows.append(row)
        MessageTriage.objects.bulk_create(rows)
        _audit(events)
    return len(messages)


_STAYS_CLOSED = {Conversation.CloseReason.SPAM, Conversation.CloseReason.ABUSE}
_CONVERSATION_FIELDS = [
    "updated_at",
    "priority",
    "category",
    "team",
    "area",
    "routing_reason",
    "status",
    "close_reason",
    "closed_at",
    "needs_response_since",
    "warn_at",
    "due_at",
    "warned_at",
    "escalated_at",
    "breached_at",
    "last_message_at",
    "message_count",
]


def _contact_key(message: InboundMessage) -> tuple[int, str, str]:
    return (message.agency_id, message.platform, author_key(message))


def _touch_contacts(messages: list[InboundMessage]) -> dict[tuple[int, str, str], PublicContact]:
    """Find or create the public contact of every author in the batch, counts updated."""
    wanted = {_contact_key(m) for m in messages}
    found: dict[tuple[int, str, str], PublicContact] = {}
    for agency_id, platform in {(k[0], k[1]) for k in wanted}:
        authors = [k[2] for k in wanted if k[0] == agency_id and k[1] == platform]
        # Locked in primary-key order (contacts, then conversations) so two loops that
        # share authors wait for each other instead of deadlocking or losing counts.
        for row in (
            PublicContact.objects.select_for_update()
            .filter(agency_id=agency_id, platform=platform, author_id__in=authors)
            .order_by("pk")
        ):
            found[(agency_id, platform, row.author_id)] = row
    fresh: dict[tuple[int, str, str], PublicContact] = {}
    for message in messages:
        key = _contact_key(message)
        contact = found.get(key) or fresh.get(key)
        if contact is None:
            fresh[key] = PublicContact(
                agency_id=message.agency_id,
                platform=message.platform,
                author_id=key[2],
                handle=message.author_handle,
                display_name=message.author_display_name,
                location=message.author_location,
                first_seen_at=message.created_at,
                last_seen_at=message.created_at,
                message_count=1,
            )
            continue
        contact.handle = message.author_handle or contact.handle
        contact.display_name = message.author_display_name or contact.display_name
        contact.location = message.author_location or contact.location
        contact.first_seen_at = min(contact.first_seen_at, message.created_at)
        contact.last_seen_at = max(contact.last_seen_at, message.created_at)
        contact.message_count += 1
    if found:
        # Plain UPDATEs by primary key: Django's bulk_update builds a CASE per column and
        # per row, which costs more than the rest of triage put together.
        table = PublicContact._meta.db_table
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET handle = %s, display_name = %s, location = %s, "  # noqa: S608
                "first_seen_at = %s, last_seen_at = %s, message_count = %s WHERE id = %s",
                [
                    (
                        c.handle,
                        c.display_name,
                        c.location,
                        # As the ORM would store them (SQLite keeps naive UTC text).
                        connection.ops.adapt_datetimefield_value(c.first_seen_at),
                        connection.ops.adapt_datetimefield_value(c.last_seen_at),
                        c.message_count,
                        c.pk,
                    )
                    for c in found.values()
                ],
            )
    if fresh:
        PublicContact.objects.bulk_create(list(fresh.values()))
    return found | fresh


def _existing_conversations(
    messages: list[InboundMessage],
) -> dict[tuple[int, str, str, str], Conversation]:
    keys = {(m.agency_id, m.platform, _thread_key(m), author_key(m)) for m in messages}
    found: dict[tuple[int, str, str, str], Conversation] = {}
    for agency_id, platform in {(k[0], k[1]) for k in keys}:
        threads = {k[2] for k in keys if k[0] == agency_id and k[1] == platform}
        for conversation in (
            Conversation.objects.select_for_update()
            .filter(agency_id=agency_id, platform=platform, thread_key__in=threads)
            .order_by("pk")
        ):
            key = (agency_id, platform, conversation.thread_key, conversation.author_id)
            if key in keys:
                found[key] = conversation
    return found


def _new_conversation(
    message: InboundMessage,
    result: Triage,
    routing: Routing,
    contact: PublicContact,
    batch: _Batch,
) -> Conversation:
    arrived = message.received_at
    conversation = Conversation(
        agency_id=message.agency_id,
        account=message.account,
        platform=message.platform,
        thread_key=_thread_key(message),
        author_id=author_key(message),
        contact=contact,
        priority=result.priority,
        category=result.category,
        team_id=routing.team_id,
        area_id=routing.area_id,
        routing_reason=routing.reason[:300],
        first_message_at=arrived,
        last_message_at=arrived,
        message_count=1,
        created_at=batch.now,
    )
    batch.start_clock(conversation, arrived)
    return conversation


def _add_to_conversation(
    conversation: Conversation,
    message: InboundMessage,
    result: Triage,
    routing: Routing,
    batch: _Batch,
) -> str:
    """A further message from the same person in the same thread. Returns the event."""
    arrived = message.received_at
    conversation.message_count += 1
    conversation.last_message_at = max(conversation.last_message_at, arrived)
    if (
        conversation.status == Conversation.Status.CLOSED
        and conversation.close_reason in _STAYS_CLOSED
        and result.priority not in {"P1", "P2"}
    ):
        # More from an account closed as spam or abuse stays closed (bulk handling would
        # be undone by every new post); anything urgent still reopens it.
        return "inbox.message_added"
    reopened = conversation.status != Conversation.Status.NEW
    more_urgent = result.priority < conversation.priority
    if reopened or more_urgent:
        conversation.priority = result.priority
        conversation.category = result.category
    if reopened:
        conversation.status = Conversation.Status.NEW
        conversation.close_reason = ""
        conversation.closed_at = None
    if reopened or (more_urgent and result.priority == "P1"):
        conversation.team_id = routing.team_id
        conversation.area_id = routing.area_id or conversation.area_id
        conversation.routing_reason = routing.reason[:300]
    if reopened or more_urgent:
        # A new need (or a more urgent one) restarts the clock; an earlier unanswered
        # message keeps its start, so waiting time is never forgiven.
        since = None if reopened else conversation.needs_response_since
        batch.start_clock(conversation, since or arrived)
    return "inbox.reopened" if reopened else "inbox.message_added"


def _triage_row(
    message: InboundMessage, result: Triage, routing: Routing, now: datetime
) -> MessageTriage:
    return MessageTriage(
        message=message,
        agency_id=message.agency_id,
        category=result.category,
        priority=result.priority,
        scores={k: round(v, 4) for k, v in result.scores.items()},
        signals=list(result.signals),
        place=routing.place[:200],
        place_source=routing.place_source,
        area_id=routing.area_id,
        triaged_at=now,
    )


def _audit(events: list[tuple[Conversation, InboundMessage, Triage, Routing, str]]) -> None:
    """One event per agency per batch (as ingest does per page), naming every message and
    conversation, with the decision for each urgent (P1/P2) one spelt out."""
    by_agency: dict[int, list[tuple[Conversation, InboundMessage, Triage, Routing, str]]] = {}
    for entry in events:
        by_agency.setdefault(entry[0].agency_id, []).append(entry)
    for entries in by_agency.values():
        priorities: dict[str, int] = {}
        for _, _, result, _, _ in entries:
            priorities[result.priority] = priorities.get(result.priority, 0) + 1
        record_event(
            event_type="inbox.triaged",
            actor_label=SYSTEM,
            agency=entries[0][1].account.agency,
            object_type="channels.inboundmessage",
            object_id=f"{entries[0][1].pk}-{entries[-1][1].pk}",
            summary=f"{len(entries)} messages triaged and queued: "
            + ", ".join(f"{n} {p}" for p, n in sorted(priorities.items())),
            data={
                "messages": [m.pk for _, m, _, _, _ in entries],
                "conversations": sorted({c.pk for c, _, _, _, _ in entries}),
                "opened": sorted({c.pk for c, _, _, _, e in entries if e != "inbox.message_added"}),
                "priorities": priorities,
                "urgent": [
                    {
                        "message": m.pk,
                        "conversation": c.pk,
                        "priority": r.priority,
                        "category": r.category,
                        "signals": list(r.signals)[:3],
                        "team": routing.team_id,
                        "routing": routing.reason,
                    }
                    for c, m, r, routing, _ in entries
                    if r.priority in {"P1", "P2"}
                ],
            },
        )


def settings_for(agency_id: int) -> InboxSettings:
    """The agency's inbox settings (defaults when it has saved none)."""
    found = InboxSettings.objects.filter(agency_id=agency_id).first()
    return found or InboxSettings(agency_id=agency_id)


def windows_for(team_id: int | None) -> list[Window] | None:
    """A team's staffed windows, or None when the team works 24/7 (or there is none)."""
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id).only("staffed_24_7").first()
    if team is None or team.staffed_24_7:
        return None
    return team_windows(team) or list(OFFICE_HOURS)


def team_windows(team: Team) -> list[Window]:
    """The windows a team has set (empty: none set, so the office-hours default applies)."""
    return [
        Window(weekday, opens, closes)
        for weekday, opens, closes in team.staffed_hours.values_list("weekday", "opens", "closes")
    ]


def _set_clock(
    conversation: Conversation,
    since: datetime,
    settings: InboxSettings,
    windows: list[Window] | None,
) -> None:
    """Set the response target for the conversation's priority and team's hours."""
    minutes = settings.target_minutes(conversation.priority)
    conversation.needs_response_since = since
    conversation.due_at = add_staffed_time(since, minutes, windows)
    conversation.warn_at = add_staffed_time(since, minutes * settings.warn_percent / 100, windows)
    conversation.warned_at = None
    conversation.escalated_at = None
    conversation.breached_at = None


def restart_clocks(conversations: Iterable[Conversation]) -> None:
    """Recompute targets (after a re-route or a settings change); caller saves."""
    batch = _Batch(now=timezone.now())
    for conversation in conversations:
        if conversation.status == Conversation.Status.NEW and conversation.needs_response_since:
            batch.start_clock(conversation, conversation.needs_response_since)
