"""What every platform test harness offers the generic channel tests.

Each connector's harness (``harness_<kind>.py``) runs or replays a platform and
checks results *on the platform side*, never through the connector under test.
"""

from __future__ import annotations

from typing import Protocol

from beatdesk.channels.contract import ConnectionSettings


class PlatformHarness(Protocol):
    kind: str

    def force_account(self, base_url: str | None = None) -> ConnectionSettings:
        """Settings for the force account (optionally through a proxy at ``base_url``)."""
        ...

    def posts_with_text(self, text: str) -> int:
        """How many posts by the force account carry exactly ``text`` (platform side)."""
        ...

    def public_mention(self, text: str) -> str:
        """A second, public account mentions the force account; returns the platform id."""
        ...

    def public_reply(self, to_platform_id: str, text: str) -> str:
        """A second account replies to a post; returns the reply's platform id."""
        ...

    def revoke_force_credentials(self) -> None:
        """Invalidate the force account's token on the platform (expiry or revocation)."""
        ...

    def media_of_post(self, text: str) -> list[str]:
        """SHA-256 of each image or video on the force account's post with ``text``, as
        the platform holds it (empty when there is no such post)."""
        ...

    def is_hidden(self, platform_id: str) -> bool:
        """Whether the platform hides this reply or comment from public view."""
        ...
