"""The X platform harness: the replay stand-in (``replay_platform``) seen from X's side.

``x_platform`` satisfies ``tests.channels.harness.PlatformHarness``; every check it
offers reads the stand-in's own state, never goes through the connector under test.

``XAudiencePlatform`` adds the audience lists to the stand-in (followers of a user,
who liked and who reposted a post), seeded from the recordings ``users_followers``,
``users_followers_last``, ``tweets_liking_users`` and ``tweets_retweeted_by``.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from beatdesk.channels.contract import ConnectionSettings, OAuthApp

from .replay_platform import (
    X_CLIENT_ID,
    X_CLIENT_SECRET,
    X_FORCE_HANDLE,
    X_FORCE_ID,
    X_PUBLIC_IDS,
    X_REDIRECT_URI,
    Answer,
    ReplayPlatform,
    Request,
    recording,
)

FORCE_HANDLE = X_FORCE_HANDLE
#: The force's post that the recorded likes and reposts are of.
X_APPEAL_POST = "1990000000000000050"
#: ``max_results`` allowed by each list.
AUDIENCE_LISTS = {"followers": 1000, "liking_users": 100, "retweeted_by": 100}


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


class XAudiencePlatform(ReplayPlatform):
    """The X stand-in with ``GET /2/users/:id/followers``, ``GET /2/tweets/:id/liking_users``
    and ``GET /2/tweets/:id/retweeted_by`` (newest first, only the requested
    ``user.fields``, ``max_results`` checked, ``pagination_token`` paging)."""

    def __init__(self) -> None:
        self.x_followers: dict[str, list[str]] = {}
        self.x_likes: dict[str, list[str]] = {}
        self.x_reposts: dict[str, list[str]] = {}
        super().__init__()

    def _load_x(self) -> None:
        super()._load_x()
        followers = [
            *recording("x", "users_followers").body["data"],
            *recording("x", "users_followers_last").body["data"],
        ]
        likes = recording("x", "tweets_liking_users").body["data"]
        reposts = recording("x", "tweets_retweeted_by").body["data"]
        for user in [*followers, *likes, *reposts]:
            self.x_users.setdefault(user["id"], {}).update(user)
        self.x_followers[X_FORCE_ID] = [user["id"] for user in followers]
        self.x_likes[X_APPEAL_POST] = [user["id"] for user in likes]
        self.x_reposts[X_APPEAL_POST] = [user["id"] for user in reposts]

    def x_follow(self, user_id: str, target_id: str) -> None:
        with self.lock:
            listed = self.x_followers.setdefault(target_id, [])
            if user_id not in listed:
                listed.insert(0, user_id)

    def x_like(self, user_id: str, tweet_id: str) -> None:
        with self.lock:
            listed = self.x_likes.setdefault(tweet_id, [])
            if user_id not in listed:
                listed.insert(0, user_id)

    def x_repost(self, user_id: str, tweet_id: str) -> None:
        with self.lock:
            listed = self.x_reposts.setdefault(tweet_id, [])
            if user_id not in listed:
                listed.insert(0, user_id)

    def _x(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        route = re.fullmatch(
            r"/2/(users|tweets)/(\d+)/(followers|liking_users|retweeted_by)", request.path
        )
        if request.method != "GET" or route is None:
            return super()._x(request)
        self._x_auth(request)
        kind, object_id, name = route.groups()
        if (kind == "users") != (name == "followers"):
            raise Answer(404, {"title": "Not Found", "type": "about:blank", "status": 404})
        headers = {
            "x-rate-limit-limit": "15",
            "x-rate-limit-remaining": "14",
            "x-rate-limit-reset": str(int(time.time()) + 900),
        }
        if kind == "users":
            if object_id not in self.x_users:
                raise Answer(404, {"title": "Not Found Error", "type": "about:blank"})
            ids = self.x_followers.get(object_id, [])
        else:
            tweet = self.x_tweets.get(object_id)
            if tweet is None or tweet.get("_deleted"):
                template = recording("x", "tweets_lookup_partial").body["errors"][0]
                text = json.dumps(template).replace("1990000000000000999", object_id)
                error = json.loads(text.replace("ids: [", "id: [").replace('"ids"', '"id"'))
                return 200, {"errors": [error]}, headers
            ids = (self.x_likes if name == "liking_users" else self.x_reposts).get(object_id, [])
        try:
            max_results = int(request.query.get("max_results", "100"))
        except ValueError:
            max_results = 0
        if not 1 <= max_results <= AUDIENCE_LISTS[name]:
            raise Answer.recorded("x", "error_400_invalid_request")
        offset = 0
        if token := request.query.get("pagination_token"):
            offset = int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
        page = ids[offset : offset + max_results]
        body: dict[str, Any] = {}
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            body["data"] = [self._x_user_view(self.x_users[user_id], request) for user_id in page]
        if offset + max_results < len(ids):
            meta["next_token"] = _token(offset + max_results)
        if offset > 0:
            meta["previous_token"] = _token(max(0, offset - max_results))
        body["meta"] = meta
        return 200, body, headers


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

    # -- the audience (``XAudiencePlatform`` only) -------------------------------------

    @property
    def audience(self) -> XAudiencePlatform:
        assert isinstance(self.server, XAudiencePlatform)
        return self.server

    def public_follows(self, user_id: str = X_PUBLIC_IDS[1]) -> None:
        self.audience.x_follow(user_id, X_FORCE_ID)

    def public_likes(self, tweet_id: str, user_id: str = X_PUBLIC_IDS[1]) -> None:
        self.audience.x_like(user_id, tweet_id)

    def public_reposts(self, tweet_id: str, user_id: str = X_PUBLIC_IDS[1]) -> None:
        self.audience.x_repost(user_id, tweet_id)


@pytest.fixture
def x_platform() -> Iterator[XHarness]:
    with XAudiencePlatform() as server:
        yield XHarness(server)
