"""Who may read intelligence, and agency-scoped fetches (same 404 for missing and
not-yours)."""

from __future__ import annotations

from typing import Any

from beatdesk.agencies.access import access_in_agency
from beatdesk.agencies.roles import Role

from .models import EvidenceExport, IntelligenceReport

# Intelligence analysts work the queue and read reports (with their source details).
# Anyone working the inbox may raise a report, but reading it back is the analysts'.
ANALYSTS: frozenset[str] = frozenset({Role.INTELLIGENCE_ANALYST})


def access_report(user: Any, report_id: Any) -> IntelligenceReport:
    return access_in_agency(user, IntelligenceReport, report_id)


def access_export(user: Any, export_id: Any) -> EvidenceExport:
    return access_in_agency(user, EvidenceExport, export_id)
