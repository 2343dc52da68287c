"""Publishing pages: the post list, compose with live screening, a post, settings. Thin."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from beatdesk.agencies.access import agency_of, staff_of, staff_view
from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Staff
from beatdesk.agencies.roles import AGENCY_ADMINS, ALL_ROLES
from beatdesk.channels.media import store_media
from beatdesk.channels.models import ConnectedAccount, MediaFile
from beatdesk.channels.publish import check_postable
from beatdesk.channels.registry import connector_class
from beatdesk.web.feedback import run_with_message

from . import actions
from .access import access_follow_up, access_post
from .forms import (
    MEDIA_SLOTS,
    AppealUpdateForm,
    ApproveForm,
    ComposeForm,
    EditForm,
    ReasonForm,
    SettingsForm,
)
from .models import AppealFollowUp, Notice, Post
from .review import (
    MISUSE_REPORTERS,
    REVIEWERS,
    STEWARDS,
    can_review,
    postable_accounts,
    publishing_settings,
    reviewable_posts,
    screen_post,
    trust_of,
)
from .templates_text import BY_KEY, TEMPLATES

# Anyone may write a post; which accounts they may use is decided per person.
AUTHORS = ALL_ROLES
PAGE_SIZE = 50


def _highlight(text: str, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The text cut into plain and flagged pieces (the worst finding wins an overlap)."""
    ranked = sorted(
        (f for f in findings if 0 <= f["start"] < f["end"] <= len(text)),
        key=lambda f: (f["start"], -{"red": 2, "amber": 1}.get(f["severity"], 0)),
    )
    pieces: list[dict[str, Any]] = []
    at = 0
    for finding in ranked:
        if finding["start"] < at:
            continue
        if finding["start"] > at:
            pieces.append({"text": text[at : finding["start"]], "finding": None})
        pieces.append({"text": text[finding["start"] : finding["end"]], "finding": finding})
        at = finding["end"]
    if at < len(text):
        pieces.append({"text": text[at:], "finding": None})
    return pieces


def _previews(text: str, accounts: list[ConnectedAccount]) -> list[dict[str, Any]]:
    """Per account: how long the post is against the platform's limit, and any problem."""
    rows = []
    for account in accounts:
        limit = connector_class(account.kind).max_text_length
        problem = ""
        rules = connector_class(account.kind).media_rules
        try:
            # Attachments are checked on submit (they are not uploaded while typing),
            # so here a platform that needs an image only says so.
            check_postable(account, text, [], reply=rules is not None and rules.required)
        except ActionError as error:
            problem = str(error)
        if not problem and rules is not None and rules.required:
            problem = f"{account.get_kind_display()} needs an image: attach one below."
        rows.append(
            {
                "account": account,
                "length": len(text.strip()),
                "limit": limit,
                "problem": problem if text.strip() else "",
            }
        )
    return rows


def _trust_line(staff: Staff) -> dict[str, Any]:
    assert staff.agency is not None
    needed = publishing_settings(staff.agency).posts_to_earn_trust
    credit = trust_of(staff).credit
    return {"credit": min(credit, needed), "needed": needed, "trusted": credit >= needed}


@staff_view(AUTHORS)
@require_GET
def posts(request: HttpRequest) -> HttpResponse:
    staff = staff_of(request)
    agency = agency_of(staff)
    view = request.GET.get("view", "")
    reviewer = staff.role in REVIEWERS
    if view not in {"review", "mine", "held", "all"}:
        view = "review" if reviewer else "mine"
    found: QuerySet[Post] = Post.objects.filter(agency=agency).select_related("author", "team")
    if view == "review":
        found = (
            reviewable_posts(staff)
            .select_related("author", "team")
            .order_by("scheduled_for", "created_at")
        )
    elif view == "mine":
        found = found.filter(author=staff)
    elif view == "held":
        found = found.filter(state=Post.State.HELD)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    notices = list(
        Notice.objects.filter(recipient=staff, read_at__isnull=True).select_related("post")[:20]
    )
    open_appeals = Post.objects.filter(
        agency=agency, follow_ups__outcome=AppealFollowUp.Outcome.PENDING
    ).distinct()
    return render(
        request,
        "publishing/posts.html",
        {
            "page": page,
            "view": view,
            "reviewer": reviewer,
            "notices": notices,
            "open_appeals": open_appeals,
            "trust": _trust_line(staff),
            "is_admin": staff.role in AGENCY_ADMINS,
        },
    )


def _store_uploads(staff: Staff, form: ComposeForm) -> list[MediaFile]:
    stored = []
    for slot in range(1, MEDIA_SLOTS + 1):
        upload = form.cleaned_data.get(f"media_{slot}")
        if upload:
            stored.append(
                store_media(actor=staff, data=upload, alt_text=form.cleaned_data[f"alt_{slot}"])
            )
    return stored


@staff_view(AUTHORS)
@require_http_methods(["GET", "POST"])
def compose(request: HttpRequest) -> HttpResponse:
    staff = staff_of(request)
    if request.method == "POST":
        form = ComposeForm(request.POST, request.FILES, staff=staff)
        if form.is_valid():
            data = form.cleaned_data
            try:
                media = _store_uploads(staff, form)
                post = actions.submit_post(
                    actor=staff,
                    draft=actions.Draft(
                        text=data["text"],
                        purpose=data["purpose"],
                        accounts=list(data["accounts"]),
                        media=media,
                        scheduled_for=data["scheduled_for"],
                        template_key=data["template_key"],
                    ),
                    client_token=data["client_token"],
                )
            except ActionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _submitted_message(post))
                return redirect("publishing:post", post_id=post.pk)
    else:
        template = BY_KEY.get(request.GET.get("template", ""))
        initial: dict[str, Any] = {}
        if template is not None:
            initial = {
                "text": template.text,
                "purpose": template.purpose,
                "template_key": template.key,
            }
        initial["client_token"] = secrets.token_urlsafe(24)
        form = ComposeForm(initial=initial, staff=staff)
    accounts = list(postable_accounts(staff))
    return render(
        request,
        "publishing/compose.html",
        {
            "form": form,
            "templates": TEMPLATES,
            "has_accounts": bool(accounts),
            "trust": _trust_line(staff),
            "screen": _screen_context(agency_of(staff), form["text"].value() or "", []),
        },
    )


def _submitted_message(post: Post) -> str:
    if post.state == Post.State.PUBLISHING:
        return "Sent: each account's state shows below."
    if post.state == Post.State.APPROVED:
        return "Approved: it goes out at its scheduled time."
    return f"Sent for approval. {post.review_reason}"


def _screen_context(agency: Any, text: str, accounts: list[ConnectedAccount]) -> dict[str, Any]:
    screening = screen_post(agency, text) if text.strip() else None
    findings = (
        [
            {
                "kind": f.kind,
                "start": f.start,
                "end": f.end,
                "severity": f.severity,
                "explanation": f.explanation,
                "suggestion": f.suggestion,
                "excerpt": text[f.start : f.end],
            }
            for f in screening.findings
        ]
        if screening
        else []
    )
    return {
        "risk": screening.risk if screening else "",
        "findings": findings,
        "pieces": _highlight(text, findings),
        "previews": _previews(text, accounts),
    }


@staff_view(AUTHORS)
@require_POST
def screen_preview(request: HttpRequest) -> HttpResponse:
    """The live verdict and previews as the author types (htmx partial)."""
    staff = staff_of(request)
    text = request.POST.get("text", "")[:5000]
    wanted = {v for v in request.POST.getlist("accounts") if v.isdigit()}
    accounts = [a for a in postable_accounts(staff) if str(a.pk) in wanted]
    return render(
        request,
        "publishing/_screen.html",
        {"screen": _screen_context(agency_of(staff), text, accounts)},
    )


@staff_view(AUTHORS)
@require_GET
def post_detail(request: HttpRequest, post_id: int) -> HttpResponse:
    post = access_post(request.user, post_id)
    return _render_post(request, post)


def _render_post(
    request: HttpRequest, post: Post, forms: dict[str, Any] | None = None
) -> HttpResponse:
    staff = staff_of(request)
    Notice.objects.filter(recipient=staff, post=post, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    deliveries = {d.account_id: d for d in post.deliveries()}
    accounts = [
        {"account": a, "delivery": deliveries.get(a.pk)} for a in post.accounts.order_by("pk")
    ]
    context: dict[str, Any] = {
        "post": post,
        "pieces": _highlight(post.text, post.findings),
        "accounts": accounts,
        "media": post.media.order_by("pk"),
        "decisions": post.decisions.select_related("reviewer"),
        "follow_ups": post.follow_ups.select_related("delivery__account", "update_delivery"),
        "may_review": can_review(staff, post),
        "is_author": staff.pk == post.author_id,
        "editable": staff.pk == post.author_id and post.state in actions.EDITABLE,
        "may_withdraw": post.state in actions.EDITABLE
        and (staff.pk == post.author_id or staff.role in STEWARDS),
        "may_report_misuse": staff.role in MISUSE_REPORTERS
        and staff.pk != post.author_id
        and post.state == Post.State.PUBLISHING,
        "approve_form": ApproveForm(initial={"seen_sha256": post.text_sha256}),
        "reason_form": ReasonForm(),
        "update_form": AppealUpdateForm(),
        "now": timezone.now(),
    }
    context.update(forms or {})
    return render(request, "publishing/post.html", context)


def _back(post: Post) -> HttpResponse:
    return redirect("publishing:post", post_id=post.pk)


@staff_view(AUTHORS)
@require_http_methods(["GET", "POST"])
def post_edit(request: HttpRequest, post_id: int) -> HttpResponse:
    staff = staff_of(request)
    post = access_post(staff, post_id)
    if request.method == "POST":
        form = EditForm(request.POST)
        if form.is_valid():
            try:
                post = actions.edit_post(
                    actor=staff,
                    post=post,
                    text=form.cleaned_data["text"],
                    scheduled_for=form.cleaned_data["scheduled_for"],
                )
            except ActionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _submitted_message(post))
                return _back(post)
    else:
        form = EditForm(initial={"text": post.text, "scheduled_for": post.scheduled_for})
    return render(
        request,
        "publishing/edit.html",
        {
            "post": post,
            "form": form,
            "screen": _screen_context(
                agency_of(staff), form["text"].value() or "", list(post.accounts.all())
            ),
        },
    )


def _run(request: HttpRequest, post: Post, done: str, change: Any) -> HttpResponse:
    run_with_message(request, done, change)
    return _back(post)


@staff_view(REVIEWERS)
@require_POST
def post_approve(request: HttpRequest, post_id: int) -> HttpResponse:
    staff = staff_of(request)
    post = access_post(staff, post_id)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Reload the post and approve it again.")
        return _back(post)
    return _run(
        request,
        post,
        "Approved.",
        lambda: actions.approve_post(
            actor=staff,
            post=post,
            seen_sha256=form.cleaned_data["seen_sha256"],
            reason=form.cleaned_data["reason"],
        ),
    )


@staff_view(REVIEWERS)
@require_POST
def post_reject(request: HttpRequest, post_id: int) -> HttpResponse:
    staff = staff_of(request)
    post = access_post(staff, post_id)
    reason = request.POST.get("reason", "")
    return _run(
        request,
        post,
        "Rejected: the author has been told why.",
        lambda: actions.reject_post(actor=staff, post=post, reason=reason),
    )


@staff_view(AUTHORS)
@require_POST
def post_withdraw(request: HttpRequest, post_id: int) -> HttpResponse:
    staff = staff_of(request)
    post = access_post(staff, post_id)
    reason = request.POST.get("reason", "")
    return _run(
        request,
        post,
        "Withdrawn: it will not go out.",
        lambda: actions.withdraw_post(actor=staff, post=post, reason=reason),
    )


@staff_view(MISUSE_REPORTERS)
@require_POST
def post_misuse(request: HttpRequest, post_id: int) -> HttpResponse:
    staff = staff_of(request)
    post = access_post(staff, post_id)
    reason = request.POST.get("reason", "")
    return _run(
        request,
        post,
        "Recorded: the author's posts are reviewed again.",
        lambda: actions.report_misuse(actor=staff, post=post, reason=reason),
    )


@staff_view(AUTHORS)
@require_POST
def post_found(request: HttpRequest, post_id: int) -> HttpResponse:
    staff = staff_of(request)
    post = access_post(staff, post_id)
    return _run(
        request,
        post,
        "Marked found: now update or remove the appeal on each account below.",
        lambda: actions.mark_person_found(actor=staff, post=post),
    )


@staff_view(AUTHORS)
@require_POST
def follow_up_update(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    staff = staff_of(request)
    follow_up = access_follow_up(staff, follow_up_id)
    form = AppealUpdateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write the update first.")
        return _back(follow_up.post)
    return _run(
        request,
        follow_up.post,
        "Update queued as a reply to the appeal.",
        lambda: actions.post_appeal_update(
            actor=staff, follow_up=follow_up, text=form.cleaned_data["text"]
        ),
    )


@staff_view(AUTHORS)
@require_POST
def follow_up_remove(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    staff = staff_of(request)
    follow_up = access_follow_up(staff, follow_up_id)
    return _run(
        request,
        follow_up.post,
        "Recorded: the appeal is down on that account.",
        lambda: actions.remove_appeal(
            actor=staff,
            follow_up=follow_up,
            by_hand_reason=request.POST.get("by_hand_reason", ""),
        ),
    )


@staff_view(AGENCY_ADMINS)
@require_http_methods(["GET", "POST"])
def publishing_settings_view(request: HttpRequest) -> HttpResponse:
    staff = staff_of(request)
    current = publishing_settings(agency_of(staff))
    if request.method == "POST":
        form = SettingsForm(request.POST)
        if form.is_valid():
            actions.save_publishing_settings(actor=staff, **form.cleaned_data)
            messages.success(request, "Publishing settings saved.")
            return redirect("publishing:settings")
    else:
        form = SettingsForm(
            initial={
                "posts_to_earn_trust": current.posts_to_earn_trust,
                "rejection_penalty": current.rejection_penalty,
                "allowed_domains": current.allowed_domains,
            }
        )
    return render(request, "publishing/settings.html", {"form": form})
