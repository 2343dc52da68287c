"""Connected social accounts, what arrives from them and what we send through them.

State changes go through ``channels.actions`` (transaction + audit); the worker
(``beatdesk channels run``) polls accounts and sends deliveries through the same
actions. Credentials are stored only as ciphertext (``channels.crypto``).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from beatdesk.agencies.models import Agency, Area, Staff, Team

from .registry import CONNECTORS

KIND_CHOICES = [(info.kind, info.label) for info in CONNECTORS.values()]


class ConnectedAccount(models.Model):
    """One account on one platform, connected by an agency (force-wide, team or officer)."""

    class Scope(models.TextChoices):
        FORCE = "force", "Force-wide"
        TEAM = "team", "Team"
        OFFICER = "officer", "Officer"

    class Status(models.TextChoices):
        ACTIVE = "active", "Working"
        BROKEN = "broken", "Broken: reconnect needed"
        DISCONNECTED = "disconnected", "Disconnected"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="channel_accounts")
    kind = models.CharField(max_length=20, choices=KIND_CHOICES)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.FORCE)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="channel_accounts"
    )
    officer = models.ForeignKey(
        Staff,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="channel_accounts",
    )
    areas = models.ManyToManyField(Area, blank=True, related_name="channel_accounts")
    label = models.CharField(max_length=120)
    base_url = models.CharField(max_length=300, blank=True)
    platform_account_id = models.CharField(max_length=200, blank=True)
    handle = models.CharField(max_length=200, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    profile_url = models.CharField(max_length=500, blank=True)

    credentials_ciphertext = models.TextField(blank=True)
    credentials_key_id = models.CharField(max_length=40, blank=True, db_index=True)

    status = models.CharField(max_length=15, choices=Status.choices, default=Status.ACTIVE)
    broken_reason = models.TextField(blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_reason = models.CharField(max_length=30, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    rate_limit_remaining = models.IntegerField(null=True, blank=True)
    rate_limit_limit = models.IntegerField(null=True, blank=True)
    rate_limit_reset_at = models.DateTimeField(null=True, blank=True)
    # Nothing is sent to or fetched from the platform before this time (429, caps).
    paused_until = models.DateTimeField(null=True, blank=True)

    inbound_cursor = models.TextField(blank=True)
    poll_interval_seconds = models.PositiveIntegerField(default=30)
    next_poll_at = models.DateTimeField(default=timezone.now)
    # Replay channel only: the file and rate it replays (no credentials involved).
    replay_source = models.CharField(max_length=500, blank=True)
    replay_rate_per_minute = models.PositiveIntegerField(default=0)

    created_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "kind", "platform_account_id"],
                condition=~Q(platform_account_id="") & ~Q(status="disconnected"),
                name="channels_one_live_connection_per_platform_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.handle or self.label}"

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.ACTIVE


class InboundMessage(models.Model):
    """A public message (or DM) that reached one of the agency's accounts.

    Unique per (agency, platform, platform id): the same mention of two accounts of
    one agency is one message; two agencies each keep their own copy, because a
    message's handling (and who may see it) is an agency's business. ``raw_payload``
    holds the platform's JSON for the item exactly as received; it is never changed.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="inbound_messages")
    account = models.ForeignKey(
        ConnectedAccount, on_delete=models.PROTECT, related_name="inbound_messages"
    )
    platform = models.CharField(max_length=20, choices=KIND_CHOICES)
    platform_id = models.CharField(max_length=300)
    kind = models.CharField(max_length=10)
    url = models.CharField(max_length=500, blank=True)
    author_id = models.CharField(max_length=200, blank=True)
    author_handle = models.CharField(max_length=200, blank=True)
    author_display_name = models.CharField(max_length=200, blank=True)
    author_location = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    media = models.JSONField(default=list, blank=True)
    reply_to_id = models.CharField(max_length=300, blank=True)
    thread_root_id = models.CharField(max_length=300, blank=True, db_index=True)
    created_at = models.DateTimeField(help_text="When the author posted it (platform time)")
    received_at = models.DateTimeField(default=timezone.now)
    raw_payload = models.BinaryField()
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_on_platform_at = models.DateTimeField(null=True, blank=True)
    # A precise location the author attached (a geotag), where the platform gives one.
    geo_lat = models.FloatField(null=True, blank=True)
    geo_lon = models.FloatField(null=True, blank=True)
    # Hidden from public view on the platform by the desk (``actions.hide_inbound_message``);
    # the reason is kept here and in the audit trail.
    hidden_on_platform_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hidden_reason = models.CharField(max_length=300, blank=True)
    # Content erased by the records disposal job (past retention); the row remains so
    # that counts and conversations stay whole.
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "platform", "platform_id"], name="channels_inbound_once"
            )
        ]
        indexes = [models.Index(fields=["agency", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.platform}:{self.platform_id}"


class InboundRevision(models.Model):
    """An edit or deletion seen on the platform. The message row keeps the latest
    text; the original text and payload stay here (and in the first revision)."""

    class Kind(models.TextChoices):
        ORIGINAL = "original", "Original"
        EDIT = "edit", "Edited on the platform"
        DELETE = "delete", "Deleted on the platform"

    message = models.ForeignKey(InboundMessage, on_delete=models.PROTECT, related_name="revisions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.TextField(blank=True)
    raw_payload = models.BinaryField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of message {self.message_id}"


def _media_path(instance: MediaFile, filename: str) -> str:
    extension = MediaFile.EXTENSIONS.get(instance.content_type, "")
    return f"channels/media/{instance.agency_id}/{instance.uuid}{extension}"


class MediaFile(models.Model):
    """An image or video to go out with posts, as the agency uploaded it.

    The bytes live in the default storage; ``sha256`` and ``size`` are checked again
    when a post is sent, so a file changed or damaged in storage is never published.
    Created by ``channels.media.store_media`` (which sniffs the type from the bytes).
    """

    EXTENSIONS = {
        "image/jpeg": ".jpg",
        "image/png": ".png",
        "image/gif": ".gif",
        "video/mp4": ".mp4",
    }

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="channel_media")
    file = models.FileField(upload_to=_media_path, max_length=300)
    content_type = models.CharField(max_length=40)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    alt_text = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.content_type} {self.size} bytes ({self.uuid})"

    @property
    def storage_name(self) -> str:
        """Where the bytes are in the default storage."""
        return self.file.name or ""

    def snapshot(self) -> dict[str, Any]:
        """What a delivery keeps of it (``Delivery.media``): later changes never alter
        what a queued post sends."""
        return {
            "id": self.pk,
            "name": self.storage_name,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "alt_text": self.alt_text,
        }


class Delivery(models.Model):
    """One post or reply to go out through one account, at most once.

    ``key`` is chosen before the first attempt and never changes, so a retry is
    recognisable by the platform (idempotency key, record key) or by us (lookup).
    States: pending → sending → published | failed | unknown; unknown is resolved by
    reconciliation into published or back to pending; only failed is retried by a
    person, and only pending is ever sent.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to send"
        SENDING = "sending", "Sending"
        PUBLISHED = "published", "Published"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Unknown: checking the platform"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="deliveries")
    account = models.ForeignKey(
        ConnectedAccount, on_delete=models.PROTECT, related_name="deliveries"
    )
    # What asked for this (e.g. "publishing.post", "inbox.reply") and its id.
    source_type = models.CharField(max_length=40)
    source_id = models.CharField(max_length=64)
    key = models.CharField(max_length=13)
    text = models.TextField()
    reply_to_id = models.CharField(max_length=300, blank=True)
    # ``MediaFile.snapshot()`` of each attached file, in order.
    media = models.JSONField(default=list, blank=True)

    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    platform_id = models.CharField(max_length=300, blank=True)
    url = models.CharField(max_length=500, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)
    failure_code = models.CharField(max_length=30, blank=True)
    waiting_reason = models.CharField(max_length=200, blank=True)
    # Taken down from the platform by us (``actions.delete_published``).
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    created_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "source_type", "source_id"], name="channels_delivery_once"
            ),
            models.UniqueConstraint(fields=["account", "key"], name="channels_delivery_key"),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            # Insights: a day's deliveries, and what changed since the last build.
            models.Index(fields=["agency", "published_at"], name="channels_delivery_published"),
            models.Index(fields=["agency", "updated_at"], name="channels_delivery_changed"),
        ]

    def __str__(self) -> str:
        return f"Delivery {self.key} via {self.account_id} ({self.state})"


class ChannelAlert(models.Model):
    """Something an agency admin must act on: a broken channel, a token expiring."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="channel_alerts")
    account = models.ForeignKey(ConnectedAccount, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=30)
    message = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.message
