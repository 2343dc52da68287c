"""Insights pages: the dashboard, its CSV and PDF, and the stored leadership reports.
Thin views: the figures come from ``dashboard``; files from ``report``."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from beatdesk.agencies.access import agency_of, staff_of, staff_view

from . import report
from .access import INSIGHTS_READERS, access_report, access_scope
from .dashboard import Dashboard, build_dashboard
from .figures import local_day
from .forms import DashboardForm
from .models import BuildState, LeadershipReport


def _dashboard(request: HttpRequest) -> tuple[DashboardForm, Dashboard | None]:
    agency = agency_of(request.user)
    form = DashboardForm(request.GET, agency=agency, today=local_day(timezone.now()))
    if not form.is_valid():
        return form, None
    scope, scope_id = form.scope_key()
    label = access_scope(request.user, scope, scope_id)
    period, compare = form.periods()
    return form, build_dashboard(agency, scope, scope_id, label, period, compare)


def _refused(form: DashboardForm) -> HttpResponse:
    """A file cannot be made for these choices: say which, in plain text."""
    return HttpResponse(
        "Check the choices: " + form.problems(),
        status=400,
        content_type="text/plain; charset=utf-8",
    )


@staff_view(INSIGHTS_READERS)
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    form, dashboard = _dashboard(request)
    agency = agency_of(request.user)
    state = BuildState.objects.filter(agency=agency).first()
    context = {
        "form": form,
        "query": form.query() if dashboard else "",
        "built_at": state.built_at if state else None,
        "reports": LeadershipReport.objects.filter(agency=agency)[:12],
    }
    if dashboard is not None:
        context |= report.page_context(dashboard)
    return render(request, "insights/overview.html", context, status=200 if dashboard else 400)


@staff_view(INSIGHTS_READERS)
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    form, dashboard = _dashboard(request)
    if dashboard is None:
        return _refused(form)
    response = HttpResponse(report.csv_text(dashboard), content_type="text/csv; charset=utf-8")
    name = report.pdf_filename(dashboard).removesuffix(".pdf") + ".csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@staff_view(INSIGHTS_READERS)
@require_GET
def export_pdf(request: HttpRequest) -> HttpResponse:
    form, dashboard = _dashboard(request)
    if dashboard is None:
        return _refused(form)
    data = report.pdf_bytes(dashboard)
    report.note_download(staff_of(request), dashboard)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.pdf_filename(dashboard)}"'
    return response


@staff_view(INSIGHTS_READERS)
@require_GET
def stored_report(request: HttpRequest, leadership_report_id: int) -> HttpResponse:
    stored = access_report(request.user, leadership_report_id)
    data = report.report_bytes(stored)
    if data is None:
        raise Http404("This report's file is missing or was altered.")
    report.note_stored_download(staff_of(request), stored)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{(stored.file.name or "report.pdf").rsplit("/", 1)[-1]}"'
    )
    return response
