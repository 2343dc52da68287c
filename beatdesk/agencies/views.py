"""Agency administration: areas, teams and staff. Thin views over ``actions``."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import actions
from .access import access_area, access_staff, access_team, agency_of, staff_of, staff_view
from .forms import AreaForm, DisableForm, StaffForm, TeamForm
from .geometry import bounds, svg_path
from .models import Area, Staff, Team
from .roles import AGENCY_ADMINS

MAP_WIDTH, MAP_HEIGHT = 640, 480


def _map(areas: list[Area], focus: Area | None = None) -> dict[str, object] | None:
    """Paths for an inline SVG map of ``areas`` (those with boundaries)."""
    shaped = [a for a in areas if a.boundary]
    if focus is not None and focus.boundary and focus not in shaped:
        shaped.append(focus)
    if not shaped:
        return None
    box = bounds([a.boundary for a in shaped if a.boundary])
    return {
        "width": MAP_WIDTH,
        "height": MAP_HEIGHT,
        "paths": [
            {
                "d": svg_path(a.boundary, box, MAP_WIDTH, MAP_HEIGHT),
                "area": a,
                "focus": focus is not None and a.pk == focus.pk,
            }
            for a in shaped
            if a.boundary
        ],
    }


@staff_view()
@require_GET
def area_list(request: HttpRequest) -> HttpResponse:
    agency = agency_of(request.user)
    areas = list(
        Area.objects.filter(agency=agency)
        .annotate(child_count=Count("children"))
        .order_by("kind", "name")
        .defer("boundary")
    )
    top = [a for a in areas if a.kind != Area.Kind.NEIGHBOURHOOD]
    districts = list(Area.objects.filter(agency=agency, kind=Area.Kind.DISTRICT))
    return render(
        request,
        "agencies/area_list.html",
        {"areas": top, "map": _map(districts), "neighbourhood_count": len(areas) - len(top)},
    )


@staff_view()
@require_GET
def area_detail(request: HttpRequest, area_id: int) -> HttpResponse:
    area = access_area(request.user, area_id)
    children = list(area.children.order_by("name"))
    return render(
        request,
        "agencies/area_detail.html",
        {
            "area": area,
            "children": children,
            "teams": area.teams.all(),
            "map": _map(children or [area], focus=area if not children else None),
        },
    )


@staff_view(AGENCY_ADMINS)
@require_http_methods(["GET", "POST"])
def area_create(request: HttpRequest) -> HttpResponse:
    agency = agency_of(request.user)
    form = AreaForm(request.POST or None, agency=agency)
    if request.method == "POST" and form.is_valid():
        try:
            area = actions.create_area(
                actor=staff_of(request),
                agency=agency,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                parent=form.cleaned_data["parent"],
                code=form.cleaned_data["code"],
                boundary=form.cleaned_data["boundary"],
            )
        except actions.ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Area {area.name} added.")
            return redirect("agencies:area", area_id=area.pk)
    return render(request, "agencies/form.html", {"form": form, "title": "Add an area"})


@staff_view()
@require_GET
def team_list(request: HttpRequest) -> HttpResponse:
    agency = agency_of(request.user)
    teams = Team.objects.filter(agency=agency).annotate(
        member_count=Count("members", filter=Q(members__is_active=True), distinct=True),
        area_count=Count("areas", distinct=True),
    )
    return render(request, "agencies/team_list.html", {"teams": teams})


@staff_view()
@require_GET
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    team = access_team(request.user, team_id)
    return render(
        request,
        "agencies/team_detail.html",
        {
            "team": team,
            "members": team.members.filter(is_active=True),
            "areas": team.areas.order_by("kind", "name").defer("boundary"),
        },
    )


@staff_view(AGENCY_ADMINS)
@require_http_methods(["GET", "POST"])
def team_create(request: HttpRequest) -> HttpResponse:
    return _team_form(request, None)


@staff_view(AGENCY_ADMINS)
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    return _team_form(request, access_team(request.user, team_id))


def _team_form(request: HttpRequest, team: Team | None) -> HttpResponse:
    agency = agency_of(request.user)
    initial = (
        {
            "name": team.name,
            "kind": team.kind,
            "areas": team.areas.all(),
            "staffed_24_7": team.staffed_24_7,
        }
        if team
        else None
    )
    form = TeamForm(request.POST or None, agency=agency, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            team = actions.save_team(
                actor=staff_of(request),
                agency=agency,
                team=team,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                areas=form.cleaned_data["areas"],
                staffed_24_7=form.cleaned_data["staffed_24_7"],
            )
        except actions.ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Team {team.name} saved.")
            return redirect("agencies:team", team_id=team.pk)
    title = f"Edit {team.name}" if team else "Add a team"
    return render(request, "agencies/form.html", {"form": form, "title": title})


@staff_view(AGENCY_ADMINS)
@require_GET
def staff_list(request: HttpRequest) -> HttpResponse:
    agency = agency_of(request.user)
    people = Staff.objects.filter(agency=agency).prefetch_related("teams")
    return render(request, "agencies/staff_list.html", {"people": people})


@staff_view(AGENCY_ADMINS)
@require_GET
def staff_detail(request: HttpRequest, staff_id: int) -> HttpResponse:
    person = access_staff(request.user, staff_id)
    return render(
        request,
        "agencies/staff_detail.html",
        {
            "person": person,
            "disable_form": DisableForm(),
            "sessions": person.live_sessions.order_by("-created_at"),
        },
    )


@staff_view(AGENCY_ADMINS, reauth=True)
@require_http_methods(["GET", "POST"])
def staff_create(request: HttpRequest) -> HttpResponse:
    agency = agency_of(request.user)
    form = StaffForm(request.POST or None, agency=agency)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person, password = actions.create_staff(
                actor=staff_of(request),
                agency=agency,
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                role=data["role"],
                teams=data["teams"],
            )
        except actions.ActionError as exc:
            form.add_error(None, str(exc))
        else:
            # Shown once, never stored in clear or logged.
            return render(
                request, "agencies/staff_created.html", {"person": person, "password": password}
            )
    return render(request, "agencies/form.html", {"form": form, "title": "Add a staff member"})


@staff_view(AGENCY_ADMINS, reauth=True)
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, staff_id: int) -> HttpResponse:
    agency = agency_of(request.user)
    person = access_staff(request.user, staff_id)
    initial = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "role": person.role,
        "teams": person.teams.all(),
    }
    form = StaffForm(request.POST or None, agency=agency, editing=person, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.change_staff(
                actor=staff_of(request),
                staff=person,
                role=data["role"],
                teams=data["teams"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
            )
        except actions.ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{person.username} updated.")
            return redirect("agencies:staff_member", staff_id=person.pk)
    return render(request, "agencies/form.html", {"form": form, "title": f"Edit {person.username}"})


@staff_view(AGENCY_ADMINS, reauth=True)
@require_POST
def staff_disable(request: HttpRequest, staff_id: int) -> HttpResponse:
    person = access_staff(request.user, staff_id)
    form = DisableForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason for disabling the account.")
        return redirect("agencies:staff_member", staff_id=person.pk)
    try:
        ended = actions.disable_staff(
            actor=staff_of(request),
            staff=person,
            reason=form.cleaned_data["reason"],
        )
    except actions.ActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{person.username} disabled; {ended} session(s) ended now.")
    return redirect("agencies:staff_member", staff_id=person.pk)


@staff_view(AGENCY_ADMINS, reauth=True)
@require_POST
def staff_enable(request: HttpRequest, staff_id: int) -> HttpResponse:
    person = access_staff(request.user, staff_id)
    actions.enable_staff(actor=staff_of(request), staff=person)
    messages.success(request, f"{person.username} enabled.")
    return redirect("agencies:staff_member", staff_id=person.pk)


@staff_view(AGENCY_ADMINS, reauth=True)
@require_POST
def staff_reset_mfa(request: HttpRequest, staff_id: int) -> HttpResponse:
    person = access_staff(request.user, staff_id)
    actions.reset_mfa(actor=staff_of(request), staff=person)
    messages.success(request, f"{person.username} will set up a new authenticator at next sign-in.")
    return redirect("agencies:staff_member", staff_id=person.pk)
