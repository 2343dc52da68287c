"""Navigation by role: each person sees only the pages their role may open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import resolve, reverse

from beatdesk.agencies.access import AccessRule
from beatdesk.agencies.models import Staff
from beatdesk.agencies.roles import AGENCY_ADMINS
from beatdesk.channels.models import ChannelAlert
from beatdesk.publishing.models import Notice

# (label, url name). Who sees an entry is read from the view's own staff_view rule, so
# the menu cannot drift from what the page itself allows.
NAV = [
    ("Home", "web:home"),
    ("Inbox", "inbox:queue"),
    ("Posts", "publishing:posts"),
    ("Intelligence", "intelligence:queue"),
    ("Records", "records:overview"),
    ("Insights", "insights:overview"),
    ("Areas", "agencies:areas"),
    ("Teams", "agencies:teams"),
    ("Staff", "agencies:staff"),
    ("Channels", "channels:health"),
    ("Audit", "audit:events"),
]


def _roles_for(url: str) -> frozenset[str]:
    rule = getattr(resolve(url).func, "access_rule", None)
    assert isinstance(rule, AccessRule), f"{url} has no access rule"
    return rule.roles


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, Staff) or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, name in NAV:
        url = reverse(name)
        if user.role in _roles_for(url):
            current = request.path == url or (url != "/" and request.path.startswith(url))
            items.append({"label": label, "url": url, "current": current})
    live_url = reverse("inbox:live")
    return {
        "nav_items": items,
        "channel_alert_count": _open_channel_alerts(user),
        # Held posts, rejections, lapsed approvals, found appeals: on every page until read.
        "notice_count": Notice.objects.filter(recipient=user, read_at__isnull=True).count(),
        # Every page of someone who works the inbox polls for open P1s (visible + audible).
        "live_alerts_url": (
            live_url if user.agency_id is not None and user.role in _roles_for(live_url) else ""
        ),
    }


def _open_channel_alerts(user: Staff) -> int:
    """Agency admins see a banner on every page while a channel needs them."""
    if user.role not in AGENCY_ADMINS or user.agency_id is None:
        return 0
    return ChannelAlert.objects.filter(
        agency_id=user.agency_id, acknowledged_at__isnull=True
    ).count()
