"""``record_event``: the only way rows get into the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.http import HttpRequest

from .models import GENESIS_HASH, AuditEvent, PersonalDataCategory

if TYPE_CHECKING:
    from beatdesk.agencies.models import Agency, Staff

# Any 64-bit constant: the advisory lock that serialises appends to the chain on PostgreSQL.
_CHAIN_LOCK_KEY = 0x6265_6174_6465_736B  # "beatdesk"


def record_event(
    *,
    event_type: str,
    actor: Staff | None = None,
    actor_label: str = "",
    agency: Agency | None = None,
    target: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    summary: str = "",
    data: dict[str, Any] | None = None,
    personal_data: PersonalDataCategory | None = None,
    recipient: str = "",
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    Call it from the action that makes the change, inside that action's
    ``transaction.atomic()`` block, so the change and its audit row commit together or
    not at all. ``target`` (a model instance) fills ``object_type``/``object_id``.
    ``data`` must be JSON-serialisable and must never hold secrets or tokens.
    ``agency`` defaults to the actor's agency.
    """
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or target.pk
    if agency is None and actor is not None:
        agency = actor.agency
    if not actor_label and actor is not None:
        actor_label = actor.get_username()
    ip_address = ""
    if request is not None:
        ip_address = str(request.META.get("REMOTE_ADDR", ""))[:45]
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-seq").only("seq", "row_hash").first()
        event = AuditEvent(
            seq=(last.seq + 1) if last else 1,
            created_at=datetime.now(UTC),
            actor=actor,
            actor_label=actor_label[:200],
            agency=agency,
            event_type=event_type,
            object_type=object_type,
            object_id=str(object_id),
            summary=summary[:500],
            data=data or {},
            personal_data=personal_data.value if personal_data else "",
            recipient=recipient[:200],
            ip_address=ip_address,
            prev_hash=last.row_hash if last else GENESIS_HASH,
        )
        event.row_hash = event.compute_hash()
        event.save(force_insert=True)
    return event


def _lock_chain() -> None:
    """Serialise chain appends so two writers never share a ``prev_hash``.

    PostgreSQL: a transaction-scoped advisory lock. SQLite runs write transactions
    with BEGIN IMMEDIATE (see settings), which already holds the single writer lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY - (1 << 63)])
