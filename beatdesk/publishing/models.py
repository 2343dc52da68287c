"""Posts the agency publishes: written once, screened, approved by risk and track record,
sent to many accounts, and (for missing-person appeals) followed up when the person is
found.

State changes go through ``publishing.actions`` (transaction + audit). A post's text is
fingerprinted (``text_sha256``); an approval counts only for the fingerprint it was given
to, so an approval lapses the moment the text changes.
"""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils import timezone

from beatdesk.agencies.models import Agency, Staff, Team
from beatdesk.channels.models import ConnectedAccount, Delivery, MediaFile

# ``Delivery.source_type`` of a post's deliveries and of appeal updates.
POST_SOURCE = "publishing.post"
APPEAL_UPDATE_SOURCE = "publishing.appeal_update"
# Approved posts a new author needs before their green posts publish without review.
DEFAULT_POSTS_TO_EARN_TRUST = 10
# Approved posts taken off the author's record by one rejection.
DEFAULT_REJECTION_PENALTY = 5


def fingerprint(text: str, media_ids: list[int] | tuple[int, ...] = ()) -> str:
    """What an approval is given to: the exact text and the attached files, in order."""
    payload = text + "\x00" + ",".join(str(i) for i in media_ids)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class Purpose(models.TextChoices):
    """Why a post is made (the strategic purposes insights report by)."""

    COMMUNICATIONS = "communications", "Communications"
    ENGAGEMENT = "engagement", "Engagement"
    INVESTIGATION = "investigation", "Investigation (appeals)"
    INTELLIGENCE = "intelligence", "Intelligence gathering"
    OPERATIONS = "operations", "Operations"
    INTERNAL = "internal", "Internal"


class PublishingSettings(models.Model):
    """An agency's trust ladder and the link domains its posts may use."""

    agency = models.OneToOneField(
        Agency, on_delete=models.CASCADE, related_name="publishing_settings"
    )
    posts_to_earn_trust = models.PositiveIntegerField(
        default=DEFAULT_POSTS_TO_EARN_TRUST,
        help_text="Approved posts before an author's green posts publish without review "
        "(0: everyone is trusted).",
    )
    rejection_penalty = models.PositiveIntegerField(
        default=DEFAULT_REJECTION_PENALTY,
        help_text="Approved posts taken off an author's record by one rejection.",
    )
    allowed_domains = models.TextField(
        blank=True,
        help_text="Link domains posts may use, one per line (subdomains included).",
    )

    def __str__(self) -> str:
        return f"Publishing settings of agency {self.agency_id}"

    def domains(self) -> tuple[str, ...]:
        return tuple(
            d.strip().lower().removeprefix("https://").removeprefix("http://").strip("/")
            for d in self.allowed_domains.splitlines()
            if d.strip()
        )


class AuthorTrust(models.Model):
    """One author's track record: approved posts earn autonomy, rejections and misuse
    take it away. ``credit`` is what counts against ``posts_to_earn_trust``."""

    staff = models.OneToOneField(Staff, on_delete=models.CASCADE, related_name="publishing_trust")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    credit = models.PositiveIntegerField(default=0)
    approved_total = models.PositiveIntegerField(default=0)
    rejected_total = models.PositiveIntegerField(default=0)
    misuse_total = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Trust of {self.staff_id}: {self.credit}"


class Post(models.Model):
    """One message written once and sent to one or more accounts.

    States::

        in_review --approve/override--> approved --(its time)--> publishing
            |  '--reject--> rejected           '--text edited--> in_review (approval lapsed)
            '--its time passed unapproved--> held --approve--> publishing
        (trusted author, green) ---------------------------------> approved / publishing

    ``publishing`` means deliveries exist; each account's own state is its delivery's.
    """

    class State(models.TextChoices):
        IN_REVIEW = "in_review", "Waiting for approval"
        APPROVED = "approved", "Approved, waiting for its time"
        HELD = "held", "Held: its time passed without approval"
        PUBLISHING = "publishing", "Sent to the accounts"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn by the author"

    class Review(models.TextChoices):
        NONE = "", "No review needed"
        SUPERVISOR = "supervisor", "Team supervisor"
        COMMUNICATIONS = "communications", "Communications and standards (override)"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="posts")
    author = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="posts")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )
    text = models.TextField()
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    template_key = models.CharField(max_length=40, blank=True)
    accounts = models.ManyToManyField(ConnectedAccount, related_name="posts")
    media = models.ManyToManyField(MediaFile, blank=True, related_name="posts")
    scheduled_for = models.DateTimeField(null=True, blank=True)

    state = models.CharField(max_length=12, choices=State.choices)
    review = models.CharField(max_length=15, choices=Review.choices, blank=True)
    # Why it needs review, in words ("amber: a person's name", "new author: 3 of 10").
    review_reason = models.CharField(max_length=300, blank=True)
    risk = models.CharField(max_length=5)
    findings = models.JSONField(default=list)
    text_sha256 = models.CharField(max_length=64)
    # The fingerprint the current approval was given to ("" when none holds).
    approved_sha256 = models.CharField(max_length=64, blank=True)
    approved_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    # Missing-person appeals: when the person is found, every account it went to needs
    # an update or the appeal removed; see AppealFollowUp.
    person_found_at = models.DateTimeField(null=True, blank=True)
    person_found_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # One per compose form: a repeated submission returns the first post.
    client_token = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["agency", "state"]),
            models.Index(fields=["state", "scheduled_for"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_token"],
                condition=~models.Q(client_token=""),
                name="publishing_post_once_per_form",
            )
        ]

    def __str__(self) -> str:
        return f"Post {self.pk}"

    @property
    def is_appeal(self) -> bool:
        return self.template_key == "missing_person"

    def media_ids(self) -> list[int]:
        return sorted(self.media.values_list("pk", flat=True))

    @property
    def approval_holds(self) -> bool:
        return bool(self.approved_sha256) and self.approved_sha256 == self.text_sha256

    def deliveries(self) -> models.QuerySet[Delivery]:
        return Delivery.objects.filter(
            source_type=POST_SOURCE, source_id=str(self.pk)
        ).select_related("account")


class Decision(models.Model):
    """A reviewer's decision on a post, kept for ever (the post's review history)."""

    class Verdict(models.TextChoices):
        APPROVE = "approve", "Approved"
        OVERRIDE = "override", "Approved despite red (override)"
        REJECT = "reject", "Rejected"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="decisions")
    reviewer = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    reason = models.TextField(blank=True)
    text_sha256 = models.CharField(max_length=64)
    risk = models.CharField(max_length=5)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} post {self.post_id}"


class Notice(models.Model):
    """Something a person must see (a held post, a rejection, an appeal to follow up)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="notices")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="notices")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.text


class AppealFollowUp(models.Model):
    """After a person is found: one per account the appeal went to, until it is done."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "To do"
        UPDATED = "updated", "Update posted"
        REMOVED = "removed", "Appeal removed"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="follow_ups")
    delivery = models.OneToOneField(Delivery, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    update_delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # How it was done ("deleted", "cancelled before it went out", or the reason given
    # when it was deleted by hand in the platform's own app).
    note = models.CharField(max_length=300, blank=True)
    done_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Follow-up of appeal {self.post_id}: {self.outcome}"
