"""Intelligence pages: raise a report from a conversation, the analysts' queue, a report
(every opening logged), evidence bundles. Thin views."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from beatdesk.agencies.access import agency_of, staff_of, staff_view
from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.roles import DESK_ROLES
from beatdesk.channels.models import InboundMessage
from beatdesk.inbox.access import access_conversation
from beatdesk.web.feedback import run_with_message

from . import actions
from .access import ANALYSTS, access_export, access_report
from .forms import ReportForm
from .models import IntelligenceReport

PAGE_SIZE = 50


@staff_view(ANALYSTS)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    agency = agency_of(request.user)
    status = request.GET.get("status", "open")
    reports = IntelligenceReport.objects.filter(agency=agency).select_related(
        "created_by", "assigned_to", "conversation__contact"
    )
    if status == "filed":
        reports = reports.filter(status=IntelligenceReport.Status.FILED)
    else:
        status = "open"
        reports = reports.exclude(status=IntelligenceReport.Status.FILED).order_by(
            "created_at", "id"
        )
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "intelligence/queue.html", {"page": page, "status": status})


@staff_view(DESK_ROLES)
@require_http_methods(["GET", "POST"])
def raise_from_conversation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    staff = staff_of(request)
    conversation = access_conversation(staff, conversation_id)
    theirs = InboundMessage.objects.filter(
        agency=conversation.agency, triage__conversation=conversation
    ).order_by("created_at", "id")
    if request.method == "POST":
        form = ReportForm(request.POST, messages=theirs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = actions.raise_report(
                    actor=staff,
                    conversation=conversation,
                    messages=list(data["messages"]),
                    source_evaluation=data["source_evaluation"],
                    assessment=data["assessment"],
                    handling_code=data["handling_code"],
                    handling_conditions=data["handling_conditions"],
                    intelligence_text=data["intelligence_text"],
                    source_details=data["source_details"],
                    crime_reference=data["crime_reference"],
                )
            except ActionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    f"{report.reference} ({report.grading}) sent to "
                    f"{report.team.name if report.team else 'the intelligence queue'}.",
                )
                return redirect("inbox:conversation", conversation_id=conversation.pk)
    else:
        form = ReportForm(messages=theirs, initial={"messages": list(theirs)})
    return render(request, "intelligence/raise.html", {"form": form, "conversation": conversation})


@staff_view(ANALYSTS)
@require_GET
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    staff = staff_of(request)
    report = access_report(staff, report_id)
    # Only analysts reach this page, and they read the source details too.
    actions.record_consultation(actor=staff, report=report, request=request, source_shown=True)
    return render(
        request,
        "intelligence/report.html",
        {
            "report": report,
            "cited": report.messages.select_related("account").order_by("created_at", "id"),
            "exports": report.exports.select_related("created_by"),
        },
    )


@staff_view(ANALYSTS)
@require_POST
def report_take(request: HttpRequest, report_id: int) -> HttpResponse:
    staff = staff_of(request)
    report = access_report(staff, report_id)
    run_with_message(
        request, "It is yours.", lambda: actions.take_report(actor=staff, report=report)
    )
    return redirect("intelligence:report", report_id=report.pk)


@staff_view(ANALYSTS)
@require_POST
def report_file(request: HttpRequest, report_id: int) -> HttpResponse:
    staff = staff_of(request)
    report = access_report(staff, report_id)
    actions.file_report(actor=staff, report=report)
    messages.success(request, "Filed.")
    return redirect("intelligence:report", report_id=report.pk)


@staff_view(ANALYSTS)
@require_POST
def report_export(request: HttpRequest, report_id: int) -> HttpResponse:
    staff = staff_of(request)
    report = access_report(staff, report_id)
    try:
        export, _ = actions.export_evidence(
            actor=staff, report=report, recipient=request.POST.get("recipient", "")
        )
    except ActionError as error:
        messages.error(request, str(error))
        return redirect("intelligence:report", report_id=report.pk)
    messages.success(
        request,
        f"Evidence bundle {export.pk} sealed: SHA-256 {export.bundle_sha256}. "
        "Check a copy with `beatdesk evidence verify`.",
    )
    return redirect("intelligence:report", report_id=report.pk)


@staff_view(ANALYSTS)
@require_GET
def export_download(request: HttpRequest, export_id: int) -> HttpResponse:
    staff = staff_of(request)
    export = access_export(staff, export_id)
    try:
        bundle = actions.sealed_bundle(actor=staff, export=export)
    except ActionError as error:
        messages.error(request, str(error))
        if export.report_id is not None:
            return redirect("intelligence:report", report_id=export.report_id)
        return redirect("intelligence:queue")
    response = HttpResponse(bundle, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="evidence-{export.pk}.zip"'
    response["X-Bundle-SHA256"] = export.bundle_sha256
    return response
