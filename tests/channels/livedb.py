"""Run Beatdesk commands in a subprocess against the test database."""

from __future__ import annotations

import os
import sys
from urllib.parse import quote

import pytest
from django.db import connection

BEATDESK = [sys.executable, "-m", "beatdesk.cli"]


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for a child process that uses the (committed) test database."""
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("this test needs PostgreSQL (run it through make test)")
        pytest.skip("needs PostgreSQL: a child process cannot see an in-memory test database")
    user = quote(str(db["USER"] or ""))
    password = quote(str(db["PASSWORD"] or ""))
    auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
    url = f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {**os.environ, "BEATDESK_DATABASE_URL": url, **extra}
