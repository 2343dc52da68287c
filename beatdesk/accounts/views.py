"""Sign-in pages: password, then authenticator code (or enrolment), re-auth, sign-out."""

from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from beatdesk.agencies.access import public_view, staff_view
from beatdesk.agencies.models import Staff

from . import actions, totp
from .forms import CodeForm, PasswordForm, ReauthForm

PREAUTH_KEY = "preauth"
ENROL_SECRET_KEY = "enrol_secret"  # noqa: S105 - a session key name
# The code step must follow the password step promptly.
PREAUTH_SECONDS = 5 * 60
LOCKED_MESSAGE = (
    "Too many failed attempts. This account is locked for 15 minutes. "
    "If you need access now, call your force's service desk."
)


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "/"


@public_view
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("web:home")
    form = PasswordForm(request.POST or None)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip().lower()
        if actions.is_locked_out(username):
            actions.record_failed_attempt(request=request, username=username, stage="locked")
            form.add_error(None, LOCKED_MESSAGE)
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if isinstance(user, Staff):
                request.session[PREAUTH_KEY] = {
                    "user_id": user.pk,
                    "at": time.time(),
                    "next": next_url,
                }
                return redirect("accounts:mfa")
            locked = actions.record_failed_attempt(
                request=request, username=username, stage="password"
            )
            form.add_error(
                None,
                LOCKED_MESSAGE
                if locked
                else "That username and password do not match an active account.",
            )
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


def _preauth_staff(request: HttpRequest) -> tuple[Staff, str] | None:
    data = request.session.get(PREAUTH_KEY)
    if not isinstance(data, dict) or time.time() - float(data.get("at", 0)) > PREAUTH_SECONDS:
        return None
    user_id = data.get("user_id")
    if not isinstance(user_id, int):
        return None
    staff = Staff.objects.filter(pk=user_id, is_active=True).first()
    return (staff, str(data.get("next") or "/")) if staff else None


@public_view
@require_http_methods(["GET", "POST"])
def mfa_view(request: HttpRequest) -> HttpResponse:
    """Second step: verify a code, or enrol an authenticator on first sign-in."""
    pending = _preauth_staff(request)
    if pending is None:
        messages.info(request, "Please enter your username and password first.")
        return redirect("accounts:login")
    staff, next_url = pending
    enrolling = not staff.mfa_enrolled
    if enrolling and ENROL_SECRET_KEY not in request.session:
        request.session[ENROL_SECRET_KEY] = totp.new_secret()
    secret = str(request.session.get(ENROL_SECRET_KEY, "")) if enrolling else staff.totp_secret
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if actions.is_locked_out(staff.username):
            form.add_error(None, LOCKED_MESSAGE)
        else:
            step = totp.matching_step(secret, form.cleaned_data["code"], staff.totp_last_step)
            if step is None:
                actions.record_failed_attempt(
                    request=request, username=staff.username, stage="totp", staff=staff
                )
                form.add_error(
                    "code", "That code is not right, or was already used. Try the next one."
                )
            else:
                if enrolling:
                    actions.enrol_totp(staff=staff, secret=secret, step=step, request=request)
                actions.complete_sign_in(request=request, staff=staff, step=step)
                return redirect(_safe_next(request, next_url))
    context = {"form": form, "staff": staff, "enrolling": enrolling}
    if enrolling:
        uri = totp.provisioning_uri(secret, staff.username)
        context.update({"secret": secret, "qr": totp.qr_svg_data_uri(uri)})
    return render(request, "accounts/mfa.html", context)


@staff_view()
@require_http_methods(["GET", "POST"])
def reauth_view(request: HttpRequest) -> HttpResponse:
    """Confirm identity again before a sensitive change."""
    staff = request.user
    assert isinstance(staff, Staff)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = ReauthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        step = (
            actions.verify_code(staff=staff, code=form.cleaned_data["code"])
            if staff.check_password(form.cleaned_data["password"])
            else None
        )
        if step is None:
            if actions.record_failed_attempt(
                request=request, username=staff.username, stage="reauth", staff=staff
            ):
                actions.sign_out(request=request, reason="too many failed re-authentications")
                return redirect("accounts:login")
            form.add_error(None, "Password or code not right.")
        else:
            actions.confirm_reauthentication(request=request, staff=staff, step=step)
            return redirect(next_url)
    return render(request, "accounts/reauth.html", {"form": form, "next": next_url})


@staff_view()
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    actions.sign_out(request=request, reason="signed out")
    messages.success(request, "You have signed out.")
    return redirect("accounts:login")
