"""Insights test set-up."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _stored_files_per_test(isolated_storage: None) -> None:
    """Stored leadership reports go to a fresh folder per test (``isolated_storage``)."""
