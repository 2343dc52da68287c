"""The audit trail is append-only in the database and tamper-evident by its hash chain."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from beatdesk.audit.models import GENESIS_HASH, AuditEvent, PersonalDataCategory
from beatdesk.audit.record import record_event
from beatdesk.audit.verify import verify_chain

pytestmark = pytest.mark.django_db


def _three_events() -> list[AuditEvent]:
    return [
        record_event(event_type="test.one", actor_label="a", summary="first"),
        record_event(
            event_type="test.two",
            actor_label="b",
            data={"k": [1, 2]},
            personal_data=PersonalDataCategory.CONSULTATION,
        ),
        record_event(event_type="test.three", actor_label="c", recipient="CPS"),
    ]


def _drop_triggers() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER audit_refuse_update ON audit_auditevent")
            cursor.execute("DROP TRIGGER audit_refuse_delete ON audit_auditevent")
        else:
            cursor.execute("DROP TRIGGER audit_refuse_update")
            cursor.execute("DROP TRIGGER audit_refuse_delete")


def test_events_form_a_chain_from_genesis() -> None:
    first, second, third = _three_events()
    assert first.seq == 1 and first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.row_hash and third.prev_hash == second.row_hash
    report = verify_chain()
    assert report.ok and report.rows_checked == 3


def test_database_refuses_update_and_delete() -> None:
    _three_events()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=2).update(summary="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=2).delete()
    assert AuditEvent.objects.get(seq=2).summary == ""


def test_edited_row_is_named() -> None:
    _three_events()
    _drop_triggers()
    AuditEvent.objects.filter(seq=2).update(summary="nothing to see")
    report = verify_chain()
    assert not report.ok and report.broken_seq == 2
    assert "content" in report.reason


def test_deleted_row_is_named() -> None:
    _three_events()
    _drop_triggers()
    AuditEvent.objects.filter(seq=2).delete()
    report = verify_chain()
    assert not report.ok and report.broken_seq == 3


def test_reordered_rows_are_named() -> None:
    events = _three_events()
    _drop_triggers()
    # Swap the positions of the first two rows, keeping each row's own hash intact.
    AuditEvent.objects.filter(pk=events[0].pk).update(seq=-1)
    AuditEvent.objects.filter(pk=events[1].pk).update(seq=1)
    AuditEvent.objects.filter(pk=events[0].pk).update(seq=2)
    report = verify_chain()
    assert not report.ok and report.broken_seq == 1


def test_hash_covers_every_field() -> None:
    event = record_event(event_type="test.fields", actor_label="x", data={"a": 1})
    original = event.compute_hash()
    for field, value in [
        ("actor_label", "y"),
        ("event_type", "test.other"),
        ("data", {"a": 2}),
        ("object_id", "9"),
        ("personal_data", "erasure"),
        ("recipient", "z"),
        ("ip_address", "10.0.0.1"),
        ("summary", "s"),
        ("agency_id", 77),
    ]:
        saved = getattr(event, field)
        setattr(event, field, value)
        assert event.compute_hash() != original, field
        setattr(event, field, saved)
    assert event.compute_hash() == original


def test_audit_rolls_back_with_the_change() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(event_type="test.rolled_back")
        raise RuntimeError("the change failed")
    assert not AuditEvent.objects.filter(event_type="test.rolled_back").exists()
