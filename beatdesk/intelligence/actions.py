"""Changes to intelligence reports and evidence exports; each owns its transaction and
audit event. Reading a report is itself recorded (a consultation of personal data)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from beatdesk.agencies.access import agency_of
from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Staff, Team
from beatdesk.audit.models import PersonalDataCategory
from beatdesk.audit.record import record_event
from beatdesk.channels.models import InboundMessage
from beatdesk.inbox.models import Conversation
from beatdesk.records.actions import restricted_messages

from .bundle import build_bundle
from .models import (
    Assessment,
    EvidenceExport,
    HandlingCode,
    IntelligenceReport,
    SourceEvaluation,
)

__all__ = [
    "ActionError",
    "export_evidence",
    "file_report",
    "raise_report",
    "rebuild_bundle",
    "record_consultation",
    "take_report",
]


def _intelligence_team(agency_id: int) -> Team | None:
    return (
        Team.objects.filter(agency_id=agency_id, kind=Team.Kind.INTELLIGENCE).order_by("pk").first()
    )


def raise_report(
    *,
    actor: Staff,
    conversation: Conversation,
    messages: Sequence[InboundMessage],
    source_evaluation: str,
    assessment: str,
    handling_code: str,
    handling_conditions: str,
    intelligence_text: str,
    source_details: str,
    crime_reference: str = "",
) -> IntelligenceReport:
    """Grade what a conversation told us and send it to the intelligence team."""
    agency = agency_of(actor)
    if conversation.agency_id != agency.pk:
        raise ActionError("That conversation belongs to another agency.")
    intelligence_text = intelligence_text.strip()
    if not intelligence_text:
        raise ActionError("Write the intelligence: what is known, without naming the source.")
    if source_evaluation not in SourceEvaluation.values:
        raise ActionError("Choose a source evaluation (1, 2 or 3).")
    if assessment not in Assessment.values:
        raise ActionError("Choose an intelligence assessment (A to E).")
    if handling_code not in HandlingCode.values:
        raise ActionError("Choose a handling code (P or C).")
    handling_conditions = handling_conditions.strip()
    if handling_code == HandlingCode.CONDITIONS and not handling_conditions:
        raise ActionError("Handling code C needs its conditions written down.")
    if not messages:
        raise ActionError("Choose at least one message the intelligence comes from.")
    if any(m.agency_id != agency.pk for m in messages):
        raise ActionError("A chosen message belongs to another agency.")
    if restricted_messages(list(messages)):
        raise ActionError(
            "The author of a chosen message has asked for processing of their data to be "
            "restricted: it cannot be cited in a report. Ask standards."
        )
    with transaction.atomic():
        report = IntelligenceReport.objects.create(
            agency=agency,
            conversation=conversation,
            source_evaluation=source_evaluation,
            assessment=assessment,
            handling_code=handling_code,
            handling_conditions=handling_conditions if handling_code == "C" else "",
            intelligence_text=intelligence_text,
            source_details=source_details.strip(),
            crime_reference=crime_reference.strip()[:60],
            team=_intelligence_team(agency.pk),
            created_by=actor,
        )
        report.messages.set(messages)
        record_event(
            event_type="intelligence.report_raised",
            actor=actor,
            target=report,
            summary=f"{report.reference} graded {report.grading} from conversation "
            f"{conversation.pk}",
            data={
                "grading": report.grading,
                "conversation": conversation.pk,
                "messages": sorted(m.pk for m in messages),
                "team": report.team_id,
            },
            personal_data=PersonalDataCategory.COLLECTION,
        )
    return report


def record_consultation(
    *, actor: Staff, report: IntelligenceReport, request: HttpRequest | None, source_shown: bool
) -> None:
    """Every opening of a report is logged, saying whether the source details were shown."""
    with transaction.atomic():
        record_event(
            event_type="intelligence.report_viewed",
            actor=actor,
            target=report,
            summary=f"{report.reference} viewed" + (" with source details" if source_shown else ""),
            data={"source_details_shown": source_shown},
            personal_data=PersonalDataCategory.CONSULTATION,
            request=request,
        )


def take_report(*, actor: Staff, report: IntelligenceReport) -> IntelligenceReport:
    with transaction.atomic():
        locked = IntelligenceReport.objects.select_for_update().get(pk=report.pk)
        if locked.status == IntelligenceReport.Status.FILED:
            raise ActionError("This report is already filed.")
        locked.assigned_to = actor
        locked.status = IntelligenceReport.Status.WITH_ANALYST
        locked.save(update_fields=["assigned_to", "status"])
        record_event(
            event_type="intelligence.report_taken",
            actor=actor,
            target=locked,
            summary=f"{locked.reference} taken by {actor.get_username()}",
        )
    return locked


def file_report(*, actor: Staff, report: IntelligenceReport) -> IntelligenceReport:
    with transaction.atomic():
        locked = IntelligenceReport.objects.select_for_update().get(pk=report.pk)
        if locked.status == IntelligenceReport.Status.FILED:
            return locked
        locked.status = IntelligenceReport.Status.FILED
        locked.assigned_to = locked.assigned_to or actor
        locked.save(update_fields=["assigned_to", "status"])
        record_event(
            event_type="intelligence.report_filed",
            actor=actor,
            target=locked,
            summary=f"{locked.reference} assessed and filed",
        )
    return locked


def export_evidence(*, actor: Staff, report: IntelligenceReport) -> tuple[EvidenceExport, bytes]:
    """Fix what the bundle holds, build it, and record its SHA-256 in the audit trail.

    The export row is created first so the bundle's custody excerpt can end with the
    event that created it; the bundle's own hash is then recorded in a second event.
    """
    message_ids = sorted(report.messages.values_list("pk", flat=True))
    if restricted_messages(list(report.messages.all())):
        raise ActionError(
            "The author of a cited message has asked for processing of their data to be "
            "restricted: no evidence bundle can be made. Ask standards."
        )
    if report.erased_at is not None:
        raise ActionError("This report was erased under the retention rules.")
    with transaction.atomic():
        now = timezone.now()
        export = EvidenceExport.objects.create(
            agency=report.agency,
            report=report,
            conversation=report.conversation,
            message_ids=message_ids,
            audit_seq=0,
            created_by=actor,
            created_at=now,
        )
        created = record_event(
            event_type="evidence.exported",
            actor=actor,
            target=export,
            summary=f"Evidence bundle of {report.reference}: {len(message_ids)} message(s)",
            data={"report": report.pk, "messages": message_ids},
            personal_data=PersonalDataCategory.DISCLOSURE,
        )
        export.audit_seq = created.seq
        bundle = build_bundle(export)
        export.bundle_sha256 = hashlib.sha256(bundle).hexdigest()
        export.size = len(bundle)
        export.save(update_fields=["audit_seq", "bundle_sha256", "size"])
        record_event(
            event_type="evidence.sealed",
            actor=actor,
            target=export,
            summary=f"Evidence bundle {export.pk} sealed ({len(bundle)} bytes)",
            data={"sha256": export.bundle_sha256, "size": len(bundle)},
        )
    return export, bundle


def rebuild_bundle(*, actor: Staff, export: EvidenceExport) -> bytes:
    """The export's bundle again, byte for byte, or an error if anything it holds has
    changed since (the recorded SHA-256 no longer matches). Each download is logged."""
    bundle = build_bundle(export)
    digest = hashlib.sha256(bundle).hexdigest()
    with transaction.atomic():
        record_event(
            event_type="evidence.downloaded",
            actor=actor,
            target=export,
            summary=f"Evidence bundle {export.pk} downloaded",
            data={"sha256": digest, "matches_seal": digest == export.bundle_sha256},
            personal_data=PersonalDataCategory.DISCLOSURE,
        )
    if digest != export.bundle_sha256:
        raise ActionError(
            "This bundle no longer rebuilds to the bytes sealed at export: the material "
            "changed since. Export it again, and keep the sealed copy's record."
        )
    return bundle
