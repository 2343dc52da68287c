"""Sign-in actions: each owns its transaction and writes its audit event."""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from beatdesk.agencies.access import REAUTH_SESSION_KEY
from beatdesk.agencies.models import Staff
from beatdesk.audit.record import record_event

from . import totp
from .models import LoginAttempt, StaffSession


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))[:45]


def is_locked_out(username: str) -> bool:
    """True when ``username`` had the configured number of failures within the window.

    Only failures after the last successful sign-in count.
    """
    username = username.strip().lower()
    since = timezone.now() - timedelta(seconds=settings.BEATDESK_LOCKOUT_WINDOW_SECONDS)
    attempts = LoginAttempt.objects.filter(username=username, created_at__gte=since)
    last_success = attempts.filter(succeeded=True).order_by("-created_at").first()
    failures = attempts.filter(succeeded=False)
    if last_success is not None:
        failures = failures.filter(created_at__gt=last_success.created_at)
    return failures.count() >= settings.BEATDESK_LOCKOUT_ATTEMPTS


def record_failed_attempt(
    *, request: HttpRequest, username: str, stage: str, staff: Staff | None = None
) -> bool:
    """Count a failed password or code and audit it (the username as typed, no password).

    Returns whether the username is now locked out.
    """
    username = username.strip().lower()
    with transaction.atomic():
        LoginAttempt.objects.create(
            username=username, ip_address=client_ip(request), succeeded=False, stage=stage
        )
        record_event(
            event_type="signin.failed",
            actor=staff,
            actor_label=username,
            agency=staff.agency if staff else None,
            summary=f"Failed sign-in ({stage})",
            data={"stage": stage},
            request=request,
        )
        locked = is_locked_out(username)
        if locked:
            record_event(
                event_type="signin.locked",
                actor=staff,
                actor_label=username,
                agency=staff.agency if staff else None,
                summary="Account locked after repeated failures",
                request=request,
            )
    return locked


def enrol_totp(*, staff: Staff, secret: str, step: int, request: HttpRequest) -> None:
    """Confirm a new authenticator for ``staff`` after a first valid code."""
    with transaction.atomic():
        staff.totp_secret = secret
        staff.totp_confirmed_at = timezone.now()
        staff.totp_last_step = step
        staff.save(update_fields=["totp_secret", "totp_confirmed_at", "totp_last_step"])
        record_event(
            event_type="mfa.enrolled",
            actor=staff,
            target=staff,
            summary="Authenticator app enrolled",
            request=request,
        )


def verify_code(*, staff: Staff, code: str) -> int | None:
    """The step ``code`` matches for ``staff``'s enrolled authenticator, or ``None``."""
    if not staff.totp_secret:
        return None
    return totp.matching_step(staff.totp_secret, code, staff.totp_last_step)


def complete_sign_in(*, request: HttpRequest, staff: Staff, step: int) -> None:
    """Log ``staff`` in after password and code: new session id, tracked and audited."""
    with transaction.atomic():
        staff.totp_last_step = step
        staff.save(update_fields=["totp_last_step"])
        # login() cycles the session key, so a key planted before sign-in is useless.
        login(request, staff, backend="django.contrib.auth.backends.ModelBackend")
        now = timezone.now().timestamp()
        request.session["auth_at"] = now
        request.session["last_seen"] = now
        request.session.save()
        StaffSession.objects.create(
            staff=staff,
            session_key=request.session.session_key or "",
            ip_address=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        )
        LoginAttempt.objects.create(
            username=staff.username, ip_address=client_ip(request), succeeded=True, stage="totp"
        )
        record_event(
            event_type="signin.succeeded",
            actor=staff,
            summary="Signed in with password and authenticator code",
            request=request,
        )


def confirm_reauthentication(*, request: HttpRequest, staff: Staff, step: int) -> None:
    """Mark the session as freshly re-authenticated (for sensitive changes)."""
    with transaction.atomic():
        staff.totp_last_step = step
        staff.save(update_fields=["totp_last_step"])
        request.session[REAUTH_SESSION_KEY] = time.time()
        record_event(event_type="signin.reauthenticated", actor=staff, request=request)


def sign_out(*, request: HttpRequest, reason: str = "signed out") -> None:
    """End the current session (sign-out, idle or absolute timeout) and audit why."""
    user = request.user
    with transaction.atomic():
        if isinstance(user, Staff):
            StaffSession.objects.filter(session_key=request.session.session_key or "").delete()
            record_event(
                event_type="signin.ended",
                actor=user,
                summary=f"Session ended: {reason}",
                data={"reason": reason},
                request=request,
            )
        logout(request)


def end_all_sessions(staff: Staff) -> int:
    """Delete every live session of ``staff``; return how many. Call inside an action."""
    keys = list(staff.live_sessions.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    staff.live_sessions.all().delete()
    return len(keys)
