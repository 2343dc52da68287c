"""Who reviews what: the screen's verdict and the author's track record decide.

- red: communications or standards, and only with a written override;
- amber: the team's supervisor (or corporate communications);
- green: publishes when the author has earned trust, otherwise the team's supervisor.

Pure decisions over loaded objects; the changes themselves are in ``actions``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from beatdesk.agencies.models import Agency, Staff
from beatdesk.agencies.roles import Role
from beatdesk.channels.contract import Capability
from beatdesk.channels.models import ConnectedAccount
from beatdesk.channels.registry import connector_class
from beatdesk.inbox.models import InboxSettings
from beatdesk.language.screen import ScreenContext, Screening, screen

from .models import AuthorTrust, Post, PublishingSettings

# Supervisors approve their team's amber and unearned green posts; communications
# approve any amber post in the agency (they run the force-wide accounts).
AMBER_REVIEWERS: frozenset[str] = frozenset({Role.SUPERVISOR, Role.COMMUNICATIONS})
# Only these may publish a red post, and only with a written reason.
OVERRIDERS: frozenset[str] = frozenset({Role.COMMUNICATIONS, Role.STANDARDS})
REVIEWERS = AMBER_REVIEWERS | OVERRIDERS
# Who may record that a published post was misuse (it resets the author's trust).
MISUSE_REPORTERS: frozenset[str] = frozenset(
    {Role.SUPERVISOR, Role.COMMUNICATIONS, Role.STANDARDS, Role.AGENCY_ADMIN}
)
# Besides the author and whoever may post from the account: who may mark an appeal's
# person found, follow it up on each account, or withdraw someone else's post.
STEWARDS: frozenset[str] = frozenset(
    {Role.SUPERVISOR, Role.COMMUNICATIONS, Role.STANDARDS, Role.AGENCY_ADMIN}
)
# Force-wide accounts are for corporate communications and the agency admin.
FORCE_ACCOUNT_ROLES: frozenset[str] = frozenset({Role.COMMUNICATIONS, Role.AGENCY_ADMIN})
MIN_OVERRIDE_REASON = 20


def publishing_settings(agency: Agency) -> PublishingSettings:
    found, _ = PublishingSettings.objects.get_or_create(agency=agency)
    return found


def trust_of(staff: Staff) -> AuthorTrust:
    assert staff.agency is not None
    found, _ = AuthorTrust.objects.get_or_create(staff=staff, defaults={"agency": staff.agency})
    return found


def screen_context(agency: Agency) -> ScreenContext:
    """What the screen should know about this agency: its link domains and numbers."""
    numbers: tuple[str, ...] = ()
    inbox = InboxSettings.objects.filter(agency=agency).first()
    if inbox is not None and inbox.non_emergency_number:
        numbers = (inbox.non_emergency_number,)
    return ScreenContext(
        allowed_domains=publishing_settings(agency).domains(), agency_phone_numbers=numbers
    )


def screen_post(agency: Agency, text: str) -> Screening:
    return screen(text, screen_context(agency))


@dataclass(frozen=True)
class Route:
    """Where a screened post goes next."""

    review: str  # a Post.Review value; "" means no review
    reason: str


def route_for(screening: Screening, author: Staff) -> Route:
    kinds = sorted({f.kind.replace("_", " ") for f in screening.findings if f.severity != "info"})
    if screening.risk == "red":
        return Route(
            Post.Review.COMMUNICATIONS,
            f"Red ({', '.join(kinds)}): only communications or standards may publish it, "
            "with a written reason.",
        )
    if screening.risk == "amber":
        return Route(Post.Review.SUPERVISOR, f"Amber ({', '.join(kinds)}): a supervisor checks it.")
    assert author.agency is not None
    needed = publishing_settings(author.agency).posts_to_earn_trust
    credit = trust_of(author).credit
    if credit >= needed:
        return Route(Post.Review.NONE, "Green from a trusted author.")
    return Route(
        Post.Review.SUPERVISOR,
        f"Green, but the author has {credit} of the {needed} approved posts that earn "
        "publishing without review.",
    )


def reviewable_posts(staff: Staff) -> QuerySet[Post]:
    """The posts ``staff`` may approve or reject now, as one query (the review queue and
    ``can_review`` share it, so the list cannot drift from what the action allows).

    Red posts: communications and standards. Amber and unearned green: communications,
    or a supervisor of the post's team; a team with no supervisor of its own (other
    than the author) is covered by any supervisor. Nobody reviews their own post.
    """
    if staff.agency_id is None or staff.role not in REVIEWERS:
        return Post.objects.none()
    waiting = Post.objects.filter(
        agency_id=staff.agency_id, state__in=[Post.State.IN_REVIEW, Post.State.HELD]
    ).exclude(author_id=staff.pk)
    allowed = Q(pk__in=[])
    if staff.role in OVERRIDERS:
        allowed |= Q(review=Post.Review.COMMUNICATIONS)
    if staff.role == Role.COMMUNICATIONS:
        allowed |= Q(review=Post.Review.SUPERVISOR)
    if staff.role == Role.SUPERVISOR:
        other_supervisor = Staff.objects.filter(
            teams=OuterRef("team_id"), role=Role.SUPERVISOR, is_active=True
        ).exclude(pk=OuterRef("author_id"))
        uncovered = Q(Exists(other_supervisor), _negated=True)
        allowed |= Q(review=Post.Review.SUPERVISOR) & (
            Q(team__isnull=True) | Q(team__in=staff.teams.all()) | uncovered
        )
    return waiting.filter(allowed)


def can_review(staff: Staff, post: Post) -> bool:
    """May ``staff`` approve or reject this post now?"""
    return reviewable_posts(staff).filter(pk=post.pk).exists()


def reviewers_of(post: Post) -> list[Staff]:
    """Everyone who may decide on this post now (for alerts)."""
    candidates = Staff.objects.filter(
        agency_id=post.agency_id, is_active=True, role__in=REVIEWERS
    ).exclude(pk=post.author_id)
    return [staff for staff in candidates if can_review(staff, post)]


def postable_accounts(staff: Staff) -> QuerySet[ConnectedAccount]:
    """The live accounts this person may publish through.

    Team accounts to their team members, an officer's own account to that officer,
    force-wide accounts to communications and the agency admin.
    """
    if staff.agency_id is None:
        return ConnectedAccount.objects.none()
    accounts = ConnectedAccount.objects.filter(
        agency_id=staff.agency_id, status=ConnectedAccount.Status.ACTIVE
    )
    team_ids = set(staff.teams.values_list("pk", flat=True))
    allowed = [
        account.pk
        for account in accounts
        if Capability.PUBLISH in connector_class(account.kind).capabilities
        and (
            (account.scope == ConnectedAccount.Scope.FORCE and staff.role in FORCE_ACCOUNT_ROLES)
            or (account.scope == ConnectedAccount.Scope.OFFICER and account.officer_id == staff.pk)
            or (account.scope == ConnectedAccount.Scope.TEAM and account.team_id in team_ids)
        )
    ]
    return ConnectedAccount.objects.filter(pk__in=allowed).order_by("kind", "label")
