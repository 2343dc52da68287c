"""The append-only, hash-chained audit trail.

Each row stores ``prev_hash`` (the ``row_hash`` of the row before it in ``seq`` order)
and its own ``row_hash`` over its canonical content, so editing, deleting or reordering
any row breaks the chain at a row that ``verify_chain`` names. The database refuses
UPDATE and DELETE on the table (triggers created in migration 0002).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import models

GENESIS_HASH = "0" * 64


class PersonalDataCategory(models.TextChoices):
    """Processing categories logged under the Data Protection Act 2018 s.62."""

    COLLECTION = "collection", "Collection"
    ALTERATION = "alteration", "Alteration"
    CONSULTATION = "consultation", "Consultation"
    DISCLOSURE = "disclosure", "Disclosure (incl. transfer)"
    COMBINATION = "combination", "Combination"
    ERASURE = "erasure", "Erasure"


class AuditEvent(models.Model):
    """One audited action. Never updated, never deleted."""

    seq = models.BigIntegerField(unique=True, help_text="Position in the hash chain, from 1.")
    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # Kept verbatim so the trail stays readable even for failed sign-ins (no actor).
    actor_label = models.CharField(max_length=200, blank=True)
    agency = models.ForeignKey(
        "agencies.Agency",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    event_type = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=80, blank=True)
    summary = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    personal_data = models.CharField(
        max_length=20, choices=PersonalDataCategory.choices, blank=True
    )
    recipient = models.CharField(max_length=200, blank=True)
    ip_address = models.CharField(max_length=45, blank=True)
    prev_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["agency", "-seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event_type}"

    def canonical_content(self) -> dict[str, Any]:
        """The fields the hash covers, in a stable, JSON-ready form."""
        return {
            "seq": self.seq,
            "created_at": self.created_at.isoformat(timespec="microseconds"),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "agency_id": self.agency_id,
            "event_type": self.event_type,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "summary": self.summary,
            "data": self.data,
            "personal_data": self.personal_data,
            "recipient": self.recipient,
            "ip_address": self.ip_address,
        }

    def compute_hash(self) -> str:
        """SHA-256 over the previous hash and this row's canonical JSON."""
        body = json.dumps(
            self.canonical_content(), sort_keys=True, separators=(",", ":"), ensure_ascii=True
        )
        return hashlib.sha256(f"{self.prev_hash}\n{body}".encode()).hexdigest()
