"""Idle (30 min) and absolute (12 h) session limits, and killed sessions."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from .actions import sign_out
from .models import StaffSession

# Writing last_seen on every request would turn each page view into a session write;
# a minute of slack on a 30-minute limit is harmless.
LAST_SEEN_RESOLUTION_SECONDS = 60
# Sent by background polls (``inbox.js``); such requests never count as activity.
BACKGROUND_POLL_HEADER = "X-Beatdesk-Poll"


class SessionLimitsMiddleware:
    """Signs out sessions that went idle, grew too old, or were ended elsewhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            reason = self._expiry_reason(request)
            if reason is not None:
                sign_out(request=request, reason=reason)
                messages.info(request, f"You were signed out: {reason}. Please sign in again.")
                login_url = reverse(settings.LOGIN_URL)
                if request.headers.get("HX-Request"):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = login_url
                    return response
                return redirect_to_login(request.get_full_path(), login_url)
        return self.get_response(request)

    def _expiry_reason(self, request: HttpRequest) -> str | None:
        now = time.time()
        session = request.session
        auth_at = session.get("auth_at")
        last_seen = session.get("last_seen")
        if not isinstance(auth_at, (int, float)) or not isinstance(last_seen, (int, float)):
            return "session not established by sign-in"
        if now - auth_at > settings.BEATDESK_SESSION_ABSOLUTE_SECONDS:
            return "the 12-hour session limit was reached"
        if now - last_seen > settings.BEATDESK_SESSION_IDLE_SECONDS:
            return "30 minutes without activity"
        if not StaffSession.objects.filter(session_key=session.session_key or "").exists():
            return "the session was ended by an administrator"
        # A page's own background poll (live alerts) is not a person at the desk: it may
        # not keep an unattended session alive past the idle limit.
        if now - last_seen > LAST_SEEN_RESOLUTION_SECONDS and not request.headers.get(
            BACKGROUND_POLL_HEADER
        ):
            session["last_seen"] = now
        return None
