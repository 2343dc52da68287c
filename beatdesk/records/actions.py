"""Records changes: retention rules, legal holds, retain decisions, restriction of
processing, subject access exports, and the disposal job. Each owns its transaction and
audit event; the disposal job's events name what was erased and the rule, never the
content."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from beatdesk.agencies.access import agency_of
from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Agency, Staff
from beatdesk.audit.models import AuditEvent, PersonalDataCategory
from beatdesk.audit.record import record_event
from beatdesk.channels.models import InboundMessage, InboundRevision
from beatdesk.inbox.models import ContactNote, MessageTriage, PublicContact
from beatdesk.intelligence.models import EvidenceExport, IntelligenceReport
from beatdesk.intelligence.seal import pack

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
    """The messages a public account sent (as the inbox matches them to the contact)."""
    return Q(
        agency_id=contact.agency_id,
        platform=contact.platform,
    ) & (Q(author_id=contact.author_id) | Q(author_id="", author_handle=contact.author_id))


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
            summary=f"Legal hold on {contact or report}",
            data={
                "contact": contact.pk if contact else None,
                "report": report.pk if report else None,
                "reason": reason[:1000],
            },
        )
    return hold


def release_hold(*, actor: Staff, hold: LegalHold, reason: str) -> LegalHold:
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


# -- Restriction and subject access ----------------------------------------------------


def restrict_processing(
    *, actor: Staff, contact: PublicContact, reason: str
) -> ProcessingRestriction:
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
                summary=f"Processing of {contact}'s data restricted",
                data={"reason": reason[:1000]},
                personal_data=PersonalDataCategory.ALTERATION,
            )
    return restriction


def lift_restriction(*, actor: Staff, contact: PublicContact, reason: str) -> None:
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
                summary=f"Restriction on {contact}'s data lifted",
                data={"reason": reason[:1000]},
            )


def restricted_messages(messages: list[InboundMessage]) -> list[InboundMessage]:
    """Those of ``messages`` whose author asked for processing to be restricted."""
    restricted = list(
        ProcessingRestriction.objects.filter(
            contact__agency_id__in={m.agency_id for m in messages}
        ).select_related("contact")
    )
    if not restricted:
        return []
    keys = {(r.contact.agency_id, r.contact.platform, r.contact.author_id) for r in restricted}
    return [
        m for m in messages if (m.agency_id, m.platform, m.author_id or m.author_handle) in keys
    ]


def _utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def subject_access_export(*, actor: Staff, contact: PublicContact) -> bytes:
    """Everything held about one public account, as a verifiable bundle: their messages
    (with the platforms' payloads), notes about them, conversations, reports citing them
    (graded, source details withheld), and disclosures made and to whom."""
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
    exports_of = [
        str(pk)
        for pk in EvidenceExport.objects.filter(report__in=reports).values_list("pk", flat=True)
    ]
    disclosures = AuditEvent.objects.filter(
        agency_id=contact.agency_id, personal_data=PersonalDataCategory.DISCLOSURE
    ).filter(
        Q(object_type="intelligence.evidenceexport", object_id__in=exports_of)
        | Q(object_type="inbox.publiccontact", object_id=str(contact.pk))
    )
    files["summary.json"] = _json(
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


def _held(agency: Agency) -> tuple[set[int], set[int], set[int]]:
    """(contact ids, report ids, message ids) within an active legal hold."""
    holds = list(
        LegalHold.objects.filter(agency=agency, released_at__isnull=True).select_related("contact")
    )
    contacts = {h.contact_id for h in holds if h.contact_id}
    reports = {h.report_id for h in holds if h.report_id}
    contact_q = Q(pk__in=[])
    for hold in holds:
        if hold.contact is not None:
            contact_q |= messages_of(hold.contact)
    messages = set(InboundMessage.objects.filter(contact_q).values_list("pk", flat=True))
    messages |= set(
        IntelligenceReport.messages.through.objects.filter(
            intelligencereport_id__in=reports
        ).values_list("inboundmessage_id", flat=True)
    )
    reports |= set(
        IntelligenceReport.messages.through.objects.filter(
            inboundmessage_id__in=messages
        ).values_list("intelligencereport_id", flat=True)
    )
    return contacts, reports, messages


def _retained(agency: Agency, record_type: str, today: date) -> set[int]:
    return set(
        RetainDecision.objects.filter(
            agency=agency, record_type=record_type, review_on__gt=today
        ).values_list("object_id", flat=True)
    )


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


def run_disposal(*, now: datetime | None = None, dry_run: bool = False) -> DisposalReport:
    """Erase what is past retention and neither held nor retained, agency by agency.

    Reports first (their messages then follow the messages' own period), then
    messages, notes, and contacts with nothing left. Each record type is one
    transaction with one audit event; at most ``BATCH`` records of a type per run.
    """
    now = now or timezone.now()
    report = DisposalReport()
    for agency in Agency.objects.order_by("pk"):
        days = retention_days(agency)
        cutoff = {kind: now - timedelta(days=d) for kind, d in days.items()}
        today = now.date()
        held_contacts, held_reports, held_messages = _held(agency)

        def done(kind: str, ids: list[int]) -> None:
            report.erased.setdefault(kind, []).extend(ids)

        # Intelligence reports.
        kind = RecordType.INTELLIGENCE_REPORT
        ids = [
            pk
            for pk in IntelligenceReport.objects.filter(
                agency=agency, erased_at__isnull=True, created_at__lt=cutoff[kind]
            )
            .exclude(pk__in=held_reports)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
            if pk not in _retained(agency, kind, today)
        ]
        if ids and not dry_run:
            with transaction.atomic():
                IntelligenceReport.objects.filter(pk__in=ids).update(
                    intelligence_text="",
                    source_details="",
                    handling_conditions="",
                    crime_reference="",
                    erased_at=now,
                )
                _log(agency, kind, ids, days[kind], now)
        done(kind, ids)

        # Messages: not held, not cited by a report that is still kept.
        kind = RecordType.MESSAGE
        cited = IntelligenceReport.messages.through.objects.filter(
            intelligencereport__erased_at__isnull=True
        ).values_list("inboundmessage_id", flat=True)
        if dry_run:
            cited = cited.exclude(
                intelligencereport_id__in=report.erased.get(RecordType.INTELLIGENCE_REPORT, [])
            )
        ids = list(
            InboundMessage.objects.filter(
                agency=agency, erased_at__isnull=True, received_at__lt=cutoff[kind]
            )
            .exclude(pk__in=held_messages)
            .exclude(pk__in=cited)
            .exclude(pk__in=_retained(agency, kind, today))
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if ids and not dry_run:
            with transaction.atomic():
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
                MessageTriage.objects.filter(message_id__in=ids).update(place="", signals=[])
                _log(agency, kind, ids, days[kind], now)
        done(kind, ids)

        # Notes.
        kind = RecordType.CONTACT_NOTE
        ids = list(
            ContactNote.objects.filter(contact__agency=agency, created_at__lt=cutoff[kind])
            .exclude(contact_id__in=held_contacts)
            .exclude(pk__in=_retained(agency, kind, today))
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if ids and not dry_run:
            with transaction.atomic():
                ContactNote.objects.filter(pk__in=ids).delete()
                _log(agency, kind, ids, days[kind], now)
        done(kind, ids)

        # Contacts with nothing left: no unerased messages, no notes, no restriction.
        kind = RecordType.CONTACT
        candidates = (
            PublicContact.objects.filter(
                agency=agency, erased_at__isnull=True, last_seen_at__lt=cutoff[kind]
            )
            .exclude(pk__in=held_contacts)
            .exclude(notes__isnull=False)
            .exclude(restriction__isnull=False)
            .order_by("pk")[:BATCH]
        )
        ids = [
            c.pk
            for c in candidates
            if not InboundMessage.objects.filter(messages_of(c), erased_at__isnull=True)
            .exclude(pk__in=ids_or_empty(report, RecordType.MESSAGE, dry_run))
            .exists()
        ]
        if ids and not dry_run:
            with transaction.atomic():
                for pk in ids:
                    PublicContact.objects.filter(pk=pk).update(
                        handle="",
                        display_name="",
                        location="",
                        author_id=f"erased-{pk}",
                        erased_at=now,
                    )
                _log(agency, kind, ids, days[kind], now)
        done(kind, ids)
    return report


def ids_or_empty(report: DisposalReport, kind: str, dry_run: bool) -> list[int]:
    """In a dry run, the messages this run would have erased count as erased."""
    return report.erased.get(kind, []) if dry_run else []
