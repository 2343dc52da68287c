"""The inbox: every inbound message triaged, grouped into conversations, routed, answered.

A :class:`Conversation` is one member of the public's exchange with one of the agency's
accounts within one platform thread (or one direct-message thread). It is the unit of
the queue: it carries the priority, the routed team, the response target and a status.
Messages keep their own :class:`MessageTriage`. State changes go through
``inbox.actions`` (transaction + audit).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from beatdesk.agencies.models import Agency, Area, Staff, Team
from beatdesk.channels.models import ConnectedAccount, Delivery, InboundMessage

PRIORITY_CHOICES = [
    ("P1", "P1 · threat to life"),
    ("P2", "P2 · urgent"),
    ("P3", "P3 · needs a person"),
    ("P4", "P4 · routine"),
]
# Defaults from the issue: acknowledge P1 in 5 minutes, P2 30 minutes, P3 4 hours,
# P4 24 hours.
DEFAULT_TARGET_MINUTES = {"P1": 5, "P2": 30, "P3": 240, "P4": 1440}


class InboxSettings(models.Model):
    """An agency's response targets and the details its reply templates use."""

    agency = models.OneToOneField(Agency, on_delete=models.CASCADE, related_name="inbox_settings")
    p1_minutes = models.PositiveIntegerField(default=DEFAULT_TARGET_MINUTES["P1"])
    p2_minutes = models.PositiveIntegerField(default=DEFAULT_TARGET_MINUTES["P2"])
    p3_minutes = models.PositiveIntegerField(default=DEFAULT_TARGET_MINUTES["P3"])
    p4_minutes = models.PositiveIntegerField(default=DEFAULT_TARGET_MINUTES["P4"])
    # Warn (and bring in the 24/7 desk) once this share of a target has gone by.
    warn_percent = models.PositiveSmallIntegerField(default=75)
    online_report_url = models.URLField(blank=True)
    non_emergency_number = models.CharField(max_length=30, default="101")

    def __str__(self) -> str:
        return f"Inbox settings of agency {self.agency_id}"

    def target_minutes(self, priority: str) -> int:
        return int(getattr(self, f"{priority.lower()}_minutes"))


class StaffedHours(models.Model):
    """One staffed window of a team that is not 24/7 (local time, Europe/London).

    A team that is not 24/7 and has no windows counts Monday to Friday 08:00-18:00.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="staffed_hours")
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday … 6 = Sunday")
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["team", "weekday", "opens"]

    def __str__(self) -> str:
        return f"{self.team_id} day {self.weekday} {self.opens:%H:%M}-{self.closes:%H:%M}"


class PublicContact(models.Model):
    """A public account that has contacted the agency, remembered across years."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="public_contacts")
    platform = models.CharField(max_length=20)
    author_id = models.CharField(max_length=200)
    handle = models.CharField(max_length=200, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    location = models.CharField(max_length=200, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    message_count = models.PositiveIntegerField(default=0)
    # Details erased by the records disposal job (past retention, nothing left held).
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "platform", "author_id"], name="inbox_contact_once"
            )
        ]

    def __str__(self) -> str:
        return self.handle or self.display_name or self.author_id

    def author_match(self) -> Q:
        """The inbound messages this account wrote, matched by author (a platform that
        gives no author id is matched by handle, as ``process.author_key`` keys it)."""
        return Q(agency_id=self.agency_id, platform=self.platform) & (
            Q(author_id=self.author_id) | Q(author_id="", author_handle=self.author_id)
        )


class ContactNote(models.Model):
    contact = models.ForeignKey(PublicContact, on_delete=models.PROTECT, related_name="notes")
    text = models.TextField()
    created_by = models.ForeignKey(Staff, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Note on contact {self.contact_id}"


class Conversation(models.Model):
    """One person's exchange with one account in one thread: the unit of the queue."""

    class Status(models.TextChoices):
        NEW = "new", "Needs a response"
        ACKNOWLEDGED = "acknowledged", "Responded, still open"
        CLOSED = "closed", "Closed"

    class CloseReason(models.TextChoices):
        ANSWERED = "answered", "Answered"
        NO_ACTION = "no_action", "No action needed"
        REFERRED_999 = "referred_999", "Referred to 999 / control room"
        CRIME_RECORDED = "crime_recorded", "Crime reported / recorded"
        INTELLIGENCE = "intelligence", "Passed to intelligence"
        COMPLAINT = "complaint", "Passed to professional standards"
        SPAM = "spam", "Spam"
        ABUSE = "abuse", "Abusive"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="conversations")
    account = models.ForeignKey(
        ConnectedAccount, on_delete=models.PROTECT, related_name="conversations"
    )
    platform = models.CharField(max_length=20)
    thread_key = models.CharField(max_length=300)
    author_id = models.CharField(max_length=200)
    contact = models.ForeignKey(
        PublicContact, on_delete=models.PROTECT, related_name="conversations"
    )

    priority = models.CharField(max_length=2, choices=PRIORITY_CHOICES)
    category = models.CharField(max_length=20)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    routing_reason = models.CharField(max_length=300, blank=True)
    assigned_to = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    status = models.CharField(max_length=15, choices=Status.choices, default=Status.NEW)
    close_reason = models.CharField(max_length=20, choices=CloseReason.choices, blank=True)
    status_note = models.CharField(max_length=300, blank=True)

    # Response target: the clock starts when a message needing a response arrives and
    # stops at the first response (acknowledgement or reply).
    needs_response_since = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Whether the first response came within its target (None: no target was running).
    first_response_met = models.BooleanField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    first_message_at = models.DateTimeField()
    last_message_at = models.DateTimeField()
    message_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    # Any change (routing, priority, response, breach): insights rebuilds the day the
    # conversation started when this moves.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "needs_response_since", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "platform", "thread_key", "author_id"],
                name="inbox_conversation_once",
            )
        ]
        indexes = [
            models.Index(fields=["agency", "status", "priority", "needs_response_since"]),
            models.Index(
                fields=["agency", "priority"],
                condition=Q(status="new"),
                name="inbox_open_by_priority",
            ),
            models.Index(fields=["status", "warn_at"], name="inbox_due_warning"),
            # Insights: a day's conversations and what changed since the last build.
            models.Index(fields=["agency", "first_message_at"], name="inbox_conv_started"),
            models.Index(fields=["agency", "updated_at"], name="inbox_conv_changed"),
        ]

    def __str__(self) -> str:
        return f"{self.priority} conversation with {self.contact}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED


class MessageTriage(models.Model):
    """How one inbound message was classified, prioritised and routed (kept as decided)."""

    message = models.OneToOneField(
        InboundMessage, on_delete=models.PROTECT, primary_key=True, related_name="triage"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="triages")
    category = models.CharField(max_length=20)
    priority = models.CharField(max_length=2, choices=PRIORITY_CHOICES)
    scores = models.JSONField(default=dict)
    signals = models.JSONField(default=list)
    place = models.CharField(max_length=200, blank=True)
    place_source = models.CharField(max_length=20, blank=True)
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    triaged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["message_id"]
        # Insights: messages triaged since the last build (late triage after an outage).
        indexes = [models.Index(fields=["agency", "triaged_at"], name="inbox_triaged_at")]

    def __str__(self) -> str:
        return f"{self.priority} {self.category} for message {self.message_id}"


class Reply(models.Model):
    """A reply an operator sent into a conversation; the delivery carries it out once."""

    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="replies")
    in_reply_to = models.ForeignKey(InboundMessage, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    template_key = models.CharField(max_length=40, blank=True)
    # The form's one-time token: a double-clicked Send makes one reply, not two.
    client_token = models.CharField(max_length=64)
    delivery = models.OneToOneField(
        Delivery, null=True, blank=True, on_delete=models.PROTECT, related_name="inbox_reply"
    )
    created_by = models.ForeignKey(Staff, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_token"], name="inbox_reply_once"
            )
        ]

    def __str__(self) -> str:
        return f"Reply {self.pk} in conversation {self.conversation_id}"


class ReplyTemplate(models.Model):
    """An agency's own wording for a reply template (overrides the built-in one)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="reply_templates")
    key = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)
    text = models.TextField()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "key"], name="inbox_template_once")
        ]

    def __str__(self) -> str:
        return self.name
