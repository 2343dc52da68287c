"""Inbox pages: the queue, a conversation, a contact's history, live alerts. Thin views."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from beatdesk.agencies.access import access_team, agency_of, staff_of, staff_view
from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Staff, Team
from beatdesk.agencies.roles import AGENCY_ADMINS, DESK_ROLES
from beatdesk.channels.models import InboundMessage
from beatdesk.records.access import RECORDS_MANAGERS

from . import actions
from .access import access_contact, access_conversation
from .forms import BulkForm, CloseForm, NoteForm, ReplyForm, RerouteForm, SettingsForm
from .models import Conversation, MessageTriage, Reply
from .process import author_key, settings_for, team_windows
from .replies import render_template, templates_for
from .targets import format_windows

# Everyone in an agency but leadership may work its inbox: officers answer their
# neighbourhood, analysts and standards take what is routed to them, the desk takes
# everything.
INBOX_USERS = DESK_ROLES
PAGE_SIZE = 50
THREAD_LIMIT = 200


def _queue_filter(staff: Staff, view: str) -> tuple[Q, str]:
    """The conversations a person's chosen view shows, and its title."""
    if view == "all":
        return Q(), "Everyone's queue"
    if view.startswith("team-") and view[5:].isdigit():
        team = Team.objects.filter(agency=agency_of(staff), pk=view[5:]).first()
        if team is not None:
            return Q(team=team), team.name
    teams = list(staff.teams.all())
    condition = Q(team__in=teams) | Q(assigned_to=staff)
    if any(t.kind == Team.Kind.DIGITAL_DESK for t in teams):
        # The 24/7 desk also sees whatever is about to miss its target elsewhere.
        condition |= Q(escalated_at__isnull=False, status=Conversation.Status.NEW)
    if not teams:
        return Q(), "Everyone's queue"
    return condition, "My teams"


@staff_view(INBOX_USERS)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    staff = staff_of(request)
    agency = agency_of(staff)
    view = request.GET.get("view", "mine")
    status = request.GET.get("status", "open")
    condition, title = _queue_filter(staff, view)
    conversations: QuerySet[Conversation] = Conversation.objects.filter(
        condition, agency=agency
    ).select_related("team", "contact", "account", "area", "assigned_to")
    if status == "closed":
        conversations = conversations.filter(status=Conversation.Status.CLOSED).order_by(
            "-last_message_at"
        )
    elif status == "responded":
        conversations = conversations.filter(status=Conversation.Status.ACKNOWLEDGED).order_by(
            "priority", "-last_message_at"
        )
    else:
        status = "open"
        conversations = conversations.filter(status=Conversation.Status.NEW).order_by(
            "priority", "needs_response_since", "id"
        )
    priority = request.GET.get("priority", "")
    if priority in {"P1", "P2", "P3", "P4"}:
        conversations = conversations.filter(priority=priority)
    page = Paginator(conversations, PAGE_SIZE).get_page(request.GET.get("page"))
    latest = {
        t.conversation_id: t
        for t in MessageTriage.objects.filter(conversation__in=list(page.object_list))
        .select_related("message")
        .order_by("message__received_at")
    }
    now = timezone.now()
    rows = [
        {"conversation": c, "latest": latest.get(c.pk), "clock": _clock(c, now)}
        for c in page.object_list
    ]
    counts = _open_by_priority(Conversation.objects.filter(condition, agency=agency))
    return render(
        request,
        "inbox/queue.html",
        {
            "rows": rows,
            "page": page,
            "title": title,
            "view": view,
            "status": status,
            "priority": priority,
            "counts": list(counts.items()),
            "team_options": [(f"team-{t.pk}", t.name) for t in Team.objects.filter(agency=agency)],
            "bulk_form": BulkForm(),
            "is_admin": staff.role in AGENCY_ADMINS,
        },
    )


def _open_by_priority(conversations: QuerySet[Conversation]) -> dict[str, int]:
    """How many of these conversations need a response, per priority (all four keys)."""
    counts = dict(
        conversations.filter(status=Conversation.Status.NEW)
        .values_list("priority")
        .annotate(n=Count("id"))
        .values_list("priority", "n")
    )
    return {p: counts.get(p, 0) for p in ("P1", "P2", "P3", "P4")}


def _clock(conversation: Conversation, now: Any) -> dict[str, Any]:
    """What the target column shows: time left, or how late."""
    if conversation.status != Conversation.Status.NEW or conversation.due_at is None:
        return {"state": "none", "label": ""}
    left = conversation.due_at - now
    minutes = int(abs(left.total_seconds()) // 60)
    words = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
    if left.total_seconds() < 0:
        return {"state": "missed", "label": f"{words} late"}
    if conversation.warned_at or (conversation.warn_at and now >= conversation.warn_at):
        return {"state": "warning", "label": f"due in {words}"}
    return {"state": "ok", "label": f"due in {words}"}


def _thread(conversation: Conversation) -> list[dict[str, Any]]:
    """The whole platform thread (others' messages greyed) with our replies, in time order."""
    key = conversation.thread_key
    # A busy appeal can draw thousands of replies: show the thread's latest messages and
    # always every message of this conversation, however old.
    thread = InboundMessage.objects.filter(
        agency_id=conversation.agency_id, platform=conversation.platform
    ).filter(Q(thread_root_id=key) | Q(platform_id=key))
    latest = list(thread.select_related("triage").order_by("-created_at", "-id")[:THREAD_LIMIT])
    own = list(
        InboundMessage.objects.filter(triage__conversation=conversation).select_related("triage")
    )
    inbound = sorted({m.pk: m for m in latest + own}.values(), key=lambda m: (m.created_at, m.pk))
    replies = list(
        Reply.objects.filter(conversation__agency_id=conversation.agency_id)
        .filter(Q(conversation=conversation) | Q(in_reply_to__in=inbound))
        .select_related("delivery", "created_by")
    )
    entries: list[dict[str, Any]] = [
        {
            "kind": "inbound",
            "at": m.created_at,
            "message": m,
            "own": author_key(m) == conversation.author_id,
            "triage": getattr(m, "triage", None),
        }
        for m in inbound
    ]
    entries += [{"kind": "reply", "at": r.created_at, "reply": r} for r in replies]
    entries.sort(key=lambda e: e["at"])
    return entries


@staff_view(INBOX_USERS)
@require_GET
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = access_conversation(request.user, conversation_id)
    return _render_conversation(request, conversation)


def _render_conversation(
    request: HttpRequest,
    conversation: Conversation,
    reply_form: ReplyForm | None = None,
) -> HttpResponse:
    agency = agency_of(request.user)
    thread = _thread(conversation)
    theirs = [e["message"] for e in thread if e["kind"] == "inbound" and e["own"]]
    last = theirs[-1] if theirs else None
    templates = [
        {
            "key": t.key,
            "name": t.name,
            "text": render_template(agency, t, handle=conversation.contact.handle),
        }
        for t in templates_for(agency)
    ]
    if reply_form is None and last is not None:
        reply_form = ReplyForm(
            initial={"message_id": last.pk, "client_token": secrets.token_urlsafe(24)}
        )
    now = timezone.now()
    return render(
        request,
        "inbox/conversation.html",
        {
            "conversation": conversation,
            "thread": thread,
            "last": last,
            "latest_triage": getattr(last, "triage", None) if last else None,
            "reply_form": reply_form,
            "templates": templates,
            "close_form": CloseForm(),
            "reroute_form": RerouteForm(agency_id=agency.pk),
            "clock": _clock(conversation, now),
            "other_conversations": Conversation.objects.filter(contact=conversation.contact)
            .exclude(pk=conversation.pk)
            .count(),
            "notes": conversation.contact.notes.select_related("created_by")[:3],
        },
    )


def _back(conversation: Conversation) -> HttpResponse:
    return redirect("inbox:conversation", conversation_id=conversation.pk)


@staff_view(INBOX_USERS)
@require_POST
def conversation_acknowledge(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = access_conversation(request.user, conversation_id)
    actions.acknowledge(actor=staff_of(request), conversation=conversation)
    messages.success(request, "Acknowledged: the response clock has stopped.")
    return _back(conversation)


@staff_view(INBOX_USERS)
@require_POST
def conversation_reply(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = access_conversation(request.user, conversation_id)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _render_conversation(request, conversation, form)
    message = InboundMessage.objects.filter(
        agency_id=conversation.agency_id, pk=form.cleaned_data["message_id"]
    ).first()
    try:
        if message is None:
            raise ActionError("That message is not part of this conversation.")
        actions.send_reply(
            actor=staff_of(request),
            conversation=conversation,
            message=message,
            text=form.cleaned_data["text"],
            client_token=form.cleaned_data["client_token"],
            template_key=form.cleaned_data["template_key"],
            close_reason=form.cleaned_data["close_reason"],
        )
    except ActionError as error:
        form.add_error(None, str(error))
        return _render_conversation(request, conversation, form)
    messages.success(request, "Reply queued: its state shows in the thread below.")
    return _back(conversation)


@staff_view(INBOX_USERS)
@require_POST
def conversation_close(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = access_conversation(request.user, conversation_id)
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a reason to close the conversation.")
        return _back(conversation)
    actions.close(
        actor=staff_of(request),
        conversation=conversation,
        reason=form.cleaned_data["reason"],
        note=form.cleaned_data["note"],
    )
    messages.success(request, "Conversation closed.")
    return _back(conversation)


@staff_view(INBOX_USERS)
@require_POST
def conversation_reopen(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = access_conversation(request.user, conversation_id)
    actions.reopen(actor=staff_of(request), conversation=conversation)
    messages.success(request, "Conversation reopened.")
    return _back(conversation)


@staff_view(INBOX_USERS)
@require_POST
def conversation_reroute(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = access_conversation(request.user, conversation_id)
    form = RerouteForm(request.POST, agency_id=conversation.agency_id)
    if not form.is_valid():
        messages.error(request, "Choose a team of your agency.")
        return _back(conversation)
    actions.reroute(
        actor=staff_of(request),
        conversation=conversation,
        team=form.cleaned_data["team"],
        note=form.cleaned_data["note"],
    )
    messages.success(request, f"Sent to {form.cleaned_data['team'].name}.")
    return _back(conversation)


@staff_view(INBOX_USERS)
@require_POST
def conversation_take(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = access_conversation(request.user, conversation_id)
    actions.assign_to_me(actor=staff_of(request), conversation=conversation)
    messages.success(request, "It's yours.")
    return _back(conversation)


@staff_view(INBOX_USERS)
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    ids = [i for i in request.POST.getlist("conversation") if i.isdigit()][:500]
    back = request.POST.get("next", "")
    target = back if back.startswith("/inbox/") else reverse("inbox:queue")
    if not form.is_valid() or not ids:
        messages.error(request, "Tick at least one conversation and choose what to do.")
        return redirect(target)
    conversations = list(Conversation.objects.filter(agency=agency_of(request.user), pk__in=ids))
    action = form.cleaned_data["action"]
    reason = action.removesuffix("_hide")
    result = actions.bulk_close(
        actor=staff_of(request),
        conversations=conversations,
        reason=reason,
        hide=action.endswith("_hide"),
    )
    text = f"Closed {result.closed} as {reason}."
    if action.endswith("_hide"):
        text += f" Hidden on the platform: {result.hidden}."
    messages.success(request, text)
    for problem in result.not_hidden[:10]:
        messages.warning(request, f"Not hidden: {problem}")
    return redirect(target)


@staff_view(INBOX_USERS)
@require_http_methods(["GET", "POST"])
def contact_detail(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = access_contact(request.user, contact_id)
    form = NoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.add_contact_note(
                actor=staff_of(request), contact=contact, text=form.cleaned_data["text"]
            )
        except ActionError as error:
            form.add_error("text", str(error))
        else:
            messages.success(request, "Note added.")
            return redirect("inbox:contact", contact_id=contact.pk)
    history = (
        InboundMessage.objects.filter(contact.author_match())
        .select_related("triage", "account")
        .order_by("-created_at")[:500]
    )
    return render(
        request,
        "inbox/contact.html",
        {
            "contact": contact,
            "history": history,
            "may_manage_records": staff_of(request).role in RECORDS_MANAGERS,
            "conversations": contact.conversations.select_related("team").order_by(
                "-last_message_at"
            )[:100],
            "notes": contact.notes.select_related("created_by"),
            "form": form,
        },
    )


@staff_view(INBOX_USERS)
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """Open P1s, targets at risk and queue counts, polled by every signed-in page.

    Cheap by design: three indexed queries. The page shows every open P1 of the agency (not
    only new ones) so an alert cannot be missed by opening the page a moment late.
    """
    staff = staff_of(request)
    agency = agency_of(staff)
    condition, _ = _queue_filter(staff, "mine")
    at_risk = Conversation.objects.filter(
        condition, agency=agency, status=Conversation.Status.NEW, warned_at__isnull=False
    ).count()
    open_p1 = list(
        Conversation.objects.filter(agency=agency, status=Conversation.Status.NEW, priority="P1")
        .select_related("contact", "account")
        .order_by("needs_response_since")[:20]
    )
    latest = dict(
        MessageTriage.objects.filter(conversation__in=open_p1)
        .order_by("message__received_at")
        .values_list("conversation_id", "message__text")
    )
    counts = _open_by_priority(Conversation.objects.filter(agency=agency))
    now = timezone.now()
    return JsonResponse(
        {
            "now": now.isoformat(),
            "p1": [
                {
                    "id": c.pk,
                    "url": reverse("inbox:conversation", kwargs={"conversation_id": c.pk}),
                    "author": c.contact.handle or c.contact.display_name,
                    "account": c.account.label,
                    "text": (latest.get(c.pk) or "")[:160],
                    "waiting_seconds": int((now - (c.needs_response_since or now)).total_seconds()),
                }
                for c in open_p1
            ],
            "open": counts,
            # Conversations in this person's queue about to miss (or past) their target.
            "at_risk": at_risk,
            "queue_url": reverse("inbox:queue"),
        },
        headers={"Cache-Control": "no-store"},
    )


@staff_view(AGENCY_ADMINS)
@require_http_methods(["GET", "POST"])
def inbox_settings(request: HttpRequest) -> HttpResponse:
    agency = agency_of(request.user)
    current = settings_for(agency.pk)
    form = SettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_settings(actor=staff_of(request), agency=agency, values=form.cleaned_data)
        except ActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Response targets saved. New messages use them at once.")
            return redirect("inbox:settings")
    teams = [
        {
            "team": team,
            "hours": format_windows(team_windows(team)),
        }
        for team in Team.objects.filter(agency=agency, staffed_24_7=False)
    ]
    return render(request, "inbox/settings.html", {"form": form, "teams": teams})


@staff_view(AGENCY_ADMINS)
@require_POST
def staffed_hours(request: HttpRequest, team_id: int) -> HttpResponse:
    team = access_team(request.user, team_id)
    try:
        actions.save_staffed_hours(
            actor=staff_of(request), team=team, text=request.POST.get("hours", "")
        )
    except ActionError as error:
        messages.error(request, f"{team.name}: {error}")
    else:
        messages.success(request, f"Staffed hours of {team.name} saved; open targets re-timed.")
    return redirect("inbox:settings")
