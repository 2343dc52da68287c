"""Acceptance: the demo on SQLite, `audit verify`, and tampering caught (issue 2, point 2)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BEATDESK = [sys.executable, "-m", "beatdesk.cli"]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        BEATDESK + args, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("demo")
    db = folder / "demo.sqlite3"
    env = {
        **os.environ,
        "BEATDESK_DATABASE_URL": f"sqlite:///{db}",
        "BEATDESK_VAR_DIR": str(folder),
    }
    loaded = _run(["demo", "--no-serve"], env)
    assert loaded.returncode == 0, loaded.stderr
    assert "gmp-desk" in loaded.stdout and "demo-code" in loaded.stdout
    return db, env


def test_demo_loads_greater_manchester(demo_db: tuple[Path, dict[str, str]]) -> None:
    db, _ = demo_db
    with sqlite3.connect(db) as conn:
        kinds = dict(
            conn.execute(
                "SELECT a.kind, COUNT(*) FROM agencies_area a "
                "JOIN agencies_agency g ON g.id = a.agency_id WHERE g.slug = 'gmp' GROUP BY a.kind"
            ).fetchall()
        )
        roles = {r for (r,) in conn.execute("SELECT role FROM agencies_staff")}
        agencies = {k for (k,) in conn.execute("SELECT kind FROM agencies_agency")}
        (history_days,) = conn.execute(
            "SELECT COUNT(DISTINCT day) FROM insights_dailyfigures WHERE scope = 'agency'"
        ).fetchone()
    assert kinds == {"force_area": 1, "district": 10, "neighbourhood": 215}
    assert len(roles) == 8
    # Ten weeks of invented history built into daily figures, so Insights has periods.
    assert history_days >= 70
    assert agencies == {"police", "fire", "ambulance"}


def test_demo_code_only_for_demo_accounts(demo_db: tuple[Path, dict[str, str]]) -> None:
    _, env = demo_db
    code = _run(["demo-code", "gmp-officer"], env)
    assert code.returncode == 0 and code.stdout.strip().isdigit() and len(code.stdout.strip()) == 6
    assert _run(["demo-code", "nobody"], env).returncode != 0


def test_verify_passes_then_catches_edit_and_delete(demo_db: tuple[Path, dict[str, str]]) -> None:
    db, env = demo_db
    ok = _run(["audit", "verify"], env)
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stdout

    with sqlite3.connect(db) as conn:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE audit_auditevent SET summary = 'x' WHERE seq = 5")
        conn.execute("DROP TRIGGER audit_refuse_update")
        conn.execute("DROP TRIGGER audit_refuse_delete")
        (summary,) = conn.execute("SELECT summary FROM audit_auditevent WHERE seq = 5").fetchone()
        conn.execute("UPDATE audit_auditevent SET summary = 'edited' WHERE seq = 5")
    edited = _run(["audit", "verify"], env)
    assert edited.returncode != 0
    assert "BROKEN at seq 5" in edited.stderr

    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_auditevent SET summary = ? WHERE seq = 5", (summary,))
    assert _run(["audit", "verify"], env).returncode == 0

    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_auditevent WHERE seq = 9")
    deleted = _run(["audit", "verify"], env)
    assert deleted.returncode != 0
    assert "BROKEN at seq 10" in deleted.stderr


def test_demo_replay_channel_delivers_public_messages(demo_db: tuple[Path, dict[str, str]]) -> None:
    db, env = demo_db
    first = _run(["channels", "once"], env)
    assert first.returncode == 0, first.stderr
    assert "new 2" in first.stdout  # each replay starts with its first message at once
    with sqlite3.connect(db) as conn:
        per_account = dict(
            conn.execute(
                "SELECT a.label, COUNT(m.id) FROM channels_connectedaccount a "
                "JOIN channels_inboundmessage m ON m.account_id = a.id "
                "WHERE m.platform_id NOT LIKE 'demo-history-%' GROUP BY a.label"
            ).fetchall()
        )
        (scope,) = conn.execute(
            "SELECT scope FROM channels_connectedaccount WHERE label LIKE 'Salford%'"
        ).fetchone()
    assert per_account == {"Demo public messages": 1, "Salford neighbourhood (drill)": 1}
    assert scope == "team"  # so the demo officer can write posts from it
