"""Verification of the audit hash chain."""

from __future__ import annotations

from dataclasses import dataclass

from .models import GENESIS_HASH, AuditEvent


@dataclass(frozen=True)
class ChainReport:
    """Outcome of ``verify_chain``: ``ok`` or the first broken row and why."""

    rows_checked: int
    broken_seq: int | None = None
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Walk the whole chain in ``seq`` order and recompute every hash.

    Detects an edited row (its hash no longer matches), a deleted row (a gap in
    ``seq`` and a ``prev_hash`` that points to nothing) and reordered rows (``prev_hash``
    not the previous row's hash). Deleting the newest rows leaves a valid shorter chain;
    operators anchor the head hash externally (docs/operations.md) to catch that.
    """
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    queryset = AuditEvent.objects.order_by("seq")
    last_seq = 0
    while True:
        rows = list(queryset.filter(seq__gt=last_seq)[:batch_size])
        if not rows:
            break
        for row in rows:
            checked += 1
            if row.seq != expected_seq:
                return ChainReport(
                    checked, row.seq, row.pk, f"expected seq {expected_seq}, found {row.seq}"
                )
            if row.prev_hash != expected_prev:
                return ChainReport(
                    checked, row.seq, row.pk, "prev_hash does not match the previous row"
                )
            if row.compute_hash() != row.row_hash:
                return ChainReport(checked, row.seq, row.pk, "content does not match row_hash")
            expected_prev = row.row_hash
            expected_seq += 1
            last_seq = row.seq
    return ChainReport(checked)


def chain_head() -> tuple[int, str] | None:
    """The newest (seq, row_hash), for anchoring outside the database."""
    head = AuditEvent.objects.order_by("-seq").only("seq", "row_hash").first()
    return (head.seq, head.row_hash) if head else None
