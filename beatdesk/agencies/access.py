"""Tenant isolation and view access rules, in one place.

Two halves:

- ``staff_view`` / ``public_view`` declare who may open a view. Every URL must carry a
  declared rule: the generated access test fails the build for one that does not.
- ``access_<thing>(user, id)`` fetch agency-scoped objects. They return the same 404 for
  "missing" and "belongs to another agency", and record the latter as denied access.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from beatdesk.audit.record import record_event

from .models import Agency, Area, Staff, Team
from .roles import ALL_ROLES

View = Callable[..., HttpResponse]
REAUTH_SESSION_KEY = "reauth_at"


@dataclass(frozen=True)
class AccessRule:
    """Who may open a view. ``signed_in=False`` marks the sign-in pages themselves."""

    signed_in: bool
    roles: frozenset[str] = frozenset()
    reauth: bool = False


def public_view(view: View) -> View:
    """Reachable without signing in (sign-in, MFA step, health check)."""
    view.access_rule = AccessRule(signed_in=False)  # type: ignore[attr-defined]
    return view


def staff_view(
    roles: frozenset[str] = ALL_ROLES, *, reauth: bool = False
) -> Callable[[View], View]:
    """Require a signed-in (password + MFA) staff member of an agency with one of ``roles``.

    With ``reauth=True`` the person must have re-entered password and code in the last
    ``BEATDESK_REAUTH_SECONDS``; otherwise they are sent to re-authenticate first.
    A role refusal is a 403 recorded in the audit trail.
    """
    rule = AccessRule(signed_in=True, roles=frozenset(roles), reauth=reauth)

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse(settings.LOGIN_URL))
            assert isinstance(user, Staff)
            if user.agency_id is None or user.role not in rule.roles:
                record_event(
                    event_type="access.denied",
                    actor=user,
                    summary=f"Refused {request.method} {request.path}",
                    data={"path": request.path, "role": user.role},
                    request=request,
                )
                raise PermissionDenied
            if rule.reauth and not recently_reauthenticated(request):
                return redirect(f"{reverse('accounts:reauth')}?next={request.get_full_path()}")
            return view(request, *args, **kwargs)

        wrapper.access_rule = rule  # type: ignore[attr-defined]
        return wrapper

    return decorator


def recently_reauthenticated(request: HttpRequest) -> bool:
    stamp = request.session.get(REAUTH_SESSION_KEY)
    return isinstance(stamp, (int, float)) and (
        time.time() - stamp < settings.BEATDESK_REAUTH_SECONDS
    )


def staff_of(request: HttpRequest) -> Staff:
    """The signed-in staff member (views behind ``staff_view`` always have one)."""
    assert isinstance(request.user, Staff)
    return request.user


def agency_of(user: Any) -> Agency:
    """The signed-in staff member's agency (views behind ``staff_view`` always have one)."""
    assert isinstance(user, Staff) and user.agency is not None
    return user.agency


def _access[M: models.Model](user: Any, model: type[M], object_id: Any, **scope: Any) -> M:
    """Fetch ``model`` by id within ``scope``; same 404 for missing and not-yours."""
    try:
        return model._default_manager.get(pk=object_id, **scope)
    except (model.DoesNotExist, ValueError, TypeError):  # type: ignore[attr-defined]
        pass
    if model._default_manager.filter(pk=object_id).exists():
        record_event(
            event_type="access.denied",
            actor=user,
            object_type=model._meta.label_lower,
            object_id=object_id,
            summary=f"Refused {model._meta.verbose_name} of another agency",
        )
    raise Http404(f"No such {model._meta.verbose_name}")


def access_area(user: Any, area_id: Any) -> Area:
    return _access(user, Area, area_id, agency=agency_of(user))


def access_team(user: Any, team_id: Any) -> Team:
    return _access(user, Team, team_id, agency=agency_of(user))


def access_staff(user: Any, staff_id: Any) -> Staff:
    return _access(user, Staff, staff_id, agency=agency_of(user))


def access_in_agency[M: models.Model](user: Any, model: type[M], object_id: Any) -> M:
    """For other apps' agency-scoped models (those with an ``agency`` foreign key)."""
    return _access(user, model, object_id, agency=agency_of(user))
