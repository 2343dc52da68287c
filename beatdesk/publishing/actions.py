"""Changes to posts. Each owns its transaction and writes its audit event.

A post goes out only while an approval holds for its exact text and files
(``Post.approval_holds``), checked again at the moment of sending; a trusted author's
green post carries an automatic approval recorded as such.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from beatdesk.agencies.access import agency_of
from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Staff, Team
from beatdesk.audit.record import record_event
from beatdesk.channels.actions import delete_published
from beatdesk.channels.models import ConnectedAccount, Delivery, MediaFile
from beatdesk.channels.publish import cancel_delivery, check_postable, create_delivery
from beatdesk.language.screen import Screening, screening_to_dict

from .models import (
    APPEAL_UPDATE_SOURCE,
    POST_SOURCE,
    AppealFollowUp,
    AuthorTrust,
    Decision,
    Notice,
    Post,
    PublishingSettings,
    Purpose,
    fingerprint,
)
from .review import (
    MIN_OVERRIDE_REASON,
    MISUSE_REPORTERS,
    STEWARDS,
    can_review,
    postable_accounts,
    publishing_settings,
    reviewers_of,
    route_for,
    screen_post,
    trust_of,
)
from .templates_text import BY_KEY, unfilled_blanks

__all__ = [
    "ActionError",
    "Draft",
    "approve_post",
    "edit_post",
    "mark_person_found",
    "post_appeal_update",
    "reject_post",
    "release_due_posts",
    "remove_appeal",
    "report_misuse",
    "save_publishing_settings",
    "submit_post",
    "withdraw_post",
]

SYSTEM = "system"
logger = logging.getLogger("beatdesk.publishing")
EDITABLE = {Post.State.IN_REVIEW, Post.State.APPROVED, Post.State.HELD, Post.State.REJECTED}


@dataclass(frozen=True)
class Draft:
    """What the author wrote: checked by ``_check_draft`` before anything is saved."""

    text: str
    purpose: str
    accounts: Sequence[ConnectedAccount]
    media: Sequence[MediaFile] = ()
    scheduled_for: datetime | None = None
    template_key: str = ""


def _check_draft(actor: Staff, draft: Draft, *, now: datetime) -> str:
    text = draft.text.strip()
    if not text:
        raise ActionError("Write the post first.")
    if draft.purpose not in Purpose.values:
        raise ActionError("Choose what the post is for.")
    if draft.template_key and draft.template_key not in BY_KEY:
        raise ActionError("That template does not exist.")
    blanks = unfilled_blanks(draft.template_key, text)
    if blanks:
        raise ActionError(f"Fill in the template's blanks first: {', '.join(blanks)}.")
    if not draft.accounts:
        raise ActionError("Choose at least one account to post from.")
    allowed = set(postable_accounts(actor).values_list("pk", flat=True))
    for account in draft.accounts:
        if account.pk not in allowed:
            raise ActionError(f"You cannot post from {account}.")
        check_postable(account, text, list(draft.media))
    if draft.scheduled_for is not None and draft.scheduled_for <= now:
        raise ActionError("That time has already passed: choose a later time, or post now.")
    return text


def _team_for(actor: Staff, accounts: Sequence[ConnectedAccount]) -> Team | None:
    """The team whose supervisor reviews: the first team account's, else the author's."""
    for account in accounts:
        if account.team_id is not None:
            return account.team
    return actor.teams.order_by("pk").first()


def _notify(post: Post, recipients: Sequence[Staff], text: str) -> None:
    Notice.objects.bulk_create(
        [
            Notice(agency_id=post.agency_id, recipient=staff, post=post, text=text[:300])
            for staff in {s.pk: s for s in recipients}.values()
        ]
    )


def _apply_screening(post: Post, screening: Screening, author: Staff) -> None:
    """Set the verdict and route; a trusted green post is approved there and then."""
    route = route_for(screening, author)
    post.risk = screening.risk
    post.findings = screening_to_dict(screening)["findings"]
    post.review = route.review
    post.review_reason = route.reason
    if route.review == Post.Review.NONE:
        post.state = Post.State.APPROVED
        post.approved_sha256 = post.text_sha256
        post.approved_by = None
        post.approved_at = timezone.now()
    else:
        post.state = Post.State.IN_REVIEW
        post.approved_sha256 = ""
        post.approved_by = None
        post.approved_at = None


def _is_due(post: Post, now: datetime) -> bool:
    return post.scheduled_for is None or post.scheduled_for <= now


def _send(post: Post, actor: Staff | None, now: datetime) -> None:
    """Queue one delivery per account (each at most once). Inside the caller's transaction."""
    media = list(post.media.order_by("pk"))
    # Checked again now, not trusted from when it was approved: the stored fingerprint
    # must be the text and files as they are, every account live and still the
    # author's to use, and a found person's appeal never goes out.
    if not post.approval_holds or post.text_sha256 != fingerprint(post.text, [m.pk for m in media]):
        raise ActionError("This post has no approval for its current text.")
    if post.is_appeal and post.person_found_at is not None:
        raise ActionError("The person in this appeal has been found: it must not go out.")
    accounts = list(post.accounts.order_by("pk"))
    usable = set(postable_accounts(post.author).values_list("pk", flat=True))
    for account in accounts:
        if not account.is_live:
            raise ActionError(f"{account} is {account.get_status_display().lower()}.")
        if account.pk not in usable:
            raise ActionError(f"{post.author.display_name} may no longer post from {account}.")
    for account in accounts:
        create_delivery(
            actor=actor or post.author,
            account=account,
            source_type=POST_SOURCE,
            source_id=str(post.pk),
            text=post.text,
            media=media,
        )
    post.state = Post.State.PUBLISHING
    post.sent_at = now
    post.save(update_fields=["state", "sent_at", "updated_at"])
    record_event(
        event_type="publishing.post_sent",
        actor=actor,
        actor_label="" if actor else SYSTEM,
        agency=post.agency,
        target=post,
        summary=f"Post {post.pk} sent to {post.accounts.count()} account(s)",
        data={"accounts": sorted(post.accounts.values_list("pk", flat=True))},
    )


def submit_post(*, actor: Staff, draft: Draft, client_token: str = "") -> Post:
    """Screen and route a new post; publish it now if it needs no review and is due.

    ``client_token`` (one per compose form) makes a repeated submission (a double
    click, a resent form) return the first post instead of writing a second.
    """
    if client_token:
        earlier = Post.objects.filter(author=actor, client_token=client_token).first()
        if earlier is not None:
            return earlier
    now = timezone.now()
    text = _check_draft(actor, draft, now=now)
    agency = agency_of(actor)
    screening = screen_post(agency, text)
    media_ids = sorted(m.pk for m in draft.media)
    with transaction.atomic():
        post = Post(
            agency=agency,
            author=actor,
            team=_team_for(actor, draft.accounts),
            text=text,
            purpose=draft.purpose,
            template_key=draft.template_key,
            scheduled_for=draft.scheduled_for,
            text_sha256=fingerprint(text, media_ids),
            client_token=client_token,
            created_at=now,
        )
        _apply_screening(post, screening, actor)
        post.save()
        post.accounts.set(draft.accounts)
        post.media.set(draft.media)
        record_event(
            event_type="publishing.post_submitted",
            actor=actor,
            target=post,
            summary=f"Post {post.pk} written: {screening.risk}, {post.get_state_display()}",
            data={
                "risk": screening.risk,
                "kinds": sorted({f.kind for f in screening.findings}),
                "review": post.review,
                "accounts": sorted(a.pk for a in draft.accounts),
                "scheduled_for": draft.scheduled_for.isoformat() if draft.scheduled_for else None,
                "sha256": post.text_sha256,
            },
        )
        if post.state == Post.State.APPROVED and _is_due(post, now):
            _send(post, actor, now)
    return post


def _locked(post: Post) -> Post:
    return Post.objects.select_for_update().get(pk=post.pk)


def edit_post(*, actor: Staff, post: Post, text: str, scheduled_for: datetime | None) -> Post:
    """Change a post's text or time before it goes out. A changed text is screened again
    and its approval lapses (the approver is told); a rejected post goes back to review."""
    now = timezone.now()
    if actor.pk != post.author_id:
        raise ActionError("Only the author can change a post.")
    accounts = list(post.accounts.all())
    media = list(post.media.order_by("pk"))
    new_text = _check_draft(
        actor,
        Draft(
            text=text,
            purpose=post.purpose,
            accounts=accounts,
            media=media,
            scheduled_for=scheduled_for,
            template_key=post.template_key,
        ),
        now=now,
    )
    screening = screen_post(agency_of(actor), new_text)
    with transaction.atomic():
        locked = _locked(post)
        if locked.state not in EDITABLE:
            raise ActionError(
                f"This post is {locked.get_state_display().lower()}: too late to edit."
            )
        new_sha = fingerprint(new_text, [m.pk for m in media])
        text_changed = new_sha != locked.text_sha256
        was_rejected = locked.state == Post.State.REJECTED
        if was_rejected and not text_changed:
            raise ActionError("Change the post to answer the reviewer before resubmitting it.")
        previous_approver = locked.approved_by
        had_approval = locked.approval_holds
        locked.scheduled_for = scheduled_for
        if text_changed:
            locked.text = new_text
            locked.text_sha256 = new_sha
            locked.held_at = None
            _apply_screening(locked, screening, actor)
            if was_rejected and locked.review == Post.Review.NONE:
                # A rejected post goes back to a person, however trusted its author.
                locked.state = Post.State.IN_REVIEW
                locked.review = Post.Review.SUPERVISOR
                locked.review_reason = "Resubmitted after a rejection: a supervisor checks it."
                locked.approved_sha256 = ""
                locked.approved_at = None
        elif locked.state == Post.State.HELD:
            # A new time for a held post: back to waiting (or to its approved slot).
            locked.state = Post.State.APPROVED if had_approval else Post.State.IN_REVIEW
            locked.held_at = None
        locked.save()
        record_event(
            event_type="publishing.post_edited",
            actor=actor,
            target=locked,
            summary=f"Post {locked.pk} edited"
            + (": its approval lapsed" if had_approval and text_changed else ""),
            data={
                "text_changed": text_changed,
                "risk": locked.risk,
                "sha256": locked.text_sha256,
                "approval_lapsed": had_approval and text_changed,
                "scheduled_for": scheduled_for.isoformat() if scheduled_for else None,
            },
        )
        if had_approval and text_changed and previous_approver is not None:
            _notify(
                locked,
                [previous_approver],
                f"Your approval of post {locked.pk} lapsed: {actor.display_name} changed the "
                "text. It needs a fresh decision.",
            )
        if locked.state == Post.State.APPROVED and _is_due(locked, now):
            _send(locked, actor, now)
    return locked


def approve_post(*, actor: Staff, post: Post, seen_sha256: str, reason: str = "") -> Post:
    """Approve the text the reviewer saw (``seen_sha256``). A red post needs an override
    by communications or standards with a written reason. A held post, or one whose time
    has come, goes out at once."""
    now = timezone.now()
    reason = " ".join(reason.split())
    with transaction.atomic():
        locked = _locked(post)
        if not can_review(actor, locked):
            raise ActionError("You cannot approve this post.")
        if seen_sha256 != locked.text_sha256:
            raise ActionError("The post changed while you were reading it: read it again.")
        override = locked.review == Post.Review.COMMUNICATIONS
        if override and len(reason) < MIN_OVERRIDE_REASON:
            raise ActionError(
                "A red post is published only with a written reason for overriding the "
                f"screen (at least {MIN_OVERRIDE_REASON} characters)."
            )
        verdict = Decision.Verdict.OVERRIDE if override else Decision.Verdict.APPROVE
        Decision.objects.create(
            post=locked,
            reviewer=actor,
            verdict=verdict,
            reason=reason,
            text_sha256=locked.text_sha256,
            risk=locked.risk,
            created_at=now,
        )
        locked.approved_sha256 = locked.text_sha256
        locked.approved_by = actor
        locked.approved_at = now
        was_held = locked.state == Post.State.HELD
        locked.state = Post.State.APPROVED
        locked.held_at = None
        locked.save()
        if not override:
            # Earned autonomy counts only posts a reviewer found fine as written.
            trust = trust_of(locked.author)
            AuthorTrust.objects.filter(pk=trust.pk).update(
                credit=F("credit") + 1, approved_total=F("approved_total") + 1
            )
        record_event(
            event_type="publishing.post_overridden" if override else "publishing.post_approved",
            actor=actor,
            target=locked,
            summary=f"Post {locked.pk} {'published despite red' if override else 'approved'}",
            data={"risk": locked.risk, "sha256": locked.text_sha256, "reason": reason[:500]},
        )
        if was_held or _is_due(locked, now):
            _send(locked, actor, now)
            if was_held:
                _notify(
                    locked, [locked.author], f"Your held post {locked.pk} was approved and sent."
                )
    return locked


def reject_post(*, actor: Staff, post: Post, reason: str) -> Post:
    """Send a post back to its author with a reason; it costs the author trust."""
    reason = " ".join(reason.split())
    if not reason:
        raise ActionError("Say why, so the author can put it right.")
    with transaction.atomic():
        locked = _locked(post)
        if not can_review(actor, locked):
            raise ActionError("You cannot reject this post.")
        Decision.objects.create(
            post=locked,
            reviewer=actor,
            verdict=Decision.Verdict.REJECT,
            reason=reason,
            text_sha256=locked.text_sha256,
            risk=locked.risk,
        )
        locked.state = Post.State.REJECTED
        locked.approved_sha256 = ""
        locked.held_at = None
        locked.save()
        penalty = publishing_settings(locked.agency).rejection_penalty
        trust = AuthorTrust.objects.select_for_update().get(pk=trust_of(locked.author).pk)
        trust.credit = max(0, trust.credit - penalty)
        trust.rejected_total += 1
        trust.save()
        record_event(
            event_type="publishing.post_rejected",
            actor=actor,
            target=locked,
            summary=f"Post {locked.pk} rejected",
            data={"reason": reason[:500], "risk": locked.risk, "author_credit": trust.credit},
        )
        _notify(locked, [locked.author], f"Post {locked.pk} was rejected: {reason}")
    return locked


def withdraw_post(*, actor: Staff, post: Post, reason: str = "") -> Post:
    """Stop a post before it goes out: its author, or a supervisor, communications,
    standards or the admin (when things change and the author is off duty)."""
    reason = " ".join(reason.split())
    with transaction.atomic():
        locked = _locked(post)
        by_author = actor.pk == locked.author_id
        if not by_author and actor.role not in STEWARDS:
            raise ActionError("Only the author, a supervisor or communications can withdraw it.")
        if not by_author and not reason:
            raise ActionError("Say why you are withdrawing someone else's post.")
        if locked.state not in EDITABLE:
            raise ActionError(f"This post is {locked.get_state_display().lower()}.")
        locked.state = Post.State.WITHDRAWN
        locked.approved_sha256 = ""
        locked.save()
        record_event(
            event_type="publishing.post_withdrawn",
            actor=actor,
            target=locked,
            summary=f"Post {locked.pk} withdrawn" + ("" if by_author else " (not by its author)"),
            data={"reason": reason[:500], "by_author": by_author},
        )
        if not by_author:
            _notify(locked, [locked.author], f"Post {locked.pk} was withdrawn: {reason}")
    return locked


def report_misuse(*, actor: Staff, post: Post, reason: str) -> AuthorTrust:
    """Record that a post should not have been published: the author starts again with
    every post reviewed."""
    reason = " ".join(reason.split())
    if actor.role not in MISUSE_REPORTERS:
        raise ActionError("Only supervisors, communications, standards or admins can do this.")
    if not reason:
        raise ActionError("Say what was wrong with the post.")
    if actor.pk == post.author_id:
        raise ActionError("Ask someone else to review your own post.")
    with transaction.atomic():
        trust = AuthorTrust.objects.select_for_update().get(pk=trust_of(post.author).pk)
        before = trust.credit
        trust.credit = 0
        trust.misuse_total += 1
        trust.save()
        # Posts the author's trust approved (no reviewer) and not yet sent go to review.
        pulled = list(
            Post.objects.select_for_update()
            .filter(author=post.author, state=Post.State.APPROVED, approved_by__isnull=True)
            .values_list("pk", flat=True)
        )
        Post.objects.filter(pk__in=pulled).update(
            state=Post.State.IN_REVIEW,
            review=Post.Review.SUPERVISOR,
            review_reason="Its author's posts are reviewed again after a misuse report.",
            approved_sha256="",
            approved_at=None,
        )
        record_event(
            event_type="publishing.misuse_reported",
            actor=actor,
            target=post,
            summary=f"Post {post.pk} reported as misuse; its author's posts are reviewed again",
            data={
                "reason": reason[:500],
                "author": post.author_id,
                "credit_before": before,
                "returned_to_review": pulled,
            },
        )
        _notify(
            post,
            [post.author],
            f"Post {post.pk} was reported as misuse ({reason}); your posts are reviewed again.",
        )
    return trust


def release_due_posts(now: datetime | None = None) -> tuple[int, int]:
    """Scheduled posts whose time has come: approved ones go out; unapproved ones are
    held and their author and reviewers alerted (never dropped silently).

    Returns (sent, held). Each post is handled in its own transaction under a row lock,
    so two loops cannot both send or both alert.
    """
    now = now or timezone.now()
    due = list(
        Post.objects.filter(
            state__in=[Post.State.APPROVED, Post.State.IN_REVIEW], scheduled_for__lte=now
        )
        .order_by("scheduled_for")
        .values_list("pk", flat=True)[:100]
    )
    sent = held = 0
    for post_id in due:
        with transaction.atomic():
            post = Post.objects.select_for_update(skip_locked=True).filter(pk=post_id).first()
            if post is None or post.scheduled_for is None or post.scheduled_for > now:
                continue
            problem = ""
            if post.state == Post.State.APPROVED and post.approval_holds:
                try:
                    with transaction.atomic():  # all accounts or none
                        _send(post, None, now)
                    sent += 1
                    continue
                except ActionError as error:
                    problem = str(error)
                except Exception:
                    # One broken post must not block every later one on every tick.
                    logger.exception("scheduled post %s could not be sent", post.pk)
                    problem = "an unexpected error (logged for the administrator)"
            if post.state in {Post.State.IN_REVIEW, Post.State.APPROVED}:
                post.state = Post.State.HELD
                post.held_at = now
                post.save(update_fields=["state", "held_at", "updated_at"])
                reviewers = reviewers_of(post)
                record_event(
                    event_type="publishing.post_held",
                    actor=None,
                    actor_label=SYSTEM,
                    agency=post.agency,
                    target=post,
                    summary=f"Post {post.pk} held: "
                    + (problem or "its time came before it was approved"),
                    data={
                        "scheduled_for": post.scheduled_for.isoformat(),
                        "problem": problem,
                        "alerted": sorted([post.author_id, *(r.pk for r in reviewers)]),
                    },
                )
                when = timezone.localtime(post.scheduled_for).strftime("%d %b %H:%M")
                _notify(
                    post,
                    [post.author, *reviewers],
                    f"Post {post.pk} was due at {when} but could not go out ({problem}): it is "
                    "held until someone edits and approves it."
                    if problem
                    else f"Post {post.pk} was due at {when} but is not approved: it is held "
                    "and will not go out until someone approves it.",
                )
                held += 1
    return sent, held


def save_publishing_settings(
    *, actor: Staff, posts_to_earn_trust: int, rejection_penalty: int, allowed_domains: str
) -> PublishingSettings:
    with transaction.atomic():
        found = publishing_settings(agency_of(actor))
        before = {
            "posts_to_earn_trust": found.posts_to_earn_trust,
            "rejection_penalty": found.rejection_penalty,
            "allowed_domains": found.allowed_domains,
        }
        found.posts_to_earn_trust = posts_to_earn_trust
        found.rejection_penalty = rejection_penalty
        found.allowed_domains = "\n".join(
            line.strip() for line in allowed_domains.splitlines() if line.strip()
        )
        found.save()
        after = {
            "posts_to_earn_trust": found.posts_to_earn_trust,
            "rejection_penalty": found.rejection_penalty,
            "allowed_domains": found.allowed_domains,
        }
        record_event(
            event_type="publishing.settings_changed",
            actor=actor,
            target=found,
            summary="Publishing settings changed",
            data={"before": before, "after": after},
        )
    return found


# -- Missing-person appeals ---------------------------------------------------------


def _may_steward(actor: Staff, post: Post, account: ConnectedAccount | None = None) -> bool:
    """The author, a supervisor, communications, standards or the admin, or someone who
    may post from the account concerned (any of the post's accounts when none given)."""
    if actor.agency_id != post.agency_id:
        return False
    if actor.pk == post.author_id or actor.role in STEWARDS:
        return True
    usable = postable_accounts(actor)
    if account is not None:
        return usable.filter(pk=account.pk).exists()
    return usable.filter(pk__in=post.accounts.all()).exists()


def mark_person_found(*, actor: Staff, post: Post) -> Post:
    """The person in this appeal is found: every account it went to (or was queued
    for, or failed on) now needs an update or the appeal removed; one follow-up per
    account tracks that. An appeal not yet sent cannot be 'found': withdraw it."""
    if not post.is_appeal:
        raise ActionError("Only missing-person appeals have a 'found' step.")
    if not _may_steward(actor, post):
        raise ActionError("Only the author, a supervisor or communications can do this.")
    with transaction.atomic():
        locked = _locked(post)
        if locked.person_found_at is not None:
            return locked
        if locked.state != Post.State.PUBLISHING:
            raise ActionError(
                "This appeal has not gone out: withdraw it instead, so it never does."
            )
        locked.person_found_at = timezone.now()
        locked.person_found_by = actor
        locked.save(update_fields=["person_found_at", "person_found_by", "updated_at"])
        deliveries = list(
            Delivery.objects.filter(source_type=POST_SOURCE, source_id=str(locked.pk))
        )
        AppealFollowUp.objects.bulk_create(
            [AppealFollowUp(post=locked, delivery=d) for d in deliveries]
        )
        record_event(
            event_type="publishing.person_found",
            actor=actor,
            target=locked,
            summary=f"Appeal {locked.pk}: person found; {len(deliveries)} account(s) to update",
            data={"deliveries": [d.pk for d in deliveries]},
        )
        _notify(
            locked,
            [locked.author],
            f"The person in appeal {locked.pk} is found: update or remove it on every account.",
        )
    return locked


def _open_follow_up(follow_up: AppealFollowUp, *, removing: bool) -> AppealFollowUp:
    """Lock a follow-up that still allows this step: removal is allowed until done
    (after an update too); an update only while pending or after a failed update."""
    locked = AppealFollowUp.objects.select_for_update().get(pk=follow_up.pk)
    outcome = locked.outcome
    if outcome == AppealFollowUp.Outcome.REMOVED:
        raise ActionError("This account's appeal has already been removed.")
    if not removing and outcome == AppealFollowUp.Outcome.UPDATED:
        update = locked.update_delivery
        if update is None or update.state != Delivery.State.FAILED:
            raise ActionError("An update is already posted (or on its way) on this account.")
    return locked


def post_appeal_update(*, actor: Staff, follow_up: AppealFollowUp, text: str) -> AppealFollowUp:
    """Reply to the appeal on its platform with an update ('found safe, thank you').

    Only from someone allowed on the account, and only a green update: it goes out
    without review, so anything the screen flags must go through a post instead.
    """
    text = text.strip()
    delivery = follow_up.delivery
    if not _may_steward(actor, follow_up.post, delivery.account):
        raise ActionError(f"You cannot post from {delivery.account}.")
    if delivery.state != Delivery.State.PUBLISHED or not delivery.platform_id:
        raise ActionError("The appeal never went out on this account: remove it instead.")
    if delivery.deleted_at is not None:
        raise ActionError(
            "The appeal was taken down on this account; there is nothing to reply to."
        )
    check_postable(delivery.account, text, [], reply=True)
    screening = screen_post(follow_up.post.agency, text)
    if screening.risk != "green":
        first = next(f for f in screening.findings if f.severity == screening.risk)
        raise ActionError(
            f"This update is {screening.risk}: {first.explanation} Updates go out without "
            "review, so keep them to 'found safe, thank you for sharing'."
        )
    with transaction.atomic():
        locked = _open_follow_up(follow_up, removing=False)
        # A failed update may be tried again: each attempt is its own delivery.
        attempt = Delivery.objects.filter(
            source_type=APPEAL_UPDATE_SOURCE, source_id__startswith=f"{locked.pk}-"
        ).count()
        update = create_delivery(
            actor=actor,
            account=delivery.account,
            source_type=APPEAL_UPDATE_SOURCE,
            source_id=f"{locked.pk}-{attempt}",
            text=text,
            reply_to_id=delivery.platform_id,
        )
        locked.outcome = AppealFollowUp.Outcome.UPDATED
        locked.update_delivery = update
        locked.done_by = actor
        locked.done_at = timezone.now()
        locked.save()
        record_event(
            event_type="publishing.appeal_updated",
            actor=actor,
            target=locked.post,
            summary=f"Appeal {locked.post_id}: update queued on {delivery.account}",
            data={"follow_up": locked.pk, "delivery": update.pk, "risk": screening.risk},
        )
    return locked


def remove_appeal(
    *, actor: Staff, follow_up: AppealFollowUp, by_hand_reason: str = ""
) -> AppealFollowUp:
    """Take the appeal down from this account (the usual choice once a person is found:
    their photo should not stay up).

    Published: deleted on the platform through its connector. Queued or failed: cancelled
    so it can never go out. Being sent right now: refused until that settles. Where the
    platform cannot delete through Beatdesk (or the account is broken), the person
    deletes it in the platform's own app and records that here with ``by_hand_reason``.
    """
    delivery = follow_up.delivery
    by_hand_reason = " ".join(by_hand_reason.split())
    if not _may_steward(actor, follow_up.post, delivery.account):
        raise ActionError(f"You cannot manage posts on {delivery.account}.")
    how = "deleted"
    if by_hand_reason:
        how = "deleted by hand on the platform"
    elif delivery.state == Delivery.State.PUBLISHED and delivery.deleted_at is None:
        delete_published(
            actor=actor, delivery=delivery, reason=f"Person in appeal {follow_up.post_id} found"
        )
    elif delivery.state in {Delivery.State.PENDING, Delivery.State.FAILED}:
        if not cancel_delivery(
            actor=actor, delivery=delivery, reason=f"person in appeal {follow_up.post_id} found"
        ):
            raise ActionError("This account's post is being sent right now: try again shortly.")
        how = "cancelled before it went out"
    elif delivery.state in {Delivery.State.SENDING, Delivery.State.UNKNOWN}:
        raise ActionError("This account's post is being sent right now: try again shortly.")
    with transaction.atomic():
        locked = _open_follow_up(follow_up, removing=True)
        locked.outcome = AppealFollowUp.Outcome.REMOVED
        locked.note = (by_hand_reason or how)[:300]
        locked.done_by = actor
        locked.done_at = timezone.now()
        locked.save()
        record_event(
            event_type="publishing.appeal_removed",
            actor=actor,
            target=locked.post,
            summary=f"Appeal {locked.post_id}: {how} on {delivery.account}",
            data={
                "follow_up": locked.pk,
                "delivery": delivery.pk,
                "how": how,
                "reason": by_hand_reason[:300],
            },
        )
    return locked
