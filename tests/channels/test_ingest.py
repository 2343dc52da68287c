"""Ingest: exactly once, raw payload kept, edits and deletions recorded, kill-safe."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from beatdesk.agencies.models import Agency
from beatdesk.audit.models import AuditEvent
from beatdesk.channels import ingest
from beatdesk.channels.contract import InboundItem, InboundKind
from beatdesk.channels.models import ConnectedAccount, InboundMessage, InboundRevision
from tests.channels.livedb import BEATDESK, subprocess_env


def _write_replay(folder: Path, count: int, name: str = "drill.jsonl") -> Path:
    path = folder / name
    with path.open("w", encoding="utf-8") as handle:
        for n in range(count):
            record = {
                "id": str(n),
                "text": f"message number {n} about Salford",
                "author": f"u{n % 7}",
            }
            if n % 5 == 4:
                record["reply_to"] = str(n - 1)
            handle.write(json.dumps(record) + "\n")
    return path


def _replay_account(agency: Agency, source: str, rate: int) -> ConnectedAccount:
    return ConnectedAccount.objects.create(
        agency=agency,
        kind="replay",
        label="Drill",
        replay_source=source,
        replay_rate_per_minute=rate,
        poll_interval_seconds=1,
    )


@pytest.mark.django_db
def test_replay_arrives_once_with_raw_lines_verbatim(agency: Agency, replay_dir: Path) -> None:
    path = _write_replay(replay_dir, 250)
    account = _replay_account(agency, path.name, rate=10_000_000)
    assert ingest.poll_account(account.pk).new == 1  # the run starts with one message
    time.sleep(0.01)  # ...and at this rate the rest are due a moment later
    assert ingest.poll_account(account.pk).new == 249
    again = ingest.poll_account(account.pk)
    assert again.new == 0
    assert InboundMessage.objects.filter(account=account).count() == 250
    lines = path.read_bytes().splitlines()
    message = InboundMessage.objects.get(account=account, platform_id__endswith=":4")
    assert bytes(message.raw_payload) == lines[4]
    assert message.reply_to_id.endswith(":3") and message.kind == "reply"
    audit = AuditEvent.objects.filter(event_type="channel.ingested", object_id=str(account.pk))
    assert sum(e.data["new"] for e in audit) == 250
    assert {e.personal_data for e in audit} == {"collection"}


@pytest.mark.django_db
def test_replay_releases_messages_at_the_chosen_rate(agency: Agency, replay_dir: Path) -> None:
    path = _write_replay(replay_dir, 100)
    account = _replay_account(agency, path.name, rate=60)  # one a second
    assert ingest.poll_account(account.pk).new == 1
    account.refresh_from_db()
    run, _, index = account.inbound_cursor.partition(":")
    # Pretend the run started 10.5 seconds ago: 11 messages are due in all.
    ConnectedAccount.objects.filter(pk=account.pk).update(
        inbound_cursor=f"{float(run) - 10.5:.6f}:{index}", next_poll_at=datetime.now(UTC)
    )
    assert ingest.poll_account(account.pk).new == 10


def _item(pid: str, text: str, deleted: bool = False) -> InboundItem:
    return InboundItem(
        platform_id=pid,
        kind=InboundKind.MENTION,
        author_id="a1",
        author_handle="someone",
        author_display_name="Some One",
        text=text,
        created_at=datetime(2026, 11, 1, 12, tzinfo=UTC),
        raw=json.dumps({"id": pid, "text": text, "deleted": deleted}).encode(),
        deleted=deleted,
    )


@pytest.mark.django_db
def test_edits_and_deletions_keep_the_original(agency: Agency, replay_dir: Path) -> None:
    account = _replay_account(agency, "x.jsonl", rate=1)
    ingest.store_items(account, [_item("p1", "original words")])
    result = ingest.store_items(account, [_item("p1", "edited words")])
    assert result.edited == 1 and result.new == 0
    ingest.store_items(account, [_item("p1", "edited words", deleted=True)])
    message = InboundMessage.objects.get(platform_id="p1")
    assert message.text == "edited words" and message.deleted_on_platform_at is not None
    kinds = list(message.revisions.values_list("kind", "text"))
    assert kinds == [
        (InboundRevision.Kind.ORIGINAL, "original words"),
        (InboundRevision.Kind.EDIT, "edited words"),
        (InboundRevision.Kind.DELETE, ""),
    ]
    assert b"original words" in bytes(message.revisions.first().raw_payload)  # type: ignore[union-attr]
    # The same deletion seen again changes nothing.
    assert ingest.store_items(account, [_item("p1", "edited words", deleted=True)]).deleted == 0


@pytest.mark.django_db
def test_same_message_on_two_accounts_of_one_agency_is_stored_once(
    agency: Agency, other_agency: Agency
) -> None:
    one = _replay_account(agency, "a.jsonl", 1)
    two = _replay_account(agency, "b.jsonl", 1)
    theirs = _replay_account(other_agency, "c.jsonl", 1)
    for account in (one, two, theirs):
        ingest.store_items(account, [_item("shared", "hello")])
    assert InboundMessage.objects.filter(agency=agency).count() == 1
    assert InboundMessage.objects.filter(agency=other_agency).count() == 1


@pytest.mark.django_db
def test_a_stale_cursor_page_is_not_stored(agency: Agency) -> None:
    account = _replay_account(agency, "a.jsonl", 1)
    ingest.store_items(account, [_item("n1", "x")], expected_cursor="", new_cursor="c1")
    with pytest.raises(ingest.CursorMoved):
        ingest.store_items(account, [_item("n2", "y")], expected_cursor="", new_cursor="c2")
    account.refresh_from_db()
    assert account.inbound_cursor == "c1"
    assert not InboundMessage.objects.filter(platform_id="n2").exists()


@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_at_any_moment_loses_and_duplicates_nothing(
    agency: Agency, replay_dir: Path
) -> None:
    total = 4000
    path = _write_replay(replay_dir, total)
    account = _replay_account(agency, path.name, rate=100_000_000)
    env = subprocess_env(BEATDESK_REPLAY_DIR=str(replay_dir))
    rng = random.Random(20261123)
    counts_at_kill = []
    for _ in range(4):
        worker = subprocess.Popen(
            [*BEATDESK, "channels", "run", "--tick", "0.01"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        start = InboundMessage.objects.count()
        deadline = time.monotonic() + 60
        while InboundMessage.objects.count() == start and time.monotonic() < deadline:
            if worker.poll() is not None:
                break
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.15))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        counts_at_kill.append(InboundMessage.objects.count())
        if counts_at_kill[-1] == total:
            break
        ConnectedAccount.objects.filter(pk=account.pk).update(next_poll_at=datetime.now(UTC))
    # At least one kill landed in the middle of the replay.
    assert any(0 < c < total for c in counts_at_kill), counts_at_kill
    for _ in range(10):  # a clean worker finishes the replay (each tick polls 20 pages)
        ConnectedAccount.objects.filter(pk=account.pk).update(next_poll_at=datetime.now(UTC))
        finish = subprocess.run(
            [*BEATDESK, "channels", "once"], env=env, capture_output=True, text=True, check=False
        )
        assert finish.returncode == 0, finish.stderr
        if InboundMessage.objects.count() == total:
            break
    ids = list(InboundMessage.objects.filter(account=account).values_list("platform_id", flat=True))
    numbers = sorted(int(pid.rsplit(":", 1)[1]) for pid in ids)
    assert numbers == list(range(total))


@pytest.mark.django_db
def test_a_nul_character_in_platform_text_does_not_stop_the_page(agency: Agency) -> None:
    """PostgreSQL text cannot hold NUL; found by the evidence property test. The text is
    stored with U+FFFD in its place, the raw payload keeps the exact bytes, and reading
    the same item again is not mistaken for an edit."""
    from beatdesk.channels.contract import InboundItem, InboundKind
    from beatdesk.channels.ingest import store_items
    from beatdesk.channels.models import InboundMessage, InboundRevision
    from tests.channels.factories import make_account

    account = make_account(agency)
    raw = b'{"text": "a\\u0000b"}'
    item = InboundItem(
        platform_id="nul-1",
        kind=InboundKind.MENTION,
        author_id="x\x00",
        author_handle="@x",
        author_display_name="X",
        text="a\x00b",
        created_at=datetime.now(UTC),
        raw=raw,
    )
    store_items(account, [item])
    store_items(account, [item])
    message = InboundMessage.objects.get(platform_id="nul-1")
    assert message.text == "a\ufffdb" and bytes(message.raw_payload) == raw
    assert not InboundRevision.objects.filter(message=message).exists()
