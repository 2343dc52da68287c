"""Publishing test objects, made through the real actions (no platform involved)."""

from __future__ import annotations

from datetime import datetime

from beatdesk.agencies.models import Agency, Staff, Team
from beatdesk.agencies.roles import Role
from beatdesk.channels.models import ConnectedAccount, Delivery
from beatdesk.publishing import actions
from beatdesk.publishing.models import AppealFollowUp, Post, Purpose
from tests.channels.factories import make_account
from tests.conftest import make_staff


def team_of(agency: Agency) -> Team:
    return agency.teams.order_by("pk").first()  # type: ignore[return-value]


def team_account(agency: Agency, kind: str = "mastodon") -> ConnectedAccount:
    """A live account of the agency's first team (whose members may post from it)."""
    return make_account(agency, kind=kind, scope=ConnectedAccount.Scope.TEAM, team=team_of(agency))


def author(agency: Agency, username: str | None = None, role: str = Role.OFFICER) -> Staff:
    n = Staff.objects.count()
    return make_staff(agency, role, username or f"{agency.slug}-author-{n}")


def write(
    staff: Staff,
    text: str = "Road closed on the A56 after a collision. Please avoid the area.",
    *,
    accounts: list[ConnectedAccount] | None = None,
    scheduled_for: datetime | None = None,
    template_key: str = "",
) -> Post:
    assert staff.agency is not None
    return actions.submit_post(
        actor=staff,
        draft=actions.Draft(
            text=text,
            purpose=Purpose.OPERATIONS,
            accounts=accounts or [team_account(staff.agency)],
            scheduled_for=scheduled_for,
            template_key=template_key,
        ),
    )


def make_post(agency: Agency) -> Post:
    return write(author(agency))


def make_follow_up(agency: Agency) -> AppealFollowUp:
    """A found appeal's follow-up for one published account."""
    post = write(author(agency), "MISSING: have you seen a man, 70, last seen in Sale?")
    Post.objects.filter(pk=post.pk).update(template_key="missing_person", state="publishing")
    post.refresh_from_db()
    delivery = Delivery.objects.create(
        agency=agency,
        account=post.accounts.get(),
        source_type="publishing.post",
        source_id=str(post.pk),
        key=f"k{post.pk}",
        text=post.text,
        state=Delivery.State.PUBLISHED,
        platform_id=f"status-{post.pk}",
    )
    return AppealFollowUp.objects.create(post=post, delivery=delivery)
