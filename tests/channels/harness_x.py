"""The X platform harness: the replay stand-in (``replay_platform``) seen from X's side.

``x_platform`` satisfies ``tests.channels.harness.PlatformHarness``; every check it
offers reads the stand-in's own state, never goes through the connector under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from beatdesk.channels.contract import ConnectionSettings, OAuthApp

from .replay_platform import (
    X_CLIENT_ID,
    X_CLIENT_SECRET,
    X_FORCE_HANDLE,
    X_FORCE_ID,
    X_PUBLIC_IDS,
    X_REDIRECT_URI,
    ReplayPlatform,
)

FORCE_HANDLE = X_FORCE_HANDLE


class XHarness:
    kind = "x"

    def __init__(self, server: ReplayPlatform) -> None:
        self.server = server
        self.access_token, self.refresh_token = server.issue_x_token()
        self.app = OAuthApp(
            client_id=X_CLIENT_ID, client_secret=X_CLIENT_SECRET, redirect_uri=X_REDIRECT_URI
        )

    def credentials(self, *, expires_at: datetime | None = None) -> dict[str, str]:
        expiry = expires_at or datetime.now(UTC) + timedelta(hours=2)
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": expiry.isoformat(timespec="seconds"),
            "client_id": X_CLIENT_ID,
            "client_secret": X_CLIENT_SECRET,
        }

    def force_account(
        self, base_url: str | None = None, *, expires_at: datetime | None = None
    ) -> ConnectionSettings:
        return ConnectionSettings(
            base_url=base_url or self.server.url,
            credentials=self.credentials(expires_at=expires_at),
            platform_account_id=X_FORCE_ID,
            handle=FORCE_HANDLE,
        )

    def posts_with_text(self, text: str) -> int:
        return self.server.x_posts_with_text(X_FORCE_ID, text)

    def public_mention(self, text: str) -> str:
        if f"@{FORCE_HANDLE}".lower() not in text.lower():
            text = f"@{FORCE_HANDLE} {text}"
        return self.server.x_post_as(X_PUBLIC_IDS[0], text)

    def public_reply(self, to_platform_id: str, text: str) -> str:
        return self.server.x_post_as(X_PUBLIC_IDS[1], text, reply_to=to_platform_id)

    def revoke_force_credentials(self) -> None:
        self.server.revoke_x_token(self.access_token)

    def media_of_post(self, text: str) -> list[str]:
        return self.server.x_media_of(X_FORCE_ID, text)

    def is_hidden(self, platform_id: str) -> bool:
        return self.server.x_is_hidden(platform_id)

    def authorize(self, authorize_url: str) -> tuple[str, str]:
        """The admin consents on X; returns the (code, state) of the redirect back."""
        return self.server.x_authorize(authorize_url)


@pytest.fixture
def x_platform() -> Iterator[XHarness]:
    with ReplayPlatform() as server:
        yield XHarness(server)
