"""Facebook Page and Instagram harnesses over the replay stand-in's Graph API.

``facebook_platform`` and ``instagram_platform`` satisfy
``tests.channels.harness.PlatformHarness``; their checks read the stand-in's state.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from beatdesk.channels.contract import ConnectionSettings, OAuthApp, OutboundMedia

from .replay_platform import (
    META_APP_ID,
    META_APP_SECRET,
    META_IG_ID,
    META_IG_USERNAME,
    META_PAGE_ID,
    META_REDIRECT_URI,
    ReplayPlatform,
)

META_APP = OAuthApp(
    client_id=META_APP_ID, client_secret=META_APP_SECRET, redirect_uri=META_REDIRECT_URI
)


class FacebookHarness:
    kind = "facebook"

    def __init__(self, server: ReplayPlatform) -> None:
        self.server = server
        self.access_token = server.page_token()
        self.app = META_APP

    def force_account(self, base_url: str | None = None) -> ConnectionSettings:
        return ConnectionSettings(
            base_url=base_url or self.server.url,
            credentials={"access_token": self.access_token, "page_id": META_PAGE_ID},
            platform_account_id=META_PAGE_ID,
            handle="ExamplePolice",
        )

    def posts_with_text(self, text: str) -> int:
        return self.server.fb_page_posts_with_text(text)

    def public_mention(self, text: str) -> str:
        """A member of the public posts on the Page (a visitor post)."""
        return self.server.fb_visitor_post("7010000000000001", "Alex Resident", text)

    def public_reply(self, to_platform_id: str, text: str) -> str:
        return self.server.fb_comment("7010000000000002", "Jordan Example", to_platform_id, text)

    def revoke_force_credentials(self) -> None:
        self.server.revoke_graph_token(self.access_token)

    def media_of_post(self, text: str) -> list[str]:
        return self.server.fb_media_of(text)

    def is_hidden(self, platform_id: str) -> bool:
        return self.server.g_is_hidden(platform_id)

    def authorize(self, authorize_url: str) -> tuple[str, str]:
        return self.server.g_authorize(authorize_url)


class InstagramHarness:
    kind = "instagram"

    def __init__(self, server: ReplayPlatform) -> None:
        self.server = server
        self.access_token = server.issue_graph_token(kind="user")
        self.app = META_APP
        self.hosted: list[str] = []

    def force_account(self, base_url: str | None = None) -> ConnectionSettings:
        expires = datetime.now(UTC) + timedelta(days=59)
        return ConnectionSettings(
            base_url=base_url or self.server.url,
            credentials={
                "access_token": self.access_token,
                "ig_user_id": META_IG_ID,
                "ig_username": META_IG_USERNAME,
                "page_id": META_PAGE_ID,
                "expires_at": expires.isoformat(timespec="seconds"),
            },
            platform_account_id=META_IG_ID,
            handle=META_IG_USERNAME,
        )

    def media_url(self, media: OutboundMedia) -> str:
        """Stands in for Beatdesk publishing an image at a public, short-lived URL (the
        stand-in serves it itself; the pipeline tests use Beatdesk's signed links)."""
        url = self.server.host_media(media.data, media.mime_type)
        self.hosted.append(url)
        return url

    def posts_with_text(self, text: str) -> int:
        return self.server.ig_posts_with_text(text)

    def public_mention(self, text: str) -> str:
        """Someone tags the force account in their own post."""
        return self.server.ig_tag("market.trader", text)

    def public_reply(self, to_platform_id: str, text: str) -> str:
        return self.server.ig_comment("northtown_mum", to_platform_id, text)

    def revoke_force_credentials(self) -> None:
        self.server.revoke_graph_token(self.access_token)

    def media_of_post(self, text: str) -> list[str]:
        """SHA-256 of each image Instagram downloaded for the post."""
        return self.server.ig_media_of(text)

    def is_hidden(self, platform_id: str) -> bool:
        return self.server.g_is_hidden(platform_id)

    def authorize(self, authorize_url: str) -> tuple[str, str]:
        return self.server.g_authorize(authorize_url)


@pytest.fixture
def facebook_platform() -> Iterator[FacebookHarness]:
    with ReplayPlatform() as server:
        yield FacebookHarness(server)


@pytest.fixture
def instagram_platform() -> Iterator[InstagramHarness]:
    with ReplayPlatform() as server:
        yield InstagramHarness(server)
