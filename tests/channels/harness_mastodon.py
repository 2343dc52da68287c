"""A real Mastodon API server for the connector tests: ``mastodon_mock`` over HTTP.

``mastodon_server`` (one per session) runs ``python -m mastodon_mock serve`` (PyPI
``mastodon_mock``: the Mastodon REST API in FastAPI on in-memory SQLite) as a
subprocess on a free loopback port, and stops it at the end. ``mastodon_platform``
(one per test) creates two fresh accounts through the mock's own
``/api/v1/_mock/dev_user`` endpoint, a force account and a member of the public, so
tests never see each other's posts or notifications, and offers them as a
``PlatformHarness``.

Checks here are made on the server side with their own HTTP calls, never through
the connector under test: the harness holds a second token of the force account
(``/api/v1/_mock/login``) that ``revoke_force_credentials`` leaves alone, and reads
the text a status was posted with from ``/api/v1/statuses/:id/source``.

The mock is used only over HTTP, so it needs no type stubs. Without it (not
installed, or it will not start) the tests are skipped, or fail with ``CI=true``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from beatdesk.channels.contract import ConnectionSettings
from tests.channels.harness import PlatformHarness

STARTUP_SECONDS = 90.0


class MastodonMockUnavailable(RuntimeError):
    pass


@dataclass
class MastodonMockServer:
    base_url: str
    domain: str  # the server's own domain, as in handles (``user@domain``)
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        _stop(self.process)


@dataclass(frozen=True)
class MockAccount:
    id: str
    username: str
    token: str


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _ready(process: subprocess.Popen[bytes], base_url: str) -> bool:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(httpx.HTTPError):
            response = httpx.get(f"{base_url}/health", timeout=2)
            if response.status_code == 200 and response.headers.get("server") == "Mastodon":
                return process.poll() is None
        time.sleep(0.2)
    return False


def start_mastodon_mock(workdir: Path) -> MastodonMockServer:
    if importlib.util.find_spec("mastodon_mock") is None:
        raise MastodonMockUnavailable("the mastodon_mock package is not installed")
    media = workdir / "media"
    media.mkdir(parents=True, exist_ok=True)
    config = workdir / "mastodon_mock.toml"
    # No seed accounts (the default seed has a well-known token) and nothing on disk
    # but uploads: every run starts empty.
    config.write_text(
        f"media_storage_path = {json.dumps(str(media))}\n\n"
        '[database]\npath = ":memory:"\n\n'
        "[seed]\naccounts = []\n",
        encoding="utf-8",
    )
    log_path = workdir / "server.log"
    for _attempt in range(3):  # a port taken between choosing it and binding it
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "mastodon_mock",
                    "serve",
                    "--config",
                    str(config),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                ],
                cwd=workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if _ready(process, base_url):
            try:
                domain = httpx.get(f"{base_url}/api/v2/instance", timeout=10).json()["domain"]
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                _stop(process)
                raise MastodonMockUnavailable(f"no instance domain: {exc}") from exc
            return MastodonMockServer(base_url, str(domain), process, log_path)
        _stop(process)
    tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
    raise MastodonMockUnavailable(f"mastodon_mock serve did not answer: {tail}")


class MastodonHarness:
    """Two fresh accounts on the running mock: the force's and a member of the public's."""

    kind = "mastodon"

    def __init__(self, server: MastodonMockServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, timeout=30)
        suffix = secrets.token_hex(4)
        self.force = self._new_account(f"force_{suffix}", "Test Constabulary")
        self.public = self._new_account(f"resident_{suffix}", "A Resident")
        # The platform's own view of the force account: a token the tests never revoke.
        self._observer_token = self._login(self.force.username)

    def close(self) -> None:
        self.http.close()

    # ---------------------------------------------------------------- ids

    @property
    def domain(self) -> str:
        return self.server.domain

    def qualify(self, local_id: str) -> str:
        """The connector's form of a Mastodon id: ``<server domain>:<local id>``."""
        return f"{self.domain}:{local_id}"

    @staticmethod
    def local(platform_id: str) -> str:
        return platform_id.rpartition(":")[2]

    # ---------------------------------------------------------------- PlatformHarness

    def force_account(self, base_url: str | None = None) -> ConnectionSettings:
        return ConnectionSettings(
            base_url=base_url or self.server.base_url,
            credentials={"access_token": self.force.token},
            platform_account_id=self.qualify(self.force.id),
            handle=f"{self.force.username}@{self.domain}",
        )

    def posts_with_text(self, text: str) -> int:
        return sum(1 for status in self.force_statuses() if self.source_text(status["id"]) == text)

    def public_mention(self, text: str) -> str:
        return self.post_as_public(f"@{self.force.username} {text}")

    def public_reply(self, to_platform_id: str, text: str) -> str:
        return self.post_as_public(
            f"@{self.force.username} {text}", in_reply_to_id=self.local(to_platform_id)
        )

    def revoke_force_credentials(self) -> None:
        response = self.http.post("/oauth/revoke", data={"token": self.force.token})
        response.raise_for_status()

    def media_of_post(self, text: str) -> list[str]:
        """SHA-256 of each attachment of the force's status with ``text`` (the file the
        server serves at the attachment's URL)."""
        for status in self.force_statuses():
            if self.source_text(status["id"]) != text:
                continue
            digests = []
            for attachment in status.get("media_attachments") or []:
                response = self.http.get(attachment["url"])
                response.raise_for_status()
                digests.append(hashlib.sha256(response.content).hexdigest())
            return digests
        return []

    def is_hidden(self, platform_id: str) -> bool:
        """Mastodon has no hiding of other people's replies."""
        return False

    # ---------------------------------------------------------------- more platform actions

    def public_direct(self, text: str) -> str:
        """A direct (private) message from the member of the public to the force."""
        return self.post_as_public(f"@{self.force.username} {text}", visibility="direct")

    def post_as_public(
        self,
        text: str,
        *,
        in_reply_to_id: str = "",
        visibility: str = "public",
        spoiler_text: str = "",
    ) -> str:
        body: dict[str, Any] = {"status": text, "visibility": visibility}
        if in_reply_to_id:
            body["in_reply_to_id"] = in_reply_to_id
        if spoiler_text:
            body["spoiler_text"] = spoiler_text
        response = self.http.post(
            "/api/v1/statuses", json=body, headers=self._auth(self.public.token)
        )
        response.raise_for_status()
        return self.qualify(str(response.json()["id"]))

    def set_public_profile(self, *, note: str, location: str) -> None:
        """The member of the public fills in a bio and a "Location" profile field."""
        response = self.http.patch(
            "/api/v1/accounts/update_credentials",
            data={
                "note": note,
                "fields_attributes[0][name]": "Location",
                "fields_attributes[0][value]": location,
            },
            headers=self._auth(self.public.token),
        )
        response.raise_for_status()

    def new_member(self, name: str, display_name: str) -> MockAccount:
        """Another member of the public (a fresh account on the mock)."""
        return self._new_account(f"{name}_{secrets.token_hex(4)}", display_name)

    def set_profile(self, account: MockAccount, *, note: str, fields: dict[str, str]) -> None:
        """``account`` fills in a bio and profile fields (name -> value)."""
        data = {"note": note}
        for index, (name, value) in enumerate(fields.items()):
            data[f"fields_attributes[{index}][name]"] = name
            data[f"fields_attributes[{index}][value]"] = value
        response = self.http.patch(
            "/api/v1/accounts/update_credentials", data=data, headers=self._auth(account.token)
        )
        response.raise_for_status()

    def follow_force(self, account: MockAccount) -> None:
        response = self.http.post(
            f"/api/v1/accounts/{self.force.id}/follow", headers=self._auth(account.token)
        )
        response.raise_for_status()

    def favourite_as(self, account: MockAccount, platform_id: str) -> None:
        response = self.http.post(
            f"/api/v1/statuses/{self.local(platform_id)}/favourite",
            headers=self._auth(account.token),
        )
        response.raise_for_status()

    def boost_as(self, account: MockAccount, platform_id: str) -> None:
        response = self.http.post(
            f"/api/v1/statuses/{self.local(platform_id)}/reblog", headers=self._auth(account.token)
        )
        response.raise_for_status()

    def filter_private_mentions(self) -> None:
        """The force account's notification policy holds back private mentions from
        strangers (Mastodon's default since 4.3)."""
        response = self.http.patch(
            "/api/v1/notifications/policy",
            json={"for_private_mentions": "filter"},
            headers=self._auth(self._observer_token),
        )
        response.raise_for_status()

    def edit_as_public(self, platform_id: str, text: str) -> None:
        response = self.http.put(
            f"/api/v1/statuses/{self.local(platform_id)}",
            json={"status": text},
            headers=self._auth(self.public.token),
        )
        response.raise_for_status()

    def delete_as_public(self, platform_id: str) -> None:
        response = self.http.delete(
            f"/api/v1/statuses/{self.local(platform_id)}", headers=self._auth(self.public.token)
        )
        response.raise_for_status()

    def favourite_as_public(self, platform_id: str) -> None:
        response = self.http.post(
            f"/api/v1/statuses/{self.local(platform_id)}/favourite",
            headers=self._auth(self.public.token),
        )
        response.raise_for_status()

    def status(self, platform_id: str) -> dict[str, Any] | None:
        """A status as the platform shows it (None: it no longer exists)."""
        response = self.http.get(
            f"/api/v1/statuses/{self.local(platform_id)}", headers=self._auth(self._observer_token)
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def source_text(self, local_or_platform_id: str) -> str:
        response = self.http.get(
            f"/api/v1/statuses/{self.local(local_or_platform_id)}/source",
            headers=self._auth(self._observer_token),
        )
        response.raise_for_status()
        return str(response.json()["text"])

    def force_statuses(self) -> list[dict[str, Any]]:
        """Every status of the force account, newest first, as the account itself sees them."""
        statuses: list[dict[str, Any]] = []
        params: dict[str, str] = {"limit": "40"}
        while True:
            response = self.http.get(
                f"/api/v1/accounts/{self.force.id}/statuses",
                params=params,
                headers=self._auth(self._observer_token),
            )
            response.raise_for_status()
            page: list[dict[str, Any]] = response.json()
            statuses.extend(page)
            if len(page) < 40:
                return statuses
            params["max_id"] = str(page[-1]["id"])

    # ---------------------------------------------------------------- helpers

    @staticmethod
    def _auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def _new_account(self, username: str, display_name: str) -> MockAccount:
        response = self.http.post(
            "/api/v1/_mock/dev_user", json={"username": username, "display_name": display_name}
        )
        response.raise_for_status()
        data = response.json()
        return MockAccount(id=str(data["id"]), username=username, token=str(data["access_token"]))

    def _login(self, username: str) -> str:
        response = self.http.post("/api/v1/_mock/login", json={"username": username})
        response.raise_for_status()
        return str(response.json()["access_token"])


def _as_platform_harness(harness: MastodonHarness) -> PlatformHarness:
    return harness  # mypy checks that MastodonHarness satisfies the protocol


@pytest.fixture(scope="session")
def mastodon_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MastodonMockServer]:
    try:
        server = start_mastodon_mock(tmp_path_factory.mktemp("mastodon_mock"))
    except MastodonMockUnavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"mastodon-mock must run in CI but could not start: {exc}")
        pytest.skip(f"mastodon-mock could not start: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mastodon_platform(mastodon_server: MastodonMockServer) -> Iterator[MastodonHarness]:
    harness = MastodonHarness(mastodon_server)
    try:
        yield harness
    finally:
        harness.close()
