"""Insights test objects."""

from __future__ import annotations

import hashlib
from datetime import date

from django.core.files.base import ContentFile

from beatdesk.agencies.models import Agency
from beatdesk.insights.models import LeadershipReport

FAKE_PDF = b"%PDF-1.7\n% a stored report stand-in for access tests\n%%EOF\n"


def make_leadership_report(agency: Agency) -> LeadershipReport:
    """A stored weekly report (a tiny stand-in file: access tests need no real PDF)."""
    n = LeadershipReport.objects.count()
    report = LeadershipReport(
        agency=agency,
        kind=LeadershipReport.Kind.REQUESTED,
        period_start=date(2026, 1, 5),
        period_end=date(2026, 1, 11),
        compare_start=date(2025, 12, 29),
        compare_end=date(2026, 1, 4),
        sha256=hashlib.sha256(FAKE_PDF).hexdigest(),
        size=len(FAKE_PDF),
    )
    report.file.save(f"test-{agency.slug}-{n}.pdf", ContentFile(FAKE_PDF), save=False)
    report.save()
    return report
