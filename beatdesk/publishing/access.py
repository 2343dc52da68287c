"""Agency-scoped fetches for publishing objects (same 404 for missing and not-yours)."""

from __future__ import annotations

from typing import Any

from beatdesk.agencies.access import access_in_agency

from .models import AppealFollowUp, Post


def access_post(user: Any, post_id: Any) -> Post:
    return access_in_agency(user, Post, post_id)


def access_follow_up(user: Any, follow_up_id: Any) -> AppealFollowUp:
    # A follow-up belongs to its post's agency: check the post, then fetch within it.
    follow_up = AppealFollowUp.objects.filter(pk=follow_up_id).only("post_id").first()
    post = access_post(user, follow_up.post_id if follow_up else None)
    return AppealFollowUp.objects.select_related("post", "delivery__account").get(
        pk=follow_up_id, post=post
    )
