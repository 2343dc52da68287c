"""Records management: how long each kind of record is kept and why, legal holds that
stop disposal, decisions to keep something longer (with a reason and a review date),
and restriction of processing for a person who asked for it.

The disposal job (``actions.run_disposal``) erases what is past its retention and not
held or retained, and writes one audit event per record type naming the records erased
and the rule applied, never their content.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from beatdesk.agencies.models import Agency, Staff
from beatdesk.inbox.models import PublicContact
from beatdesk.intelligence.models import IntelligenceReport


class RecordType(models.TextChoices):
    MESSAGE = "message", "Public messages (not cited in a report)"
    CONTACT_NOTE = "contact_note", "Notes on contacts"
    CONTACT = "contact", "Contact details of a public account"
    INTELLIGENCE_REPORT = "intelligence_report", "Intelligence reports"


# Defaults (days) and the reasoning shown beside them; an agency may change the period
# and must then record its own reasoning. See docs/records.md.
DEFAULT_RETENTION: dict[str, tuple[int, str]] = {
    RecordType.MESSAGE: (
        3 * 365,
        "Public messages are kept three years: long enough for a neighbourhood team to "
        "know the people who talk to it, for complaints (12 months to complain, then the "
        "investigation) and for repeat-contact patterns; no longer, because most are "
        "routine and DPA 2018 s.39 requires personal data kept no longer than necessary. "
        "Messages cited in an intelligence report follow the report's period.",
    ),
    RecordType.CONTACT_NOTE: (
        3 * 365,
        "Notes follow the messages they explain: three years after they were written.",
    ),
    RecordType.CONTACT: (
        3 * 365,
        "A public account's details are kept while it has messages or notes, then three "
        "years after its last contact, after which it is erased.",
    ),
    RecordType.INTELLIGENCE_REPORT: (
        6 * 365,
        "Intelligence is reviewed after six years, the minimum review period of the "
        "Authorised Professional Practice on Management of Police Information for "
        "lower-risk material. At the end a person reviews it: lets it go, or records a "
        "decision to retain it with a reason and a next review date. Reports are never "
        "erased without that review.",
    ),
}


class RetentionRule(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    record_type = models.CharField(max_length=30, choices=RecordType.choices)
    keep_days = models.PositiveIntegerField()
    reasoning = models.TextField()
    updated_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "record_type"], name="records_rule_once")
        ]

    def __str__(self) -> str:
        return f"{self.record_type}: {self.keep_days} days"


class LegalHold(models.Model):
    """Nothing within it may be erased until it is released: one public account (its
    messages, notes, conversations and the reports citing them) or one report (with
    the messages it cites)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(
        PublicContact, null=True, blank=True, on_delete=models.PROTECT, related_name="holds"
    )
    report = models.ForeignKey(
        IntelligenceReport, null=True, blank=True, on_delete=models.PROTECT, related_name="holds"
    )
    reason = models.TextField()
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    released_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contact__isnull=False) | models.Q(report__isnull=False),
                name="records_hold_has_scope",
            )
        ]

    def __str__(self) -> str:
        return f"Legal hold {self.pk}"


class RetainDecision(models.Model):
    """A person's review of one record past its retention: keep it until ``review_on``
    (retain), or let it go (dispose). Intelligence reports are erased only after a
    dispose decision; one without a decision, or whose retain decision has reached its
    review date, waits in the review list."""

    class Outcome(models.TextChoices):
        RETAIN = "retain", "Retain"
        DISPOSE = "dispose", "Let it go"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    record_type = models.CharField(max_length=30, choices=RecordType.choices)
    object_id = models.PositiveBigIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RETAIN)
    reason = models.TextField()
    review_on = models.DateField(null=True, blank=True)
    decided_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["record_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.outcome} {self.record_type} {self.object_id}"


class ProcessingRestriction(models.Model):
    """The person asked for processing of their data to be restricted (DPA 2018 s.47):
    their messages are kept but may not be cited in reports or exported as evidence,
    and their conversations show the restriction."""

    contact = models.OneToOneField(
        PublicContact, on_delete=models.PROTECT, related_name="restriction"
    )
    reason = models.TextField()
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Restriction on contact {self.contact_id}"
