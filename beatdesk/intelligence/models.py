"""Intelligence reports graded with the 3x5x2 model, and evidence exports.

A report keeps the sanitised intelligence (what may be shared, under its handling code)
apart from the source details (who said it and how we know them), which only
intelligence analysts and the report's author may read. Every view of a report is
logged as a consultation (DPA 2018 s.62). State changes go through ``actions``.

An :class:`EvidenceExport` fixes what a bundle holds (the messages, and the audit trail
up to ``audit_seq``) so that building it again gives the same bytes; see ``bundle``.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from beatdesk.agencies.models import Agency, Staff, Team
from beatdesk.channels.models import InboundMessage
from beatdesk.inbox.models import Conversation


class SourceEvaluation(models.TextChoices):
    """3x5x2: how far the source can be relied on."""

    RELIABLE = "1", "1 · Reliable"
    UNTESTED = "2", "2 · Untested"
    NOT_RELIABLE = "3", "3 · Not reliable"


class Assessment(models.TextChoices):
    """3x5x2: how the source knows what they report."""

    KNOWN_DIRECTLY = "A", "A · Known directly to the source"
    INDIRECT_CORROBORATED = "B", "B · Known indirectly to the source, corroborated"
    KNOWN_INDIRECTLY = "C", "C · Known indirectly to the source"
    NOT_KNOWN = "D", "D · Not known"
    SUSPECTED_FALSE = "E", "E · Suspected to be false"


class HandlingCode(models.TextChoices):
    """3x5x2: whether and how the intelligence may be shared."""

    PERMITTED = "P", "P · Lawful sharing permitted"
    CONDITIONS = "C", "C · Lawful sharing permitted with conditions"


class IntelligenceReport(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "Waiting for an analyst"
        WITH_ANALYST = "with_analyst", "With an analyst"
        FILED = "filed", "Assessed and filed"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="intel_reports")
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.PROTECT, related_name="intel_reports"
    )
    messages = models.ManyToManyField(InboundMessage, related_name="intel_reports")
    source_evaluation = models.CharField(max_length=1, choices=SourceEvaluation.choices)
    assessment = models.CharField(max_length=1, choices=Assessment.choices)
    handling_code = models.CharField(max_length=1, choices=HandlingCode.choices)
    handling_conditions = models.TextField(blank=True)
    # What may be shared: written without anything that identifies the source.
    intelligence_text = models.TextField()
    # Who the source is and how we know them: analysts and the author only.
    source_details = models.TextField(blank=True)
    crime_reference = models.CharField(max_length=60, blank=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="intel_reports"
    )
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.NEW)
    assigned_to = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Content erased by the records disposal job (past retention, not retained or held).
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["agency", "status"])]

    def __str__(self) -> str:
        return f"Intelligence report {self.reference}"

    @property
    def reference(self) -> str:
        return f"IR-{self.pk}"

    @property
    def grading(self) -> str:
        """The 3x5x2 grading as written on the report, e.g. ``2 B P``."""
        return f"{self.source_evaluation} {self.assessment} {self.handling_code}"


class CapturedMedia(models.Model):
    """An image or video attached to a public message, fetched from the platform when
    the message was first cited in a report (platforms expire and delete media), kept
    with its SHA-256; or why it could not be fetched."""

    message = models.ForeignKey(InboundMessage, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    url = models.CharField(max_length=1000)
    file = models.FileField(upload_to="evidence/media/", max_length=300, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    captured_at = models.DateTimeField()
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["message_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["message", "position"], name="intel_media_once")
        ]

    def __str__(self) -> str:
        return f"Media {self.position} of message {self.message_id}"


class EvidenceExport(models.Model):
    """One evidence bundle: which messages, by whom, for whom, when, and the audit trail
    up to ``audit_seq``. Built once (``bundle.build_bundle``, deterministic for the same
    inputs), sealed with its SHA-256 in the audit trail, and stored; downloads serve the
    stored bytes only while they still match the seal."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    report = models.ForeignKey(
        IntelligenceReport, null=True, blank=True, on_delete=models.PROTECT, related_name="exports"
    )
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    message_ids = models.JSONField(default=list)
    audit_seq = models.BigIntegerField()
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    bundle_sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    # The sealed bytes, served on every download after checking them against the seal
    # (later edits, renames and upgrades must not change what was exported).
    file = models.FileField(upload_to="evidence/bundles/", max_length=300, blank=True)
    # Who it is for (the CPS, a court, a partner agency): the disclosure's recipient.
    recipient = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Evidence export {self.pk}"
