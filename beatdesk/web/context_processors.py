"""Navigation by role: each person sees only the pages their role may open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from beatdesk.agencies.models import Staff
from beatdesk.agencies.roles import AGENCY_ADMINS, ALL_ROLES, AUDIT_READERS

# (label, url name, roles allowed): keep in step with the views' staff_view rules.
NAV = [
    ("Home", "web:home", ALL_ROLES),
    ("Areas", "agencies:areas", ALL_ROLES),
    ("Teams", "agencies:teams", ALL_ROLES),
    ("Staff", "agencies:staff", AGENCY_ADMINS),
    ("Audit", "audit:events", AUDIT_READERS),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, Staff) or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, name, roles in NAV:
        if user.role in roles:
            url = reverse(name)
            current = request.path == url or (url != "/" and request.path.startswith(url))
            items.append({"label": label, "url": url, "current": current})
    return {"nav_items": items}
