"""A dashboard as CSV and as a PDF for leadership, and the weekly report.

The PDF is the dashboard page's content (headline table, breakdowns, response times,
charts with their data) rendered by WeasyPrint. The weekly report covers the last full
week (Monday to Sunday) against the week before, for the whole agency; it is stored
with its SHA-256 and listed on the insights page.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date, datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from beatdesk.agencies.models import Agency, Staff
from beatdesk.audit.record import record_event
from beatdesk.core.pdf import render_pdf

from . import charts
from .dashboard import Dashboard, Period, build_dashboard, format_value
from .figures import local_day
from .models import LeadershipReport, Scope

WEEKLY_HOUR = 6  # local time on Monday; the week before is complete by then
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Spreadsheet-safe: text that a spreadsheet would run as a formula gets a quote
    (numbers, negative ones included, stay numbers)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


def csv_text(dashboard: Dashboard) -> str:
    """Every figure of the dashboard, one per row, with both periods and the change."""
    out = io.StringIO()
    writer = csv.writer(out)

    def row(*cells: Any) -> None:
        writer.writerow([_cell(c) for c in cells])

    row("scope", dashboard.scope_label)
    row("period", dashboard.period.start.isoformat(), dashboard.period.end.isoformat())
    row("compared with", dashboard.compare.start.isoformat(), dashboard.compare.end.isoformat())
    row()
    row("section", "measure", "current", "previous", "change", "unit")
    for figure in dashboard.headline:
        unit = {"s": "seconds", "%": "percent"}.get(figure.unit, "count")
        row(
            "headline",
            figure.label,
            _number(figure.current),
            _number(figure.previous),
            _number(figure.change),
            unit,
        )
    for section, rows in (
        ("messages by category", dashboard.categories()),
        ("posts by purpose", dashboard.purposes()),
        ("outcomes", dashboard.outcomes()),
    ):
        for label, now, then in rows:
            row(section, label, now, then, now - then, "count")
    for kind, now_doc, then_doc in (
        ("followers", dashboard.current.audience, dashboard.previous.audience),
        ("engagers", dashboard.current.engagement, dashboard.previous.engagement),
    ):
        for key in ("sampled", "located", "local"):
            row(
                "audience sample",
                f"{kind} {key}",
                now_doc.get(key, 0),
                then_doc.get(key, 0),
                "",
                "count",
            )
    for r in dashboard.response_rows():
        p = r["priority"]
        row("response", f"{p} conversations", r["started"], r["previous_started"], "", "count")
        for key, label, unit in (
            ("median", "median first response", "seconds"),
            ("p90", "90th percentile first response", "seconds"),
            ("met", "targets met", "percent"),
        ):
            row(
                "response",
                f"{p} {label}",
                _number(r[key]),
                _number(r[f"previous_{key}"]),
                "",
                unit,
            )
    row()
    row(
        "day",
        "date",
        "messages",
        "posts",
        "engagements",
        "compared date",
        "messages",
        "posts",
        "engagements",
    )
    messages = dashboard.series("messages", step=1)
    posts = dashboard.series("posts", step=1)
    engagements = dashboard.series("engagements", step=1)
    now_days, then_days = dashboard.period.each_day(), dashboard.compare.each_day()
    for i, (number, m_now, m_then) in enumerate(messages):
        row(
            number,
            now_days[i].isoformat() if i < len(now_days) else "",
            int(m_now),
            int(posts[i][1]),
            int(engagements[i][1]),
            then_days[i].isoformat() if i < len(then_days) else "",
            int(m_then),
            int(posts[i][2]),
            int(engagements[i][2]),
        )
    return out.getvalue()


def page_context(dashboard: Dashboard) -> dict[str, Any]:
    """What the page and the PDF both show (charts included)."""
    now_label = f"This period ({dashboard.period})"
    then_label = f"Compared ({dashboard.compare})"
    categories = dashboard.categories()
    messages = dashboard.series("messages")
    engagements = dashboard.series("engagements")
    return {
        "dashboard": dashboard,
        "headline": [
            {
                "figure": f,
                "current": format_value(f.current, f.unit),
                "previous": format_value(f.previous, f.unit),
                "change": _change_text(f.change, f.unit, f.change_percent),
            }
            for f in dashboard.headline
        ],
        "categories": categories,
        "purposes": dashboard.purposes(),
        "outcomes": dashboard.outcomes(),
        "responses": [
            r
            | {
                "median_text": format_value(r["median"], "s"),
                "p90_text": format_value(r["p90"], "s"),
                "met_text": format_value(r["met"], "%"),
                "previous_median_text": format_value(r["previous_median"], "s"),
                "previous_p90_text": format_value(r["previous_p90"], "s"),
                "previous_met_text": format_value(r["previous_met"], "%"),
            }
            for r in dashboard.response_rows()
        ],
        "messages_chart": charts.line_chart(
            messages,
            title=f"Messages from the public per {dashboard.series_unit}",
            current_label=now_label,
            previous_label=then_label,
            unit=dashboard.series_unit,
        ),
        "engagement_chart": charts.line_chart(
            engagements,
            title=f"Engagements per {dashboard.series_unit} (by when the post went out)",
            current_label=now_label,
            previous_label=then_label,
            unit=dashboard.series_unit,
        ),
        "category_chart": charts.bar_chart(
            categories,
            title="Messages by category",
            current_label=now_label,
            previous_label=then_label,
        ),
        "series": [
            (a[0], a[1], a[2], b[1], b[2]) for a, b in zip(messages, engagements, strict=True)
        ],
    }


def _change_text(change: float | None, unit: str, percent: float | None) -> str:
    if change is None:
        return "\u2013"
    sign = "+" if change > 0 else "\u2212" if change < 0 else "±"
    magnitude = format_value(abs(change), unit)
    if unit == "%":
        magnitude = f"{abs(change):.1f} points"
    return f"{sign}{magnitude}" + (
        f" ({percent:+.0f}%)" if percent is not None and unit != "%" else ""
    )


def pdf_bytes(dashboard: Dashboard, *, made_at: datetime | None = None) -> bytes:
    made = timezone.localtime(made_at or timezone.now())
    page = render_to_string("insights/report_pdf.html", page_context(dashboard) | {"made_at": made})
    return render_pdf(page)


def pdf_filename(dashboard: Dashboard) -> str:
    return (
        f"beatdesk-insights-{dashboard.agency.slug}-{dashboard.scope}-{dashboard.scope_id}-"
        f"{dashboard.period.start.isoformat()}-{dashboard.period.end.isoformat()}.pdf"
    )


def last_full_week(today: date) -> Period:
    monday = today - timedelta(days=today.weekday())
    return Period(monday - timedelta(days=7), monday - timedelta(days=1))


def make_weekly(agency: Agency, now: datetime | None = None) -> LeadershipReport | None:
    """The weekly report of last week for ``agency``, made once (None if it exists).
    Read from the daily figures as they stand: callers refresh them first."""
    now = now or timezone.now()
    period = last_full_week(local_day(now))
    if LeadershipReport.objects.filter(
        agency=agency, kind=LeadershipReport.Kind.WEEKLY, period_start=period.start
    ).exists():
        return None
    dashboard = build_dashboard(agency, Scope.AGENCY, 0, agency.name, period, period.previous())
    data = pdf_bytes(dashboard, made_at=now)
    digest = hashlib.sha256(data).hexdigest()
    try:
        with transaction.atomic():
            report = LeadershipReport(
                agency=agency,
                kind=LeadershipReport.Kind.WEEKLY,
                period_start=period.start,
                period_end=period.end,
                compare_start=dashboard.compare.start,
                compare_end=dashboard.compare.end,
                sha256=digest,
                size=len(data),
                created_at=now,
            )
            report.file.save(pdf_filename(dashboard), ContentFile(data), save=False)
            report.save()
            record_event(
                event_type="insights.weekly_report",
                actor_label="insights schedule",
                agency=agency,
                target=report,
                summary=f"Weekly leadership report for {period} made",
                data={"sha256": digest, "size": len(data)},
            )
    except IntegrityError:
        report.file.delete(save=False)  # another process made it first
        return None
    return report


def report_bytes(report: LeadershipReport) -> bytes | None:
    """The stored PDF, or None when it is missing or no longer matches its SHA-256."""
    try:
        with report.file.open("rb") as handle:
            data: bytes = handle.read()
    except (FileNotFoundError, ValueError):
        return None
    return data if hashlib.sha256(data).hexdigest() == report.sha256 else None


def note_download(actor: Staff, dashboard: Dashboard) -> None:
    """Leadership PDFs leave the system: the download is recorded."""
    record_event(
        event_type="insights.pdf_downloaded",
        actor=actor,
        summary=f"Insights PDF for {dashboard.scope_label}, {dashboard.period}",
        data={
            "scope": dashboard.scope,
            "scope_id": dashboard.scope_id,
            "period": [dashboard.period.start.isoformat(), dashboard.period.end.isoformat()],
            "compare": [dashboard.compare.start.isoformat(), dashboard.compare.end.isoformat()],
        },
    )


def note_stored_download(actor: Staff, stored: LeadershipReport) -> None:
    record_event(
        event_type="insights.report_downloaded",
        actor=actor,
        target=stored,
        summary=f"Downloaded {stored}",
        data={"sha256": stored.sha256},
    )
