"""The audit trail for standards staff: filter, page, export, verify."""

from __future__ import annotations

import csv
from datetime import datetime, time

from django import forms
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from beatdesk.agencies.access import agency_of, staff_of, staff_view
from beatdesk.agencies.roles import AUDIT_READERS

from .models import AuditEvent, PersonalDataCategory
from .record import record_event
from .verify import verify_chain

PAGE_SIZE = 50
CSV_COLUMNS = [
    "seq",
    "created_at",
    "actor_label",
    "event_type",
    "object_type",
    "object_id",
    "summary",
    "personal_data",
    "recipient",
    "ip_address",
    "row_hash",
]


class AuditFilterForm(forms.Form):
    event_type = forms.CharField(required=False, label="Event type starts with")
    actor = forms.CharField(required=False, label="Actor username")
    personal_data = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), *PersonalDataCategory.choices],
        label="Personal data",
    )
    date_from = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From"
    )
    date_to = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To"
    )


def _filtered(request: HttpRequest) -> tuple[AuditFilterForm, QuerySet[AuditEvent]]:
    agency = agency_of(request.user)
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.filter(agency=agency).order_by("-seq")
    if form.is_valid():
        data = form.cleaned_data
        if data["event_type"]:
            events = events.filter(event_type__startswith=data["event_type"].strip())
        if data["actor"]:
            events = events.filter(actor_label__iexact=data["actor"].strip())
        if data["personal_data"]:
            events = events.filter(personal_data=data["personal_data"])
        tz = timezone.get_current_timezone()
        if data["date_from"]:
            events = events.filter(
                created_at__gte=datetime.combine(data["date_from"], time.min, tz)
            )
        if data["date_to"]:
            events = events.filter(created_at__lte=datetime.combine(data["date_to"], time.max, tz))
    return form, events


@staff_view(AUDIT_READERS)
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    form, events = _filtered(request)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/event_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@staff_view(AUDIT_READERS)  # type: ignore[arg-type]
@require_GET
def event_export(request: HttpRequest) -> StreamingHttpResponse:
    """CSV of the filtered events (UTC times); the export itself is audited."""
    _, events = _filtered(request)
    with transaction.atomic():
        record_event(
            event_type="audit.exported",
            actor=staff_of(request),
            summary="Audit trail exported as CSV",
            data={"filters": {k: v for k, v in request.GET.items() if v}},
            request=request,
        )
    writer = csv.writer(_Echo())

    def rows() -> object:
        yield writer.writerow(CSV_COLUMNS)
        for event in events.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    event.seq,
                    event.created_at.isoformat(),
                    event.actor_label,
                    event.event_type,
                    event.object_type,
                    event.object_id,
                    event.summary,
                    event.personal_data,
                    event.recipient,
                    event.ip_address,
                    event.row_hash,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")  # type: ignore[arg-type]
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


@staff_view(AUDIT_READERS)
@require_GET
def chain_status(request: HttpRequest) -> HttpResponse:
    """Verify the whole chain now (an htmx fragment)."""
    report = verify_chain()
    return render(request, "audit/_chain_status.html", {"report": report})
