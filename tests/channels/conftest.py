"""Channel test fixtures: a fresh credential key per test run, replay sources."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from beatdesk.channels import crypto


@pytest.fixture(autouse=True)
def _credential_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEATDESK_CREDENTIAL_KEYS", crypto.generate_key_entry("test1"))


@pytest.fixture
def replay_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "replay"
    folder.mkdir()
    monkeypatch.setenv("BEATDESK_REPLAY_DIR", str(folder))
    yield folder
