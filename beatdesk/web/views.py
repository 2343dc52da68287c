"""Home page and health check."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from beatdesk.agencies.access import agency_of, public_view, staff_view
from beatdesk.agencies.models import Area, Team
from beatdesk.agencies.roles import AUDIT_READERS
from beatdesk.audit.models import AuditEvent


@staff_view()
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    agency = agency_of(request.user)
    user = request.user
    context: dict[str, object] = {
        "agency": agency,
        "my_teams": user.teams.prefetch_related("areas") if hasattr(user, "teams") else [],
        "area_counts": {
            kind.label: Area.objects.filter(agency=agency, kind=kind).count() for kind in Area.Kind
        },
        "team_count": Team.objects.filter(agency=agency).count(),
        "recent_events": (
            AuditEvent.objects.filter(agency=agency)[:8]
            if getattr(user, "role", "") in AUDIT_READERS
            else None
        ),
    }
    return render(request, "web/home.html", context)


@public_view
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for load balancers (no data disclosed)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok"})
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
