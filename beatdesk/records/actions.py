"""Records changes: retention rules, legal holds, retain decisions, restriction of
processing, subject access exports, and the disposal job. Each owns its transaction and
audit event; the disposal job's events name what was erased and the rule, never the
content."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from beatdesk.agencies.access import agency_of
from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Agency, Staff
from beatdesk.audit.models import AuditEvent, PersonalDataCategory
from beatdesk.audit.record import record_event
from beatdesk.channels.models import InboundMessage, InboundRevision
from beatdesk.inbox.models import ContactNote, Conversation, MessageTriage, PublicContact, Reply
from beatdesk.intelligence.models import CapturedMedia, EvidenceExport, IntelligenceReport
from beatdesk.intelligence.seal import json_file, pack

from .models import (
    DEFAULT_RETENTION,
    LegalHold,
    ProcessingRestriction,
    RecordType,
    RetainDecision,
    RetentionRule,
)

BATCH = 5000
SYSTEM = "records disposal"


def retention_days(agency: Agency) -> dict[str, int]:
    days = {kind: default for kind, (default, _) in DEFAULT_RETENTION.items()}
    for rule in RetentionRule.objects.filter(agency=agency):
        days[rule.record_type] = rule.keep_days
    return days


def messages_of(contact: PublicContact) -> Q:
    """The messages a public account sent: those the inbox filed under the contact,
    and (for any not triaged yet) those with its author id."""
    return Q(agency_id=contact.agency_id, triage__conversation__contact=contact) | (
        contact.author_match()
    )


def _same_agency(actor: Staff, *objects: Any) -> None:
    agency = agency_of(actor)
    if any(obj is not None and obj.agency_id != agency.pk for obj in objects):
        raise ActionError("That record belongs to another agency.")


# -- Retention rules, holds, retain decisions -----------------------------------------


def save_retention_rule(
    *, actor: Staff, record_type: str, keep_days: int, reasoning: str
) -> RetentionRule:
    if record_type not in RecordType.values:
        raise ActionError("Unknown record type.")
    reasoning = reasoning.strip()
    if len(reasoning) < 20:
        raise ActionError("Write the reasoning for this period (why this long, and no longer).")
    if keep_days < 30:
        raise ActionError("Keep records at least 30 days (complaints and appeals need them).")
    agency = agency_of(actor)
    with transaction.atomic():
        before = RetentionRule.objects.filter(agency=agency, record_type=record_type).first()
        rule, _ = RetentionRule.objects.update_or_create(
            agency=agency,
            record_type=record_type,
            defaults={
                "keep_days": keep_days,
                "reasoning": reasoning,
                "updated_by": actor,
                "updated_at": timezone.now(),
            },
        )
        record_event(
            event_type="records.retention_changed",
            actor=actor,
            target=rule,
            summary=f"Retention of {rule.get_record_type_display()}: {keep_days} days",
            data={
                "record_type": record_type,
                "before": before.keep_days if before else DEFAULT_RETENTION[record_type][0],
                "after": keep_days,
                "reasoning": reasoning[:1000],
            },
        )
    return rule


def place_hold(
    *,
    actor: Staff,
    reason: str,
    contact: PublicContact | None = None,
    report: IntelligenceReport | None = None,
) -> LegalHold:
    reason = reason.strip()
    if not reason:
        raise ActionError("Say why (the case, the order, the request) the records are held.")
    if (contact is None) == (report is None):
        raise ActionError("A hold covers one public account or one report.")
    agency = agency_of(actor)
    if any(obj is not None and obj.agency_id != agency.pk for obj in (contact, report)):
        raise ActionError("That record belongs to another agency.")
    with transaction.atomic():
        hold = LegalHold.objects.create(
            agency=agency, contact=contact, report=report, reason=reason, created_by=actor
        )
        record_event(
            event_type="records.hold_placed",
            actor=actor,
            target=hold,
            summary=f"Legal hold on {'contact ' + str(contact.pk) if contact else report}",
            data={
                "contact": contact.pk if contact else None,
                "report": report.pk if report else None,
                "reason": reason[:1000],
            },
        )
    return hold


def release_hold(*, actor: Staff, hold: LegalHold, reason: str) -> LegalHold:
    _same_agency(actor, hold)
    reason = reason.strip()
    if not reason:
        raise ActionError("Say why the hold can end.")
    with transaction.atomic():
        locked = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if locked.released_at is not None:
            return locked
        locked.released_at = timezone.now()
        locked.released_by = actor
        locked.release_reason = reason
        locked.save()
        record_event(
            event_type="records.hold_released",
            actor=actor,
            target=locked,
            summary=f"Legal hold {locked.pk} released",
            data={"reason": reason[:1000]},
        )
    return locked


def retain_report(
    *, actor: Staff, report: IntelligenceReport, reason: str, review_on: date
) -> RetainDecision:
    """Keep a report past its retention until ``review_on``, with the reason."""
    _same_agency(actor, report)
    reason = reason.strip()
    if len(reason) < 20:
        raise ActionError("Say why it is still needed (the MoPI review reason).")
    today = timezone.localdate()
    if review_on <= today or review_on > today + timedelta(days=10 * 365):
        raise ActionError("Choose a next review date within ten years.")
    with transaction.atomic():
        decision = RetainDecision.objects.create(
            agency=report.agency,
            record_type=RecordType.INTELLIGENCE_REPORT,
            object_id=report.pk,
            reason=reason,
            review_on=review_on,
            decided_by=actor,
        )
        record_event(
            event_type="records.retained",
            actor=actor,
            target=report,
            summary=f"{report.reference} retained until {review_on.isoformat()}",
            data={"reason": reason[:1000], "review_on": review_on.isoformat()},
        )
    return decision


def let_report_go(*, actor: Staff, report: IntelligenceReport, reason: str) -> RetainDecision:
    """The review found the report no longer needed: the disposal job may erase it."""
    _same_agency(actor, report)
    reason = reason.strip()
    if len(reason) < 10:
        raise ActionError("Say why it is no longer needed.")
    with transaction.atomic():
        decision = RetainDecision.objects.create(
            agency=report.agency,
            record_type=RecordType.INTELLIGENCE_REPORT,
            object_id=report.pk,
            outcome=RetainDecision.Outcome.DISPOSE,
            reason=reason,
            decided_by=actor,
        )
        record_event(
            event_type="records.let_go",
            actor=actor,
            target=report,
            summary=f"{report.reference} reviewed: no longer needed",
            data={"reason": reason[:1000]},
        )
    return decision


def reports_due_for_review(agency: Agency, now: datetime | None = None) -> list[IntelligenceReport]:
    """Reports past their period with no decision in force (none yet, or a retain
    decision that has reached its review date), and not yet erased."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=retention_days(agency)[RecordType.INTELLIGENCE_REPORT])
    today = timezone.localdate(now)
    decided = RetainDecision.objects.filter(
        agency=agency, record_type=RecordType.INTELLIGENCE_REPORT
    ).filter(Q(outcome=RetainDecision.Outcome.DISPOSE) | Q(review_on__gt=today))
    return list(
        IntelligenceReport.objects.filter(
            agency=agency, erased_at__isnull=True, created_at__lt=cutoff
        )
        .exclude(pk__in=decided.values("object_id"))
        .order_by("created_at")[:200]
    )


# -- Restriction and subject access ----------------------------------------------------


def restrict_processing(
    *, actor: Staff, contact: PublicContact, reason: str
) -> ProcessingRestriction:
    _same_agency(actor, contact)
    reason = reason.strip()
    if not reason:
        raise ActionError("Record the request (who asked, when, on what ground).")
    with transaction.atomic():
        restriction, created = ProcessingRestriction.objects.get_or_create(
            contact=contact, defaults={"reason": reason, "created_by": actor}
        )
        if created:
            record_event(
                event_type="records.processing_restricted",
                actor=actor,
                target=contact,
                summary=f"Processing of contact {contact.pk}'s data restricted",
                data={"reason": reason[:1000]},
                personal_data=PersonalDataCategory.ALTERATION,
            )
    return restriction


def lift_restriction(*, actor: Staff, contact: PublicContact, reason: str) -> None:
    _same_agency(actor, contact)
    reason = reason.strip()
    if not reason:
        raise ActionError("Say why the restriction ends.")
    with transaction.atomic():
        deleted, _ = ProcessingRestriction.objects.filter(contact=contact).delete()
        if deleted:
            record_event(
                event_type="records.restriction_lifted",
                actor=actor,
                target=contact,
                summary=f"Restriction on contact {contact.pk}'s data lifted",
                data={"reason": reason[:1000]},
            )


def restricted_messages(messages: list[InboundMessage]) -> list[InboundMessage]:
    """Those of ``messages`` whose author asked for processing to be restricted."""
    if not messages:
        return []
    restricted = list(
        ProcessingRestriction.objects.filter(
            contact__agency_id__in={m.agency_id for m in messages}
        ).select_related("contact")
    )
    if not restricted:
        return []
    scope = Q(pk__in=[])
    for restriction in restricted:
        scope |= messages_of(restriction.contact)
    hit = set(
        InboundMessage.objects.filter(scope, pk__in=[m.pk for m in messages]).values_list(
            "pk", flat=True
        )
    )
    return [m for m in messages if m.pk in hit]


def _utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def subject_access_export(*, actor: Staff, contact: PublicContact) -> bytes:
    """Everything held about one public account, as a verifiable bundle: their messages
    (with the platforms' payloads), notes about them, conversations, reports citing them
    (graded, source details withheld), our replies to them, and disclosures made and to
    whom (evidence exports that included their messages)."""
    now = timezone.now()
    messages = list(
        InboundMessage.objects.filter(messages_of(contact)).order_by("created_at", "id")
    )
    files: dict[str, bytes] = {}
    for number, message in enumerate(messages, start=1):
        files[f"messages/{number:03d}-{message.platform}.json"] = bytes(message.raw_payload)
    message_ids = [m.pk for m in messages]
    reports = list(
        IntelligenceReport.objects.filter(messages__in=message_ids).distinct().order_by("pk")
    )
    theirs = set(message_ids)
    exports_of = [
        str(export.pk)
        for export in EvidenceExport.objects.filter(agency_id=contact.agency_id).only(
            "pk", "message_ids"
        )
        if theirs.intersection(export.message_ids)
    ]
    replies = list(
        Reply.objects.filter(conversation__contact=contact)
        .select_related("delivery")
        .order_by("created_at", "id")
    )
    disclosures = AuditEvent.objects.filter(
        agency_id=contact.agency_id, personal_data=PersonalDataCategory.DISCLOSURE
    ).filter(
        Q(object_type="intelligence.evidenceexport", object_id__in=exports_of)
        | Q(object_type="inbox.publiccontact", object_id=str(contact.pk))
    )
    files["summary.json"] = json_file(
        {
            "contact": {
                "platform": contact.platform,
                "author_id": contact.author_id,
                "handle": contact.handle,
                "display_name": contact.display_name,
                "profile_location": contact.location,
                "first_seen_at": _utc(contact.first_seen_at),
                "last_seen_at": _utc(contact.last_seen_at),
                "processing_restricted": ProcessingRestriction.objects.filter(
                    contact=contact
                ).exists(),
            },
            "exported_at": _utc(now),
            "exported_by": actor.get_username(),
            "messages": [
                {
                    "file": f"messages/{n:03d}-{m.platform}.json",
                    "platform_id": m.platform_id,
                    "url": m.url,
                    "text": m.text,
                    "posted_at": _utc(m.created_at),
                    "received_at": _utc(m.received_at),
                    "erased": m.erased_at is not None,
                }
                for n, m in enumerate(messages, start=1)
            ],
            "our_replies": [
                {
                    "text": r.text,
                    "written_at": _utc(r.created_at),
                    "published": bool(r.delivery and r.delivery.state == "published"),
                    "url": r.delivery.url if r.delivery else "",
                }
                for r in replies
            ],
            "notes": [
                {"text": n.text, "written_at": _utc(n.created_at)}
                for n in ContactNote.objects.filter(contact=contact).order_by("created_at")
            ],
            "conversations": [
                {
                    "id": c.pk,
                    "first_message_at": _utc(c.first_message_at),
                    "status": c.get_status_display(),
                    "close_reason": c.get_close_reason_display() if c.close_reason else "",
                }
                for c in contact.conversations.order_by("first_message_at")
            ],
            "intelligence_reports": [
                {
                    "reference": r.reference,
                    "grading": r.grading,
                    "intelligence": r.intelligence_text,
                    "note": "Source details withheld. Consider the exemptions of DPA 2018 "
                    "s.45(4) before disclosing intelligence to the requester.",
                }
                for r in reports
            ],
            "disclosures": [
                {
                    "when": _utc(e.created_at),
                    "what": e.summary,
                    "by": e.actor_label,
                    "to": e.recipient or "not recorded",
                }
                for e in disclosures.order_by("seq")
            ],
        }
    )
    bundle = pack(files, now.astimezone(UTC))
    with transaction.atomic():
        record_event(
            event_type="records.subject_access_export",
            actor=actor,
            target=contact,
            summary=f"Subject access export for {contact}: {len(messages)} message(s)",
            data={"messages": len(messages), "reports": len(reports)},
            personal_data=PersonalDataCategory.DISCLOSURE,
            recipient="the data subject (subject access request)",
        )
    return bundle


# -- Disposal --------------------------------------------------------------------------


@dataclass
class DisposalReport:
    erased: dict[str, list[int]] = field(default_factory=dict)

    def count(self, record_type: str) -> int:
        return len(self.erased.get(record_type, []))

    def add(self, record_type: str, ids: list[int]) -> None:
        self.erased.setdefault(record_type, []).extend(ids)


def _kept_contacts(agency: Agency) -> set[int]:
    """Contacts under an active hold or a restriction of processing: nothing of theirs
    is erased (a restriction is a request to keep, not to lose, the data)."""
    held = LegalHold.objects.filter(
        agency=agency, released_at__isnull=True, contact__isnull=False
    ).values_list("contact_id", flat=True)
    restricted = ProcessingRestriction.objects.filter(contact__agency=agency).values_list(
        "contact_id", flat=True
    )
    return set(held) | set(restricted)


def _kept(agency: Agency) -> tuple[set[int], set[int], set[int]]:
    """(contact ids, report ids, message ids) that must not be erased: within an active
    legal hold, or of a restricted contact, and the reports citing such messages."""
    contacts = _kept_contacts(agency)
    reports = set(
        LegalHold.objects.filter(
            agency=agency, released_at__isnull=True, report__isnull=False
        ).values_list("report_id", flat=True)
    )
    scope = Q(pk__in=[])
    for contact in PublicContact.objects.filter(pk__in=contacts):
        scope |= messages_of(contact)
    messages = set(InboundMessage.objects.filter(scope).values_list("pk", flat=True))
    through = IntelligenceReport.messages.through.objects
    messages |= set(
        through.filter(intelligencereport_id__in=reports).values_list(
            "inboundmessage_id", flat=True
        )
    )
    reports |= set(
        through.filter(inboundmessage_id__in=messages).values_list(
            "intelligencereport_id", flat=True
        )
    )
    return contacts, reports, messages


def _log(agency: Agency, record_type: str, ids: list[int], days: int, now: datetime) -> None:
    record_event(
        event_type="records.erased",
        actor=None,
        actor_label=SYSTEM,
        agency=agency,
        summary=f"{len(ids)} {RecordType(record_type).label.lower()} erased after {days} days",
        data={"record_type": record_type, "ids": ids, "keep_days": days, "run_at": _utc(now)},
        personal_data=PersonalDataCategory.ERASURE,
    )


def _claim(queryset: Any, dry_run: bool) -> list[int]:
    """Up to BATCH ids, locked so that two runs never erase (and log) the same rows."""
    if dry_run:
        return list(queryset.order_by("pk").values_list("pk", flat=True)[:BATCH])
    return list(
        queryset.order_by("pk")
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)[:BATCH]
    )


def _erase_reports(
    agency: Agency, now: datetime, days: int, kept: set[int], dry_run: bool
) -> list[int]:
    cutoff = now - timedelta(days=days)
    let_go = RetainDecision.objects.filter(
        agency=agency,
        record_type=RecordType.INTELLIGENCE_REPORT,
        outcome=RetainDecision.Outcome.DISPOSE,
    ).values("object_id")
    candidates = IntelligenceReport.objects.filter(
        agency=agency, erased_at__isnull=True, created_at__lt=cutoff, pk__in=let_go
    ).exclude(pk__in=kept)
    with transaction.atomic():
        ids = _claim(candidates, dry_run)
        if ids and not dry_run:
            IntelligenceReport.objects.filter(pk__in=ids).update(
                intelligence_text="",
                source_details="",
                handling_conditions="",
                crime_reference="",
                erased_at=now,
            )
            for export in EvidenceExport.objects.filter(report_id__in=ids).exclude(file=""):
                export.file.delete(save=False)
                EvidenceExport.objects.filter(pk=export.pk).update(file="")
            _log(agency, RecordType.INTELLIGENCE_REPORT, ids, days, now)
    return ids


def _erase_messages(
    agency: Agency,
    now: datetime,
    days: int,
    kept: set[int],
    going_reports: list[int],
    dry_run: bool,
) -> list[int]:
    cutoff = now - timedelta(days=days)
    cited = IntelligenceReport.messages.through.objects.filter(
        intelligencereport__erased_at__isnull=True
    ).exclude(intelligencereport_id__in=going_reports if dry_run else [])
    retained = RetainDecision.objects.filter(
        agency=agency, record_type=RecordType.MESSAGE, review_on__gt=now.date()
    ).values("object_id")
    candidates = (
        InboundMessage.objects.filter(agency=agency, erased_at__isnull=True, received_at__lt=cutoff)
        .exclude(pk__in=kept)
        .exclude(pk__in=cited.values("inboundmessage_id"))
        .exclude(pk__in=retained)
    )
    with transaction.atomic():
        ids = _claim(candidates, dry_run)
        if ids and not dry_run:
            InboundMessage.objects.filter(pk__in=ids).update(
                text="",
                raw_payload=b"",
                url="",
                author_id="",
                author_handle="",
                author_display_name="",
                author_location="",
                media=[],
                geo_lat=None,
                geo_lon=None,
                hidden_reason="",
                erased_at=now,
            )
            InboundRevision.objects.filter(message_id__in=ids).delete()
            for captured in CapturedMedia.objects.filter(message_id__in=ids):
                if captured.file:
                    captured.file.delete(save=False)
                captured.delete()
            MessageTriage.objects.filter(message_id__in=ids).update(place="", signals=[])
            _log(agency, RecordType.MESSAGE, ids, days, now)
    return ids


def _erase_notes(
    agency: Agency, now: datetime, days: int, kept: set[int], dry_run: bool
) -> list[int]:
    cutoff = now - timedelta(days=days)
    candidates = ContactNote.objects.filter(contact__agency=agency, created_at__lt=cutoff).exclude(
        contact_id__in=kept
    )
    with transaction.atomic():
        ids = _claim(candidates, dry_run)
        if ids and not dry_run:
            ContactNote.objects.filter(pk__in=ids).delete()
            _log(agency, RecordType.CONTACT_NOTE, ids, days, now)
    return ids


def _erase_contacts(
    agency: Agency,
    now: datetime,
    days: int,
    kept: set[int],
    going: DisposalReport,
    dry_run: bool,
) -> list[int]:
    """Contacts with nothing left: every message erased, no notes (in a dry run, those
    this run would erase count as gone)."""
    cutoff = now - timedelta(days=days)
    live_messages = InboundMessage.objects.filter(
        triage__conversation__contact=OuterRef("pk"), erased_at__isnull=True
    ).exclude(pk__in=going.erased.get(RecordType.MESSAGE, []) if dry_run else [])
    notes = ContactNote.objects.filter(contact=OuterRef("pk")).exclude(
        pk__in=going.erased.get(RecordType.CONTACT_NOTE, []) if dry_run else []
    )
    candidates = (
        PublicContact.objects.filter(agency=agency, erased_at__isnull=True, last_seen_at__lt=cutoff)
        .exclude(pk__in=kept)
        .exclude(Exists(live_messages))
        .exclude(Exists(notes))
    )
    with transaction.atomic():
        ids = _claim(candidates, dry_run)
        if ids and not dry_run:
            for pk in ids:
                PublicContact.objects.filter(pk=pk).update(
                    handle="", display_name="", location="", author_id=f"erased-{pk}", erased_at=now
                )
            for conversation in Conversation.objects.filter(contact_id__in=ids).only("pk"):
                Conversation.objects.filter(pk=conversation.pk).update(
                    author_id=f"erased-{conversation.pk}",
                    thread_key=f"erased-{conversation.pk}",
                    routing_reason="",
                    status_note="",
                )
            _log(agency, RecordType.CONTACT, ids, days, now)
    return ids


def run_disposal(
    *, now: datetime | None = None, dry_run: bool = False, agency: Agency | None = None
) -> DisposalReport:
    """Erase what is past retention and neither held, restricted nor retained: for one
    agency, or all of them (the daily job).

    Order: reports (only those a review let go), then messages (those cited by a kept
    report wait for it), notes, then contacts with nothing left. Each step claims its
    rows with SKIP LOCKED, erases them and writes one ``records.erased`` event (ids and
    the rule, never content) in one transaction; steps repeat until less than a batch
    is left, so a backlog clears in one run.
    """
    now = now or timezone.now()
    report = DisposalReport()
    agencies = [agency] if agency is not None else list(Agency.objects.order_by("pk"))
    for one in agencies:
        _dispose_agency(one, now, dry_run, report)
    return report


def _repeat(
    kind: str, report: DisposalReport, dry_run: bool, step: Callable[[], list[int]]
) -> None:
    while True:
        ids = step()
        report.add(kind, ids)
        if dry_run or len(ids) < BATCH:
            return


def _dispose_agency(agency: Agency, now: datetime, dry_run: bool, report: DisposalReport) -> None:
    days = retention_days(agency)
    kept_contacts, kept_reports, kept_messages = _kept(agency)
    _repeat(
        RecordType.INTELLIGENCE_REPORT,
        report,
        dry_run,
        partial(_erase_reports, agency, now, days["intelligence_report"], kept_reports, dry_run),
    )
    _repeat(
        RecordType.MESSAGE,
        report,
        dry_run,
        partial(
            _erase_messages,
            agency,
            now,
            days["message"],
            kept_messages,
            report.erased.get(RecordType.INTELLIGENCE_REPORT, []),
            dry_run,
        ),
    )
    _repeat(
        RecordType.CONTACT_NOTE,
        report,
        dry_run,
        partial(_erase_notes, agency, now, days["contact_note"], kept_contacts, dry_run),
    )
    _repeat(
        RecordType.CONTACT,
        report,
        dry_run,
        partial(_erase_contacts, agency, now, days["contact"], kept_contacts, report, dry_run),
    )
