"""Records pages: retention rules with their reasoning, holds, disposal, and one public
account's records (hold, restriction, subject access export). Thin views."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from beatdesk.agencies.access import agency_of, staff_of, staff_view
from beatdesk.audit.record import record_event
from beatdesk.inbox.access import access_contact
from beatdesk.intelligence.access import access_report
from beatdesk.web.feedback import run_with_message

from . import actions
from .access import RECORDS_MANAGERS, access_hold
from .forms import ReasonForm, RetainForm, RuleForm
from .models import (
    DEFAULT_RETENTION,
    LegalHold,
    ProcessingRestriction,
    RecordType,
    RetainDecision,
    RetentionRule,
)


@staff_view(RECORDS_MANAGERS)
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    agency = agency_of(request.user)
    saved = {r.record_type: r for r in RetentionRule.objects.filter(agency=agency)}
    rules = []
    for kind in RecordType:
        rule = saved.get(kind.value)
        days, reasoning = DEFAULT_RETENTION[kind.value]
        rules.append(
            {
                "label": kind.label,
                "form": RuleForm(
                    initial={
                        "record_type": kind.value,
                        "keep_days": rule.keep_days if rule else days,
                        "reasoning": rule.reasoning if rule else reasoning,
                    }
                ),
                "default": rule is None,
            }
        )
    preview = actions.run_disposal(dry_run=True, agency=agency)
    return render(
        request,
        "records/overview.html",
        {
            "rules": rules,
            "holds": LegalHold.objects.filter(
                agency=agency, released_at__isnull=True
            ).select_related("contact", "report", "created_by"),
            "decisions": RetainDecision.objects.filter(agency=agency).select_related("decided_by")[
                :50
            ],
            "preview": [(RecordType(k).label, len(v)) for k, v in preview.erased.items() if v],
            "release_form": ReasonForm(),
            "due": actions.reports_due_for_review(agency),
        },
    )


@staff_view(RECORDS_MANAGERS)
@require_POST
def save_rule(request: HttpRequest) -> HttpResponse:
    form = RuleForm(request.POST)
    if form.is_valid():
        run_with_message(
            request,
            "Retention saved.",
            lambda: actions.save_retention_rule(actor=staff_of(request), **form.cleaned_data),
        )
    else:
        messages.error(request, "Give a period of at least 30 days and the reasoning for it.")
    return redirect("records:overview")


@staff_view(RECORDS_MANAGERS)
@require_POST
def dispose_now(request: HttpRequest) -> HttpResponse:
    staff = staff_of(request)
    agency = agency_of(staff)
    with transaction.atomic():
        record_event(
            event_type="records.disposal_requested",
            actor=staff,
            summary="Disposal run started by hand",
        )
    report = actions.run_disposal(agency=agency)
    total = sum(len(v) for v in report.erased.values())
    messages.success(
        request, f"Disposal run: {total} record(s) erased; each type is in the audit trail."
    )
    return redirect("records:overview")


@staff_view(RECORDS_MANAGERS)
@require_POST
def hold_release(request: HttpRequest, hold_id: int) -> HttpResponse:
    hold = access_hold(request.user, hold_id)
    reason = request.POST.get("reason", "")
    run_with_message(
        request,
        "Hold released.",
        lambda: actions.release_hold(actor=staff_of(request), hold=hold, reason=reason),
    )
    return redirect("records:overview")


@staff_view(RECORDS_MANAGERS)
@require_GET
def contact_records(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = access_contact(request.user, contact_id)
    return render(
        request,
        "records/contact.html",
        {
            "contact": contact,
            "holds": contact.holds.filter(released_at__isnull=True),
            "restriction": ProcessingRestriction.objects.filter(contact=contact).first(),
            "reason_form": ReasonForm(),
        },
    )


@staff_view(RECORDS_MANAGERS)
@require_POST
def contact_hold(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = access_contact(request.user, contact_id)
    reason = request.POST.get("reason", "")
    run_with_message(
        request,
        "Legal hold placed: nothing of this account will be erased until it is released.",
        lambda: actions.place_hold(actor=staff_of(request), contact=contact, reason=reason),
    )
    return redirect("records:contact", contact_id=contact.pk)


@staff_view(RECORDS_MANAGERS)
@require_POST
def contact_restrict(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = access_contact(request.user, contact_id)
    reason = request.POST.get("reason", "")
    staff = staff_of(request)
    # The form says which it means: a resent "restrict" must never lift it.
    if request.POST.get("action") == "lift":
        run_with_message(
            request,
            "Restriction lifted.",
            lambda: actions.lift_restriction(actor=staff, contact=contact, reason=reason),
        )
    elif request.POST.get("action") == "restrict":
        run_with_message(
            request,
            "Processing restricted.",
            lambda: actions.restrict_processing(actor=staff, contact=contact, reason=reason),
        )
    else:
        messages.error(request, "Choose to restrict or to lift the restriction.")
    return redirect("records:contact", contact_id=contact.pk)


@staff_view(RECORDS_MANAGERS)
@require_POST
def contact_subject_access(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = access_contact(request.user, contact_id)
    bundle = actions.subject_access_export(actor=staff_of(request), contact=contact)
    response = HttpResponse(bundle, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="subject-access-{contact.pk}.zip"'
    return response


@staff_view(RECORDS_MANAGERS)
@require_POST
def report_hold(request: HttpRequest, report_id: int) -> HttpResponse:
    report = access_report(request.user, report_id)
    reason = request.POST.get("reason", "")
    run_with_message(
        request,
        "Legal hold placed.",
        lambda: actions.place_hold(actor=staff_of(request), report=report, reason=reason),
    )
    return redirect("records:overview")


@staff_view(RECORDS_MANAGERS)
@require_POST
def report_retain(request: HttpRequest, report_id: int) -> HttpResponse:
    report = access_report(request.user, report_id)
    form = RetainForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the reason and a next review date.")
        return redirect("records:overview")
    run_with_message(
        request,
        f"{report.reference} retained.",
        lambda: actions.retain_report(actor=staff_of(request), report=report, **form.cleaned_data),
    )
    return redirect("records:overview")


@staff_view(RECORDS_MANAGERS)
@require_POST
def report_let_go(request: HttpRequest, report_id: int) -> HttpResponse:
    report = access_report(request.user, report_id)
    reason = request.POST.get("reason", "")
    run_with_message(
        request,
        f"{report.reference} let go: the next disposal run erases it.",
        lambda: actions.let_report_go(actor=staff_of(request), report=report, reason=reason),
    )
    return redirect("records:overview")
