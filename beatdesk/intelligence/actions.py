"""Changes to intelligence reports and evidence exports; each owns its transaction and
audit event. Reading a report is itself recorded (a consultation of personal data)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
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
from .capture import capture_media
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
    "record_consultation",
    "sealed_bundle",
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
    if any(m.erased_at is not None for m in messages):
        raise ActionError("A chosen message was erased under the retention rules.")
    if restricted_messages(list(messages)):
        raise ActionError(
            "The author of a chosen message has asked for processing of their data to be "
            "restricted: it cannot be cited in a report. Ask standards."
        )
    captured = capture_media(list(messages))  # network: outside the transaction
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
                "media_captured": [c.sha256 for c in captured if c.sha256],
                "media_failed": [c.error for c in captured if c.error],
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


def export_evidence(
    *, actor: Staff, report: IntelligenceReport, recipient: str = ""
) -> tuple[EvidenceExport, bytes]:
    """Fix what the bundle holds, build it, store it and seal its SHA-256 in the audit
    trail.

    Three steps, so the PDF is never rendered while the audit chain is locked: the
    export row and its event (whose seq bounds the custody excerpt) are committed
    first; the bundle is built outside any transaction; then it is stored and sealed.
    """
    recipient = " ".join(recipient.split())[:200]
    messages = list(report.messages.all())
    if report.erased_at is not None:
        raise ActionError("This report was erased under the retention rules.")
    if restricted_messages(messages):
        raise ActionError(
            "The author of a cited message has asked for processing of their data to be "
            "restricted: no evidence bundle can be made. Ask standards."
        )
    message_ids = sorted(m.pk for m in messages)
    with transaction.atomic():
        export = EvidenceExport.objects.create(
            agency=report.agency,
            report=report,
            conversation=report.conversation,
            message_ids=message_ids,
            audit_seq=0,
            created_by=actor,
            created_at=timezone.now(),
            recipient=recipient,
        )
        created = record_event(
            event_type="evidence.exported",
            actor=actor,
            target=export,
            summary=f"Evidence bundle of {report.reference}: {len(message_ids)} message(s)",
            data={"report": report.pk, "messages": message_ids},
            personal_data=PersonalDataCategory.DISCLOSURE,
            recipient=recipient,
        )
        export.audit_seq = created.seq
        export.save(update_fields=["audit_seq"])
    bundle = build_bundle(export)
    digest = hashlib.sha256(bundle).hexdigest()
    stored = default_storage.save(
        f"evidence/bundles/{export.agency_id}/{uuid.uuid4()}.zip", ContentFile(bundle)
    )
    with transaction.atomic():
        export.file.name = stored
        export.bundle_sha256 = digest
        export.size = len(bundle)
        export.save(update_fields=["file", "bundle_sha256", "size"])
        record_event(
            event_type="evidence.sealed",
            actor=actor,
            target=export,
            summary=f"Evidence bundle {export.pk} sealed ({len(bundle)} bytes)",
            data={"sha256": digest, "size": len(bundle)},
        )
    return export, bundle


def sealed_bundle(*, actor: Staff, export: EvidenceExport) -> bytes:
    """The export's sealed bytes for download, or an error saying why not: never built,
    erased under retention, changed in storage, or its people's processing restricted.
    A download is logged as a disclosure; a refusal is logged as such."""
    export = EvidenceExport.objects.select_related("report", "agency").get(pk=export.pk)
    problem = ""
    bundle = b""
    if export.report is not None and export.report.erased_at is not None:
        problem = "This bundle's report was erased under the retention rules."
    elif not export.file or not export.bundle_sha256:
        problem = "This bundle was never sealed (its export did not finish): export again."
    elif restricted_messages(
        list(InboundMessage.objects.filter(pk__in=export.message_ids, agency=export.agency))
    ):
        problem = "A person in this bundle has asked for processing to be restricted."
    else:
        try:
            with export.file.open("rb") as handle:
                bundle = handle.read()
        except (OSError, ValueError):
            problem = "The stored bundle is missing: export it again."
        if not problem and hashlib.sha256(bundle).hexdigest() != export.bundle_sha256:
            problem = "The stored bundle no longer matches its seal: it has been altered."
    with transaction.atomic():
        if problem:
            record_event(
                event_type="evidence.download_refused",
                actor=actor,
                target=export,
                summary=f"Evidence bundle {export.pk} refused: {problem}",
            )
        else:
            record_event(
                event_type="evidence.downloaded",
                actor=actor,
                target=export,
                summary=f"Evidence bundle {export.pk} downloaded",
                data={"sha256": export.bundle_sha256},
                personal_data=PersonalDataCategory.DISCLOSURE,
                recipient=export.recipient,
            )
    if problem:
        raise ActionError(problem)
    return bundle
