"""Publishing rules: routing by risk, the trust ladder, lapsing approvals, scheduled posts
that fall due unapproved, red overrides, and missing-person appeal follow-ups.

Deliveries are checked as rows (what would go out); sending them is the channels
pipeline's job and is tested there, and end to end in ``test_acceptance.py``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Agency, Staff
from beatdesk.agencies.roles import Role
from beatdesk.audit.models import AuditEvent
from beatdesk.audit.verify import verify_chain
from beatdesk.channels.models import ConnectedAccount, Delivery
from beatdesk.publishing import actions
from beatdesk.publishing.models import AppealFollowUp, AuthorTrust, Decision, Notice, Post
from beatdesk.publishing.review import trust_of
from tests.channels.factories import make_account
from tests.channels.harness_mastodon import (  # noqa: F401
    MastodonHarness,
    mastodon_platform,
    mastodon_server,
)
from tests.conftest import make_agency, make_staff

from .factories import author, team_account, write

GREEN = "Road closed on the A56 after a collision. Please avoid the area."
AMBER = "Thanks to Sarah Jones for her help today with the community litter pick."
RED = "Jane Smith, 24, who was sexually assaulted in Salford on Friday, has thanked the public."
pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(agency: Agency) -> Staff:
    return author(agency, "officer-one")


@pytest.fixture
def supervisor(agency: Agency) -> Staff:
    return make_staff(agency, Role.SUPERVISOR, "sup-one")


@pytest.fixture
def comms(agency: Agency) -> Staff:
    return make_staff(agency, Role.COMMUNICATIONS, "comms-one")


def _earn(staff: Staff, credit: int) -> None:
    AuthorTrust.objects.filter(pk=trust_of(staff).pk).update(credit=credit)


def _deliveries(post: Post) -> int:
    return Delivery.objects.filter(source_type="publishing.post", source_id=str(post.pk)).count()


# -- Routing by risk and record ------------------------------------------------------


def test_new_authors_green_post_waits_for_a_supervisor(officer: Staff) -> None:
    post = write(officer, GREEN)
    assert post.risk == "green"
    assert post.state == Post.State.IN_REVIEW
    assert post.review == Post.Review.SUPERVISOR
    assert "0 of the 10" in post.review_reason
    assert _deliveries(post) == 0


def test_trusted_authors_green_post_publishes_at_once(officer: Staff) -> None:
    _earn(officer, 10)
    post = write(officer, GREEN)
    assert post.state == Post.State.PUBLISHING
    assert post.approval_holds and post.approved_by is None
    assert _deliveries(post) == 1
    event = AuditEvent.objects.get(event_type="publishing.post_sent")
    assert event.object_id == str(post.pk)


def test_amber_goes_to_the_supervisor_even_from_a_trusted_author(
    officer: Staff, supervisor: Staff
) -> None:
    _earn(officer, 50)
    post = write(officer, AMBER)
    assert (post.risk, post.state, post.review) == ("amber", "in_review", "supervisor")
    assert "personal data" in post.review_reason
    with pytest.raises(ActionError, match="cannot approve"):
        actions.approve_post(actor=officer, post=post, seen_sha256=post.text_sha256)
    actions.approve_post(actor=supervisor, post=post, seen_sha256=post.text_sha256)
    post.refresh_from_db()
    assert post.state == Post.State.PUBLISHING and post.approved_by == supervisor
    assert _deliveries(post) == 1


def test_only_the_teams_supervisor_or_communications_review_amber(
    agency: Agency, officer: Staff, comms: Staff
) -> None:
    own_supervisor = make_staff(agency, Role.SUPERVISOR, "sup-own")
    elsewhere = make_staff(agency, Role.SUPERVISOR, "sup-elsewhere")
    elsewhere.teams.clear()
    post = write(officer, AMBER)
    with pytest.raises(ActionError, match="cannot approve"):
        actions.approve_post(actor=elsewhere, post=post, seen_sha256=post.text_sha256)
    analyst = make_staff(agency, Role.INTELLIGENCE_ANALYST, "analyst")
    with pytest.raises(ActionError, match="cannot approve"):
        actions.approve_post(actor=analyst, post=post, seen_sha256=post.text_sha256)
    actions.approve_post(actor=comms, post=post, seen_sha256=post.text_sha256)
    assert own_supervisor.pk  # present but not needed: communications may decide too


def test_a_supervisor_cannot_approve_their_own_post(agency: Agency, supervisor: Staff) -> None:
    post = write(supervisor, AMBER)
    with pytest.raises(ActionError, match="cannot approve"):
        actions.approve_post(actor=supervisor, post=post, seen_sha256=post.text_sha256)


def test_red_needs_communications_or_standards_and_a_written_reason(
    agency: Agency, officer: Staff, supervisor: Staff, comms: Staff
) -> None:
    _earn(officer, 50)
    post = write(officer, RED)
    assert (post.risk, post.state, post.review) == ("red", "in_review", "communications")
    with pytest.raises(ActionError, match="cannot approve"):
        actions.approve_post(actor=supervisor, post=post, seen_sha256=post.text_sha256)
    with pytest.raises(ActionError, match="written reason"):
        actions.approve_post(actor=comms, post=post, seen_sha256=post.text_sha256, reason="ok")
    assert _deliveries(post) == 0
    standards = make_staff(agency, Role.STANDARDS, "standards")
    reason = "The victim asked us to publish her name and waived anonymity in writing."
    actions.approve_post(actor=standards, post=post, seen_sha256=post.text_sha256, reason=reason)
    post.refresh_from_db()
    assert post.state == Post.State.PUBLISHING and _deliveries(post) == 1
    decision = Decision.objects.get(post=post)
    assert decision.verdict == Decision.Verdict.OVERRIDE and decision.reason == reason
    event = AuditEvent.objects.get(event_type="publishing.post_overridden")
    assert event.data["reason"] == reason
    # An override is not a reviewer finding the post fine: it earns no trust.
    assert trust_of(officer).credit == 50


def test_a_reviewer_approves_only_the_text_they_saw(officer: Staff, supervisor: Staff) -> None:
    post = write(officer, GREEN)
    seen = post.text_sha256
    actions.edit_post(actor=officer, post=post, text=GREEN + " Updates here.", scheduled_for=None)
    with pytest.raises(ActionError, match="changed while you were reading"):
        actions.approve_post(actor=supervisor, post=post, seen_sha256=seen)
    assert _deliveries(post) == 0


# -- Trust ladder --------------------------------------------------------------------


def test_trust_is_earned_by_approved_posts_and_lost_by_rejection_and_misuse(
    agency: Agency, officer: Staff, supervisor: Staff
) -> None:
    actions.save_publishing_settings(
        actor=make_staff(agency, Role.AGENCY_ADMIN, "admin"),
        posts_to_earn_trust=3,
        rejection_penalty=2,
        allowed_domains="",
    )
    for n in range(3):
        post = write(officer, f"{GREEN} ({n})")
        assert post.state == Post.State.IN_REVIEW, n
        actions.approve_post(actor=supervisor, post=post, seen_sha256=post.text_sha256)
    assert trust_of(officer).credit == 3

    earned = write(officer, f"{GREEN} (earned)")
    assert earned.state == Post.State.PUBLISHING  # autonomy earned

    # A rejection costs two approved posts: back under the bar.
    amber = write(officer, AMBER)
    actions.reject_post(actor=supervisor, post=amber, reason="Ask Sarah before naming her.")
    trust = trust_of(officer)
    assert (trust.credit, trust.rejected_total) == (1, 1)
    assert write(officer, f"{GREEN} (after rejection)").state == Post.State.IN_REVIEW
    assert Notice.objects.filter(recipient=officer, post=amber, text__contains="Ask Sarah").exists()

    # Earn it back, then misuse takes all of it.
    for n in range(2):
        post = write(officer, f"{GREEN} (again {n})")
        actions.approve_post(actor=supervisor, post=post, seen_sha256=post.text_sha256)
    published = write(officer, f"{GREEN} (trusted again)")
    assert published.state == Post.State.PUBLISHING
    actions.report_misuse(actor=supervisor, post=published, reason="Posted a live scene photo.")
    trust = trust_of(officer)
    assert (trust.credit, trust.misuse_total) == (0, 1)
    assert write(officer, f"{GREEN} (after misuse)").state == Post.State.IN_REVIEW
    assert AuditEvent.objects.filter(event_type="publishing.misuse_reported").count() == 1


def test_zero_posts_to_earn_trust_trusts_everyone(agency: Agency, officer: Staff) -> None:
    actions.save_publishing_settings(
        actor=make_staff(agency, Role.AGENCY_ADMIN, "admin"),
        posts_to_earn_trust=0,
        rejection_penalty=5,
        allowed_domains="example.police.uk",
    )
    assert write(officer, GREEN).state == Post.State.PUBLISHING
    # The allowed domains reach the screen: a link elsewhere is not green.
    assert write(officer, "Advice: https://example.police.uk/advice").risk == "green"
    assert write(officer, "Advice: https://bit.ly/3xYz").risk != "green"


# -- Approvals lapse when the text changes -------------------------------------------


def test_approval_lapses_when_the_text_changes_and_the_approver_is_told(
    officer: Staff, supervisor: Staff
) -> None:
    at = timezone.now() + timedelta(hours=2)
    post = write(officer, AMBER, scheduled_for=at)
    actions.approve_post(actor=supervisor, post=post, seen_sha256=post.text_sha256)
    post.refresh_from_db()
    assert post.state == Post.State.APPROVED and post.approval_holds

    edited = actions.edit_post(
        actor=officer, post=post, text=AMBER.replace("today", "on Sunday"), scheduled_for=at
    )
    assert edited.state == Post.State.IN_REVIEW
    assert not edited.approval_holds and edited.approved_by is None
    assert Notice.objects.filter(recipient=supervisor, post=post, text__contains="lapsed").exists()
    event = AuditEvent.objects.filter(event_type="publishing.post_edited").get()
    assert event.data["approval_lapsed"] is True

    # At its time it is held, not sent on the lapsed approval.
    sent, held = actions.release_due_posts(at + timedelta(seconds=1))
    assert (sent, held) == (0, 1)
    assert _deliveries(post) == 0


def test_changing_only_the_time_keeps_the_approval(officer: Staff, supervisor: Staff) -> None:
    at = timezone.now() + timedelta(hours=2)
    post = write(officer, AMBER, scheduled_for=at)
    actions.approve_post(actor=supervisor, post=post, seen_sha256=post.text_sha256)
    edited = actions.edit_post(
        actor=officer, post=post, text=AMBER, scheduled_for=at + timedelta(hours=1)
    )
    assert edited.state == Post.State.APPROVED and edited.approval_holds


def test_a_trusted_authors_edit_is_approved_again_by_the_screen(officer: Staff) -> None:
    _earn(officer, 10)
    at = timezone.now() + timedelta(hours=1)
    post = write(officer, GREEN, scheduled_for=at)
    assert post.state == Post.State.APPROVED
    edited = actions.edit_post(actor=officer, post=post, text=AMBER, scheduled_for=at)
    assert edited.state == Post.State.IN_REVIEW and not edited.approval_holds


# -- Scheduled posts -----------------------------------------------------------------


def test_an_approved_scheduled_post_goes_out_at_its_time_once(officer: Staff) -> None:
    _earn(officer, 10)
    at = timezone.now() + timedelta(minutes=30)
    post = write(officer, GREEN, scheduled_for=at)
    assert post.state == Post.State.APPROVED
    assert actions.release_due_posts(at - timedelta(seconds=1)) == (0, 0)
    assert _deliveries(post) == 0
    assert actions.release_due_posts(at) == (1, 0)
    assert actions.release_due_posts(at + timedelta(minutes=1)) == (0, 0)
    post.refresh_from_db()
    assert post.state == Post.State.PUBLISHING and _deliveries(post) == 1


def test_an_unapproved_scheduled_post_is_held_and_author_and_approver_alerted(
    agency: Agency, officer: Staff, supervisor: Staff
) -> None:
    at = timezone.now() + timedelta(minutes=30)
    post = write(officer, AMBER, scheduled_for=at)
    assert actions.release_due_posts(at + timedelta(seconds=5)) == (0, 1)
    post.refresh_from_db()
    assert post.state == Post.State.HELD and post.held_at is not None
    assert _deliveries(post) == 0
    alerted = set(Notice.objects.filter(post=post).values_list("recipient__username", flat=True))
    assert {officer.username, supervisor.username} <= alerted
    event = AuditEvent.objects.get(event_type="publishing.post_held")
    assert supervisor.pk in event.data["alerted"] and officer.pk in event.data["alerted"]
    # Held means held: later ticks neither send it nor alert again.
    assert actions.release_due_posts(at + timedelta(minutes=5)) == (0, 0)
    assert Notice.objects.filter(post=post).count() == len(alerted)

    # Approving a held post sends it at once and tells the author.
    actions.approve_post(actor=supervisor, post=post, seen_sha256=post.text_sha256)
    post.refresh_from_db()
    assert post.state == Post.State.PUBLISHING and _deliveries(post) == 1
    assert Notice.objects.filter(recipient=officer, text__contains="approved and sent").exists()


def test_a_scheduled_post_that_cannot_go_out_is_held_not_lost(
    agency: Agency, officer: Staff
) -> None:
    _earn(officer, 10)
    at = timezone.now() + timedelta(minutes=30)
    account = team_account(agency)
    post = write(officer, GREEN, accounts=[account], scheduled_for=at)
    # Between scheduling and its time the post no longer fits (e.g. the account was
    # reconnected as another platform): it is held with the reason, nothing half-sent.
    ConnectedAccount.objects.filter(pk=account.pk).update(kind="instagram")
    assert actions.release_due_posts(at) == (0, 1)
    post.refresh_from_db()
    assert post.state == Post.State.HELD and _deliveries(post) == 0
    assert Notice.objects.filter(recipient=officer, text__contains="need at least one image")


def test_a_time_in_the_past_is_refused(officer: Staff) -> None:
    with pytest.raises(ActionError, match="already passed"):
        write(officer, GREEN, scheduled_for=timezone.now() - timedelta(minutes=1))


# -- What may be posted where --------------------------------------------------------


def test_blanks_accounts_and_platform_limits_are_checked(agency: Agency, officer: Staff) -> None:
    with pytest.raises(ActionError, match=r"blanks first: \[road\]"):
        write(officer, "ROAD CLOSURE: [road] is closed.", template_key="road_closure")
    force = make_account(agency, "mastodon")  # force-wide: communications only
    with pytest.raises(ActionError, match="cannot post from"):
        write(officer, GREEN, accounts=[force])
    x = team_account(agency, "x")
    with pytest.raises(ActionError, match="X allows 280 characters"):
        write(officer, "a" * 300, accounts=[x])
    other = make_agency("other")
    with pytest.raises(ActionError, match="cannot post from"):
        write(
            officer, GREEN, accounts=[make_account(other, scope="team", team=other.teams.first())]
        )
    assert not Post.objects.exists()


def test_every_change_is_audited_and_the_chain_holds(officer: Staff, supervisor: Staff) -> None:
    post = write(officer, AMBER)
    actions.reject_post(actor=supervisor, post=post, reason="Needs consent first.")
    actions.edit_post(actor=officer, post=post, text=GREEN, scheduled_for=None)
    actions.withdraw_post(actor=officer, post=post)
    types = list(
        AuditEvent.objects.filter(event_type__startswith="publishing.")
        .order_by("pk")
        .values_list("event_type", flat=True)
    )
    assert types == [
        "publishing.post_submitted",
        "publishing.post_rejected",
        "publishing.post_edited",
        "publishing.post_withdrawn",
    ]
    assert verify_chain().ok


# -- Missing-person appeals ----------------------------------------------------------


def test_found_appeal_is_updated_or_removed_on_every_account(
    agency: Agency,
    officer: Staff,
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    from beatdesk.channels import actions as channel_actions
    from beatdesk.channels import publish

    admin = make_staff(agency, Role.AGENCY_ADMIN, "admin")
    settings = mastodon_platform.force_account()
    live = channel_actions.connect_account(
        actor=admin,
        kind="mastodon",
        base_url=settings.base_url,
        credentials=dict(settings.credentials),
    )
    ConnectedAccount.objects.filter(pk=live.pk).update(
        scope=ConnectedAccount.Scope.TEAM, team=agency.teams.first()
    )
    second = team_account(agency)  # a second account whose delivery never went out
    _earn(officer, 10)
    text = "MISSING: Can you help us find Ann, 81, from Sale? Call 999 quoting log 12."
    post = write(officer, text, accounts=[live, second], template_key="missing_person")
    assert post.state == Post.State.PUBLISHING
    first = Delivery.objects.get(account=live, source_id=str(post.pk))
    publish.send_delivery(first.pk)
    first.refresh_from_db()
    assert first.state == Delivery.State.PUBLISHED
    assert mastodon_platform.status(first.platform_id) is not None

    actions.mark_person_found(actor=officer, post=post)
    follow_ups = {f.delivery.account_id: f for f in AppealFollowUp.objects.filter(post=post)}
    assert set(follow_ups) == {live.pk, second.pk}
    assert Notice.objects.filter(recipient=officer, text__contains="is found").exists()

    # The published one is taken down on the platform itself.
    actions.remove_appeal(actor=officer, follow_up=follow_ups[live.pk])
    assert mastodon_platform.status(first.platform_id) is None
    first.refresh_from_db()
    assert first.deleted_at is not None and first.deleted_by == officer
    with pytest.raises(ActionError, match="already been removed"):
        actions.remove_appeal(actor=officer, follow_up=follow_ups[live.pk])

    # The one still queued cannot take an update; removing it cancels it, so the
    # found person's appeal can never go out there, not even by a retry.
    with pytest.raises(ActionError, match="never went out"):
        actions.post_appeal_update(
            actor=officer, follow_up=follow_ups[second.pk], text="Found safe, thank you."
        )
    queued = Delivery.objects.get(account=second, source_id=str(post.pk))
    assert queued.state == Delivery.State.PENDING
    actions.remove_appeal(actor=officer, follow_up=follow_ups[second.pk])
    queued.refresh_from_db()
    assert (queued.state, queued.failure_code) == (Delivery.State.FAILED, "cancelled")
    assert publish.send_delivery(queued.pk).state == Delivery.State.FAILED
    with pytest.raises(ActionError, match="cancelled on purpose"):
        publish.retry_delivery(actor=officer, delivery=queued)
    outcomes = dict(AppealFollowUp.objects.filter(post=post).values_list("delivery_id", "note"))
    assert outcomes == {first.pk: "deleted", queued.pk: "cancelled before it went out"}
    assert AuditEvent.objects.filter(event_type="publishing.appeal_removed").count() == 2
    assert AuditEvent.objects.filter(event_type="delivery.deleted").count() == 1
    assert AuditEvent.objects.filter(event_type="delivery.cancelled").count() == 1


def test_an_appeal_update_is_a_reply_in_the_appeals_thread(agency: Agency, officer: Staff) -> None:
    from .factories import make_follow_up

    follow_up = make_follow_up(agency)
    done = actions.post_appeal_update(
        actor=officer, follow_up=follow_up, text="UPDATE: he has been found safe. Thank you."
    )
    assert done.outcome == AppealFollowUp.Outcome.UPDATED
    assert done.update_delivery is not None
    assert done.update_delivery.reply_to_id == follow_up.delivery.platform_id
    for flagged in ["Found: call his daughter on 07700 900123.", "Thanks to Sarah Jones."]:
        with pytest.raises(ActionError, match="without review"):
            actions.post_appeal_update(
                actor=officer, follow_up=make_follow_up(agency), text=flagged
            )
    # After an update the appeal can still be taken down (by hand where need be).
    removed = actions.remove_appeal(
        actor=officer, follow_up=done, by_hand_reason="Deleted in the Mastodon app by PC Jones"
    )
    assert removed.outcome == AppealFollowUp.Outcome.REMOVED
    assert removed.note == "Deleted in the Mastodon app by PC Jones"


def test_only_people_responsible_for_an_appeal_can_follow_it_up(
    agency: Agency, officer: Staff
) -> None:
    from .factories import make_follow_up

    follow_up = make_follow_up(agency)  # its account is the first team's; author another
    outsider = make_staff(agency, Role.INTELLIGENCE_ANALYST, "analyst-no-team")
    outsider.teams.clear()
    with pytest.raises(ActionError, match="cannot post from"):
        actions.post_appeal_update(actor=outsider, follow_up=follow_up, text="Found safe.")
    with pytest.raises(ActionError, match="cannot manage"):
        actions.remove_appeal(actor=outsider, follow_up=follow_up)
    with pytest.raises(ActionError, match="Only the author"):
        actions.mark_person_found(actor=outsider, post=follow_up.post)
    # A member of the account's team may: they post from it.
    actions.post_appeal_update(actor=officer, follow_up=follow_up, text="Found safe, thanks.")


def test_an_appeal_cannot_be_found_before_it_goes_out_nor_sent_after(
    agency: Agency, officer: Staff, supervisor: Staff
) -> None:
    text = "MISSING: Can you help us find Ann, 81, from Sale? Call 999 quoting log 12."
    at = timezone.now() + timedelta(hours=1)
    post = write(officer, text, template_key="missing_person", scheduled_for=at)
    with pytest.raises(ActionError, match="withdraw it instead"):
        actions.mark_person_found(actor=officer, post=post)
    actions.approve_post(actor=supervisor, post=post, seen_sha256=post.text_sha256)
    # Found by another route between approval and its time: the send is refused.
    Post.objects.filter(pk=post.pk).update(person_found_at=timezone.now())
    assert actions.release_due_posts(at) == (0, 1)
    assert _deliveries(post) == 0


# -- Review fixes: what the reviewer of this module found ------------------------------


def test_misuse_sends_the_authors_auto_approved_posts_back_to_review(
    officer: Staff, supervisor: Staff
) -> None:
    _earn(officer, 10)
    at = timezone.now() + timedelta(hours=3)
    scheduled = write(officer, GREEN, scheduled_for=at)
    assert scheduled.state == Post.State.APPROVED and scheduled.approved_by is None
    published = write(officer, f"{GREEN} (now)")
    actions.report_misuse(actor=supervisor, post=published, reason="Posted a scene photo.")
    scheduled.refresh_from_db()
    assert scheduled.state == Post.State.IN_REVIEW and not scheduled.approval_holds
    assert actions.release_due_posts(at) == (0, 1)  # held, not sent
    assert _deliveries(scheduled) == 0


def test_a_broken_or_reassigned_account_holds_the_post_with_the_reason(
    agency: Agency, officer: Staff
) -> None:
    _earn(officer, 10)
    at = timezone.now() + timedelta(minutes=30)
    account = team_account(agency)
    post = write(officer, GREEN, accounts=[account], scheduled_for=at)
    ConnectedAccount.objects.filter(pk=account.pk).update(status=ConnectedAccount.Status.BROKEN)
    assert actions.release_due_posts(at) == (0, 1)
    assert Notice.objects.filter(recipient=officer, text__contains="is broken").exists()
    other = write(officer, f"{GREEN} 2", scheduled_for=at)
    ConnectedAccount.objects.filter(pk=other.accounts.get().pk).update(
        scope=ConnectedAccount.Scope.FORCE, team=None
    )
    assert actions.release_due_posts(at) == (0, 1)
    assert Notice.objects.filter(recipient=officer, text__contains="may no longer post").exists()
    assert _deliveries(post) == _deliveries(other) == 0


def test_a_supervisors_amber_post_goes_to_another_supervisor_of_the_team(
    agency: Agency, supervisor: Staff
) -> None:
    second = make_staff(agency, Role.SUPERVISOR, "sup-two")
    post = write(supervisor, AMBER)
    actions.approve_post(actor=second, post=post, seen_sha256=post.text_sha256)
    post.refresh_from_db()
    assert post.approved_by == second


def test_a_supervisor_can_withdraw_a_post_with_a_reason(officer: Staff, supervisor: Staff) -> None:
    _earn(officer, 10)
    post = write(officer, GREEN, scheduled_for=timezone.now() + timedelta(hours=1))
    with pytest.raises(ActionError, match="Say why"):
        actions.withdraw_post(actor=supervisor, post=post)
    actions.withdraw_post(actor=supervisor, post=post, reason="The road reopened early.")
    post.refresh_from_db()
    assert post.state == Post.State.WITHDRAWN
    assert Notice.objects.filter(recipient=officer, text__contains="reopened early").exists()


def test_a_rejected_post_must_change_and_then_goes_to_a_person(
    officer: Staff, supervisor: Staff
) -> None:
    post = write(officer, AMBER)
    actions.reject_post(actor=supervisor, post=post, reason="Ask her first.")
    with pytest.raises(ActionError, match="Change the post"):
        actions.edit_post(actor=officer, post=post, text=AMBER, scheduled_for=None)
    _earn(officer, 50)  # even a now-trusted author
    edited = actions.edit_post(actor=officer, post=post, text=GREEN, scheduled_for=None)
    assert edited.state == Post.State.IN_REVIEW and edited.review == Post.Review.SUPERVISOR


def test_a_repeated_compose_submission_makes_one_post(officer: Staff) -> None:
    from beatdesk.publishing.models import Purpose

    _earn(officer, 10)
    assert officer.agency is not None
    draft = actions.Draft(
        text=GREEN, purpose=Purpose.OPERATIONS, accounts=[team_account(officer.agency)]
    )
    first = actions.submit_post(actor=officer, draft=draft, client_token="form-1")
    again = actions.submit_post(actor=officer, draft=draft, client_token="form-1")
    assert first.pk == again.pk and _deliveries(first) == 1
