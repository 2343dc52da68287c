"""Changes to the inbox. Each owns its transaction and writes its audit event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Agency, Staff, Team
from beatdesk.audit.models import PersonalDataCategory
from beatdesk.audit.record import record_event
from beatdesk.channels.actions import hide_inbound_message
from beatdesk.channels.models import ConnectedAccount, InboundMessage
from beatdesk.channels.publish import create_delivery

from .models import ContactNote, Conversation, InboxSettings, PublicContact, Reply, StaffedHours
from .process import SYSTEM, author_key, restart_clocks, settings_for, team_windows
from .replies import render_template, templates_for
from .targets import format_windows, parse_windows

__all__ = [
    "ActionError",
    "BulkResult",
    "acknowledge",
    "add_contact_note",
    "assign_to_me",
    "bulk_close",
    "check_targets",
    "close",
    "reopen",
    "reroute",
    "save_settings",
    "save_staffed_hours",
    "send_reply",
]


def _locked(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def _stop_clock(conversation: Conversation, actor: Staff | None, now: datetime) -> None:
    """The first response to an open need stops its clock."""
    if conversation.first_response_at is None:
        conversation.first_response_at = now
        conversation.responded_by = actor
        conversation.first_response_seconds = max(
            0, int((now - (conversation.needs_response_since or now)).total_seconds())
        )
        # Kept for insights: the target is cleared below, so decide "met" now.
        conversation.first_response_met = (
            None if conversation.due_at is None else now <= conversation.due_at
        )
    conversation.needs_response_since = None
    conversation.warn_at = None
    conversation.due_at = None


def _missed(conversation: Conversation, now: datetime) -> bool:
    return conversation.due_at is not None and now > conversation.due_at


def acknowledge(*, actor: Staff, conversation: Conversation) -> Conversation:
    """Mark that a person has seen and taken on the conversation (stops its clock)."""
    now = timezone.now()
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.status != Conversation.Status.NEW:
            return locked
        missed = _missed(locked, now)
        _stop_clock(locked, actor, now)
        locked.status = Conversation.Status.ACKNOWLEDGED
        locked.assigned_to = locked.assigned_to or actor
        locked.save()
        record_event(
            event_type="inbox.acknowledged",
            actor=actor,
            target=locked,
            summary=f"Acknowledged {locked}" + (" after its target" if missed else ""),
            data={"priority": locked.priority, "target_missed": missed},
        )
    return locked


def send_reply(
    *,
    actor: Staff,
    conversation: Conversation,
    message: InboundMessage,
    text: str,
    client_token: str,
    template_key: str = "",
    close_reason: str = "",
) -> Reply:
    """Reply in the thread through the account that received ``message``, at most once.

    The same ``client_token`` (one per rendered form) returns the first reply instead of
    sending another. The channels loop sends the delivery; its state shows in the thread.
    """
    text = text.strip()
    if not text:
        raise ActionError("Write a reply (or choose a template) before sending.")
    if not client_token or len(client_token) > 64:
        raise ActionError("This form has expired: reload the page and send again.")
    if message.agency_id != conversation.agency_id or not _message_in(conversation, message):
        raise ActionError("That message is not part of this conversation.")
    if close_reason and close_reason not in Conversation.CloseReason.values:
        raise ActionError("Choose a reason from the list to close the conversation.")
    account = message.account
    if account.status != ConnectedAccount.Status.ACTIVE:
        raise ActionError(
            f"{account} is {account.get_status_display().lower()}; an agency admin must "
            "reconnect it before replies can go out."
        )
    template_key = _template_used(conversation, template_key, text)
    now = timezone.now()
    with transaction.atomic():
        locked = _locked(conversation)
        existing = Reply.objects.filter(conversation=locked, client_token=client_token).first()
        if existing is not None:
            return existing
        reply = Reply.objects.create(
            conversation=locked,
            in_reply_to=message,
            text=text,
            template_key=template_key[:40],
            client_token=client_token,
            created_by=actor,
            created_at=now,
        )
        reply.delivery = create_delivery(
            actor=actor,
            account=account,
            source_type="inbox.reply",
            source_id=str(reply.pk),
            text=text,
            reply_to_id=message.platform_id,
        )
        reply.save(update_fields=["delivery"])
        missed = _missed(locked, now)
        _stop_clock(locked, actor, now)
        if close_reason:
            locked.status = Conversation.Status.CLOSED
            locked.close_reason = close_reason
            locked.closed_at = now
        elif locked.status == Conversation.Status.NEW:
            locked.status = Conversation.Status.ACKNOWLEDGED
        locked.assigned_to = locked.assigned_to or actor
        locked.save()
        record_event(
            event_type="inbox.replied",
            actor=actor,
            target=locked,
            summary=f"Replied to {locked}" + (f" with '{template_key}'" if template_key else ""),
            data={
                "reply_id": reply.pk,
                "delivery_id": reply.delivery.pk,
                "template": template_key,
                "closed": close_reason,
                "target_missed": missed,
            },
        )
    return reply


def _template_used(conversation: Conversation, template_key: str, text: str) -> str:
    """The template key to record: '' if unknown, marked '-edited' if the words changed."""
    if not template_key:
        return ""
    agency = Agency.objects.get(pk=conversation.agency_id)
    template = next((t for t in templates_for(agency) if t.key == template_key), None)
    if template is None:
        return ""
    if render_template(agency, template, handle=conversation.contact.handle) != text:
        return f"{template_key[:33]}-edited"
    return template_key


def _message_in(conversation: Conversation, message: InboundMessage) -> bool:
    return (
        message.platform == conversation.platform
        and author_key(message) == conversation.author_id
        and (message.thread_root_id or message.platform_id) == conversation.thread_key
    )


def close(*, actor: Staff, conversation: Conversation, reason: str, note: str = "") -> Conversation:
    if reason not in Conversation.CloseReason.values:
        raise ActionError("Choose a reason from the list to close the conversation.")
    now = timezone.now()
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.status == Conversation.Status.NEW:
            _stop_clock(locked, actor, now)
        locked.status = Conversation.Status.CLOSED
        locked.close_reason = reason
        locked.closed_at = now
        locked.status_note = note.strip()[:300]
        locked.save()
        record_event(
            event_type="inbox.closed",
            actor=actor,
            target=locked,
            summary=f"Closed {locked}: {locked.get_close_reason_display()}",
            data={"reason": reason, "note": locked.status_note},
        )
    return locked


def reopen(*, actor: Staff, conversation: Conversation, note: str = "") -> Conversation:
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.status != Conversation.Status.CLOSED:
            return locked
        locked.status = Conversation.Status.ACKNOWLEDGED
        locked.close_reason = ""
        locked.closed_at = None
        locked.status_note = note.strip()[:300]
        locked.save()
        record_event(
            event_type="inbox.reopened",
            actor=actor,
            target=locked,
            summary=f"Reopened {locked}",
            data={"note": locked.status_note},
        )
    return locked


def reroute(
    *, actor: Staff, conversation: Conversation, team: Team, note: str = ""
) -> Conversation:
    """Send the conversation to another team of the agency (its target clock follows)."""
    if team.agency_id != conversation.agency_id:
        raise ActionError("That team is not part of your agency.")
    with transaction.atomic():
        locked = _locked(conversation)
        previous = locked.team.name if locked.team else "no team"
        locked.team = team
        locked.routing_reason = (
            f"Re-routed by {actor.display_name()}"
            + (f": {note.strip()[:200]}" if note.strip() else "")
        )[:300]
        locked.assigned_to = None
        restart_clocks([locked])
        locked.save()
        record_event(
            event_type="inbox.rerouted",
            actor=actor,
            target=locked,
            summary=f"Re-routed {locked} from {previous} to {team.name}",
            data={"team_id": team.pk, "note": note.strip()[:200]},
        )
    return locked


def assign_to_me(*, actor: Staff, conversation: Conversation) -> Conversation:
    with transaction.atomic():
        locked = _locked(conversation)
        locked.assigned_to = actor
        locked.save(update_fields=["assigned_to"])
        record_event(
            event_type="inbox.assigned",
            actor=actor,
            target=locked,
            summary=f"{actor.display_name()} took {locked}",
        )
    return locked


def add_contact_note(*, actor: Staff, contact: PublicContact, text: str) -> ContactNote:
    text = text.strip()
    if not text:
        raise ActionError("A note needs some text.")
    if len(text) > 4000:
        raise ActionError("Keep a note under 4,000 characters.")
    with transaction.atomic():
        note = ContactNote.objects.create(contact=contact, text=text, created_by=actor)
        record_event(
            event_type="inbox.contact_note_added",
            actor=actor,
            target=contact,
            summary=f"Note added to contact {contact}",
            data={"note_id": note.pk},
            personal_data=PersonalDataCategory.COLLECTION,
        )
    return note


@dataclass
class BulkResult:
    closed: int = 0
    hidden: int = 0
    not_hidden: list[str] = field(default_factory=list)


def bulk_close(
    *,
    actor: Staff,
    conversations: Sequence[Conversation],
    reason: str,
    hide: bool,
) -> BulkResult:
    """Close many conversations as spam or abuse; hide their messages where possible.

    Each conversation closes in its own transaction; hiding calls the platform after the
    close commits, so one platform failure never undoes the desk's decision.
    """
    if reason not in {Conversation.CloseReason.SPAM, Conversation.CloseReason.ABUSE}:
        raise ActionError("Bulk handling is for spam and abuse only.")
    result = BulkResult()
    for conversation in conversations:
        close(actor=actor, conversation=conversation, reason=reason, note="Bulk action")
        result.closed += 1
        if not hide:
            continue
        messages = InboundMessage.objects.filter(triage__conversation=conversation)
        for message in messages:
            try:
                hide_inbound_message(actor=actor, message=message, reason=reason)
                result.hidden += 1
            except ActionError as error:
                result.not_hidden.append(f"{message.author_handle or message.pk}: {error}")
    return result


def check_targets(now: datetime | None = None, *, limit: int = 2000) -> tuple[int, int]:
    """Warn and bring in the 24/7 desk for targets about to be missed; mark breaches.

    Returns (warned, breached). Run every tick by the channels loop. Set-based: one
    UPDATE and one audit event per agency for each kind of change, so a surge with
    thousands of waiting conversations costs the loop milliseconds, not seconds.
    """
    now = now or timezone.now()
    warned = breached = 0
    with transaction.atomic():
        due = list(
            Conversation.objects.select_for_update(of=("self",))
            .filter(status=Conversation.Status.NEW, warn_at__lte=now, warned_at__isnull=True)
            .values_list("pk", "agency_id", "team__kind", "priority", "due_at")[:limit]
        )
        desk = [pk for pk, _, kind, _, _ in due if kind == Team.Kind.DIGITAL_DESK]
        others = [pk for pk, _, kind, _, _ in due if kind != Team.Kind.DIGITAL_DESK]
        Conversation.objects.filter(pk__in=desk).update(warned_at=now)
        Conversation.objects.filter(pk__in=others).update(warned_at=now, escalated_at=now)
        for agency_id, rows in _by_agency(due).items():
            escalated = [pk for pk, _, kind, _, _ in rows if kind != Team.Kind.DIGITAL_DESK]
            first_due = min(row[4] for row in rows if row[4] is not None)
            minutes_left = max(0, int((first_due - now).total_seconds() // 60))
            record_event(
                event_type="inbox.target_warning",
                actor_label=SYSTEM,
                agency=Agency.objects.get(pk=agency_id),
                target=Conversation(pk=rows[0][0]) if len(rows) == 1 else None,
                object_type="inbox.conversation",
                summary=(
                    f"{len(rows)} response target{'s' if len(rows) > 1 else ''} due within "
                    f"{minutes_left} min"
                    + (f": {len(escalated)} escalated to the 24/7 desk" if escalated else "")
                ),
                data={
                    "conversations": [row[0] for row in rows],
                    "escalated": escalated,
                    "priorities": sorted({row[3] for row in rows}),
                },
            )
        warned = len(due)
    with transaction.atomic():
        overdue = list(
            Conversation.objects.select_for_update(of=("self",))
            .filter(status=Conversation.Status.NEW, due_at__lt=now, breached_at__isnull=True)
            .values_list("pk", "agency_id", "team__kind", "priority", "due_at")[:limit]
        )
        Conversation.objects.filter(pk__in=[row[0] for row in overdue]).update(
            breached_at=now, updated_at=now
        )
        for agency_id, rows in _by_agency(overdue).items():
            record_event(
                event_type="inbox.target_missed",
                actor_label=SYSTEM,
                agency=Agency.objects.get(pk=agency_id),
                target=Conversation(pk=rows[0][0]) if len(rows) == 1 else None,
                object_type="inbox.conversation",
                summary=f"{len(rows)} response target{'s' if len(rows) > 1 else ''} missed",
                data={
                    "conversations": [row[0] for row in rows],
                    "priorities": sorted({row[3] for row in rows}),
                },
            )
        breached = len(overdue)
    return warned, breached


def _by_agency(rows: list[tuple[Any, ...]]) -> dict[int, list[tuple[Any, ...]]]:
    grouped: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        grouped.setdefault(row[1], []).append(row)
    return grouped


SETTINGS_FIELDS = (
    "p1_minutes",
    "p2_minutes",
    "p3_minutes",
    "p4_minutes",
    "warn_percent",
    "online_report_url",
    "non_emergency_number",
)


def save_settings(*, actor: Staff, agency: Agency, values: dict[str, Any]) -> InboxSettings:
    """Change an agency's response targets; open conversations keep the clock they had."""
    minutes = [int(values[f"p{n}_minutes"]) for n in range(1, 5)]
    if any(m < 1 for m in minutes):
        raise ActionError("Every response target must be at least one minute.")
    if minutes != sorted(minutes):
        raise ActionError("A more urgent priority cannot have a longer target than a lower one.")
    if not 10 <= int(values["warn_percent"]) <= 95:
        raise ActionError("Warn between 10% and 95% of the way to a target.")
    with transaction.atomic():
        current = settings_for(agency.pk)
        before = {name: getattr(current, name) for name in SETTINGS_FIELDS}
        for name in SETTINGS_FIELDS:
            setattr(current, name, values[name])
        current.agency = agency
        current.save()
        record_event(
            event_type="inbox.settings_changed",
            actor=actor,
            agency=agency,
            target=current,
            summary="Inbox response targets changed",
            data={"before": before, "after": {n: getattr(current, n) for n in SETTINGS_FIELDS}},
        )
    return current


def save_staffed_hours(*, actor: Staff, team: Team, text: str) -> list[StaffedHours]:
    """Replace a team's staffed windows; open conversations of the team are re-timed."""
    if team.staffed_24_7:
        raise ActionError(f"{team.name} is staffed 24/7: its targets count every minute.")
    try:
        windows = parse_windows(text)
    except ValueError as error:
        raise ActionError(str(error)) from None
    with transaction.atomic():
        before = format_windows(team_windows(team))
        team.staffed_hours.all().delete()
        rows = StaffedHours.objects.bulk_create(
            StaffedHours(team=team, weekday=w.weekday, opens=w.opens, closes=w.closes)
            for w in windows
        )
        open_conversations = list(
            Conversation.objects.select_for_update().filter(
                team=team, status=Conversation.Status.NEW
            )
        )
        restart_clocks(open_conversations)
        for conversation in open_conversations:
            conversation.save(
                update_fields=[
                    "due_at",
                    "warn_at",
                    "warned_at",
                    "escalated_at",
                    "breached_at",
                    "updated_at",
                ]
            )
        record_event(
            event_type="inbox.staffed_hours_changed",
            actor=actor,
            target=team,
            summary=f"Staffed hours of {team.name} changed",
            data={"before": before, "after": format_windows(windows)},
        )
    return rows
