"""Intelligence test objects, made through the real actions."""

from __future__ import annotations

from beatdesk.agencies.models import Agency, Staff
from beatdesk.agencies.roles import Role
from beatdesk.channels.models import InboundMessage
from beatdesk.intelligence import actions
from beatdesk.intelligence.models import EvidenceExport, IntelligenceReport
from tests.conftest import make_staff
from tests.inbox.factories import make_conversation


def raise_for(agency: Agency, author: Staff | None = None, text: str = "") -> IntelligenceReport:
    conversation = make_conversation(
        agency, text or "Lads dealing from the white van behind the chippy every night"
    )
    n = Staff.objects.count()
    author = author or make_staff(agency, Role.DESK_OPERATOR, f"{agency.slug}-raiser-{n}")
    return actions.raise_report(
        actor=author,
        conversation=conversation,
        messages=list(InboundMessage.objects.filter(triage__conversation=conversation)),
        source_evaluation="2",
        assessment="B",
        handling_code="P",
        handling_conditions="",
        intelligence_text="Drug supply from a white van behind the chip shop, evenings.",
        source_details="Resident, in contact with the neighbourhood team since 2021.",
    )


def make_report(agency: Agency) -> IntelligenceReport:
    return raise_for(agency)


def make_export(agency: Agency) -> EvidenceExport:
    report = raise_for(agency)
    n = Staff.objects.count()
    analyst = make_staff(agency, Role.INTELLIGENCE_ANALYST, f"{agency.slug}-analyst-{n}")
    export, _ = actions.export_evidence(actor=analyst, report=report)
    return export
