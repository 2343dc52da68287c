"""The channels loop's tick for publishing: release scheduled posts that are due."""

from __future__ import annotations

import logging
from datetime import datetime

from .actions import release_due_posts

logger = logging.getLogger("beatdesk.publishing")


def on_tick(now: datetime) -> None:
    sent, held = release_due_posts(now)
    if sent or held:
        logger.info("scheduled posts: %d sent, %d held", sent, held)
