"""A small, stateful local stand-in for the X API v2 and the Meta Graph API.

No local server of these platforms exists, so connector tests run against this one: a
stdlib ``ThreadingHTTPServer`` on 127.0.0.1 (random port) that answers the endpoints
the connectors use with the payload shapes recorded under ``fixtures/x`` and
``fixtures/meta`` (shapes from the official references, invented content; see the
README in each folder). It is real HTTP, so ``FaultProxy`` can sit in between.

It keeps state: posts created through it are seen by later reads (``find_published``,
the harnesses' ``posts_with_text``), tokens can be issued, refreshed and revoked, and
``fail_next`` makes it answer a recorded 401/403/429/5xx instead of the real thing.

Behaviour worth knowing when reading the tests:

* X: links in a new post become ``https://t.co/...`` (with ``entities.urls``), ``& < >``
  come back as HTML entities, a reply's text gains ``@handle`` of the post it answers,
  and the same text twice from one account is refused with the recorded 403 "duplicate
  content" (as X does). Only requested ``tweet.fields``/``user.fields`` are returned.
* Graph: ``fields`` with field expansion (``comments.limit(5){id,from{name}}``) is
  parsed; asking for a field a node type lacks answers the recorded code-100 error, an
  unknown id the recorded 100/33 error, a bad token the recorded 190 error.
* Instagram fetches each container's ``image_url`` for real (an HTTP GET, before the
  request is handled, as Instagram downloads it when the container is created): a URL
  that does not answer 200 with a JPEG gets the recorded 9004/2207052 error, so a bad
  or expired signed link fails the test. ``host_media`` serves bytes at a URL of this
  server for tests that have no site of their own to link to.
* Hiding: ``PUT /2/tweets/:id/hidden`` (replies in the account's own conversations only,
  else the recorded 403), ``POST /{comment-id}`` with ``is_hidden`` (Facebook) or
  ``hide`` (Instagram).
"""

from __future__ import annotations

import base64
import copy
import email.parser
import email.policy
import hashlib
import html
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

FIXTURES = Path(__file__).parent / "fixtures"

X_EPOCH_MS = 1288834974657
X_CLIENT_ID = "QmVhdGRlc2tUZXN0Q2xpZW50OjE6Y2k"
X_CLIENT_SECRET = "x-client-secret-for-tests-0123456789abcdefghijklmnop"
X_REDIRECT_URI = "https://beatdesk.example/channels/oauth/x/callback"
X_FORCE_ID = "1590000000000000001"
X_FORCE_HANDLE = "ExamplePolice"
X_PUBLIC_IDS = ("1590000000000000101", "1590000000000000102")

META_APP_ID = "100000000000001"
META_APP_SECRET = "meta-app-secret-for-tests-0123456789abcdef"
META_REDIRECT_URI = "https://beatdesk.example/channels/oauth/meta/callback"
META_ADMIN_ID = "7010000000000000"
META_PAGE_ID = "104857600123456"
META_IG_ID = "17841400000000001"
META_IG_USERNAME = "examplepolice"


@dataclass(frozen=True)
class Recording:
    status: int
    headers: dict[str, str]
    body: Any


def recording(platform: str, name: str) -> Recording:
    doc = json.loads((FIXTURES / platform / f"{name}.json").read_text(encoding="utf-8"))
    return Recording(int(doc["status"]), dict(doc.get("headers") or {}), doc["body"])


class Answer(Exception):
    """Raised by a route to answer at once (errors)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}

    @classmethod
    def recorded(cls, platform: str, name: str, **substitutions: str) -> Answer:
        rec = recording(platform, name)
        body = rec.body
        if substitutions:
            text = json.dumps(body)
            for key, value in substitutions.items():
                text = text.replace("{" + key + "}", value)
            body = json.loads(text)
        return cls(rec.status, body, dict(rec.headers))


@dataclass
class Fetched:
    """What a GET of a media URL gave the platform: status, content type, bytes."""

    status: int
    content_type: str
    data: bytes


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    fetched: dict[str, Fetched] = field(default_factory=dict)  # media URL -> its download

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise Answer(400, {"title": "Invalid Request", "detail": "body is not JSON"}) from None

    def form(self) -> tuple[dict[str, str], dict[str, bytes]]:
        """Form fields and uploaded files (urlencoded or multipart)."""
        content_type = self.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            raw = f"Content-Type: {content_type}\r\n\r\n".encode() + self.body
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
            fields: dict[str, str] = {}
            files: dict[str, bytes] = {}
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if not isinstance(name, str):
                    continue
                payload = part.get_payload(decode=True)
                data = payload if isinstance(payload, bytes) else b""
                if part.get_filename() is not None:
                    files[name] = data
                else:
                    fields[name] = data.decode()
            return fields, files
        if content_type.startswith("application/x-www-form-urlencoded"):
            return dict(parse_qsl(self.body.decode(), keep_blank_values=True)), {}
        return {}, {}


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    answer: Answer
    times: int


# -- Graph field expansion -------------------------------------------------------------


@dataclass
class FieldSpec:
    name: str
    modifiers: dict[str, str] = field(default_factory=dict)
    children: list[FieldSpec] | None = None


def parse_fields(text: str) -> list[FieldSpec]:
    """Parse ``a,b{c,d{e}},f.limit(5).order(x){g}``."""
    specs, position = _parse_list(text, 0)
    if position != len(text):
        raise ValueError(f"bad fields at {position}: {text!r}")
    return specs


def _parse_list(text: str, position: int) -> tuple[list[FieldSpec], int]:
    specs: list[FieldSpec] = []
    while position < len(text) and text[position] != "}":
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(text, position)
        if not match:
            raise ValueError(f"bad field name at {position}: {text!r}")
        spec = FieldSpec(match.group())
        position = match.end()
        while position < len(text) and text[position] == ".":
            modifier = re.compile(r"\.([A-Za-z_]+)\(([^)]*)\)").match(text, position)
            if not modifier:
                raise ValueError(f"bad modifier at {position}: {text!r}")
            spec.modifiers[modifier.group(1)] = modifier.group(2)
            position = modifier.end()
        if position < len(text) and text[position] == "{":
            spec.children, position = _parse_list(text, position + 1)
            if position >= len(text) or text[position] != "}":
                raise ValueError(f"unclosed brace in {text!r}")
            position += 1
        specs.append(spec)
        if position < len(text) and text[position] == ",":
            position += 1
    return specs, position


GRAPH_FIELDS = {
    "page": {"id", "name", "username", "link", "about", "location", "followers_count"},
    "user": {"id", "name"},
    "post": {"id", "message", "created_time", "from", "permalink_url", "shares"},
    "comment": {
        "id",
        "message",
        "created_time",
        "from",
        "parent",
        "permalink_url",
        "attachment",
        "is_hidden",
    },
    "photo": {"id", "name", "created_time"},
    "iguser": {"id", "username", "name", "biography", "followers_count", "business_discovery"},
    "igmedia": {
        "id",
        "caption",
        "timestamp",
        "permalink",
        "media_type",
        "media_url",
        "username",
        "like_count",
        "comments_count",
    },
    "igcomment": {
        "id",
        "text",
        "timestamp",
        "username",
        "from",
        "parent_id",
        "media",
        "like_count",
        "hidden",
    },
    "igcontainer": {"id", "status_code", "status"},
}
GRAPH_EDGES = {
    "page": {"feed", "posts", "photos"},
    "post": {"comments", "reactions"},
    "comment": {"comments", "reactions"},
    "iguser": {"media", "tags", "media_publish"},
    "igmedia": {"comments"},
    "igcomment": {"replies"},
}
GRAPH_DEFAULT_FIELDS = {
    "page": "id,name",
    "user": "id,name",
    "post": "id,message,created_time",
    "comment": "id,message,created_time,from",
    "photo": "id",
    "iguser": "id",
    "igmedia": "id",
    "igcomment": "id,text,timestamp",
    "igcontainer": "id",
}
NODE_NAMES = {
    "page": "Page",
    "user": "User",
    "post": "Post",
    "comment": "Comment",
    "photo": "Photo",
    "iguser": "IGUser",
    "igmedia": "IGMedia",
    "igcomment": "IGComment",
    "igcontainer": "ShadowIGMediaBuilder",
}


def _graph_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return int(base64.urlsafe_b64decode(padded).decode().split(":", 1)[1])
    except (ValueError, IndexError):
        raise Answer.recorded("meta", "error_100_invalid_parameter") from None


class ReplayPlatform:
    """X API v2 and Graph API stand-in. Use as a context manager."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.log: list[tuple[str, str]] = []
        self._faults: list[Fault] = []
        self._ids = itertools.count(300_000_000_000_001)
        self._last_snowflake = 0
        self._last_graph_time: datetime | None = None
        # X state
        self.x_users: dict[str, dict[str, Any]] = {}
        self.x_tweets: dict[str, dict[str, Any]] = {}
        self.x_media: dict[str, dict[str, Any]] = {}
        self.x_tokens: dict[str, tuple[str, float]] = {}
        self.x_refresh: dict[str, str] = {}
        self.x_codes: dict[str, dict[str, str]] = {}
        self.x_clients = {X_CLIENT_ID: X_CLIENT_SECRET}
        # Graph state
        self.g_objects: dict[str, dict[str, Any]] = {}
        self.g_tokens: dict[str, dict[str, Any]] = {}
        self.g_codes: dict[str, dict[str, str]] = {}
        self.g_page_tokens: dict[str, str] = {}
        self.g_apps = {META_APP_ID: META_APP_SECRET}
        # Bytes served at /_hosted/<name> (``host_media``)
        self.hosted: dict[str, tuple[str, bytes]] = {}
        self._load_x()
        self._load_graph()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- lifecycle --------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ReplayPlatform:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(
        self,
        method: str,
        path: str,
        platform: str,
        name: str,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` and the ``path``
        regular expression (searched in the path, query excluded) with a recording."""
        answer = Answer.recorded(platform, name)
        answer.headers.update(headers or {})
        with self.lock:
            self._faults.append(Fault(method, re.compile(path), answer, times))

    def requests(self, method: str, pattern: str) -> int:
        with self.lock:
            return sum(1 for m, p in self.log if m == method and re.search(pattern, p))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # tokens travel in query strings: never log requests

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=body,
                )
                status, headers, payload = platform.handle(request)
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = do_PUT = _serve

        return Handler

    def host_media(self, data: bytes, content_type: str = "image/jpeg") -> str:
        """Serve ``data`` at a URL of this server (a stand-in for a site's media link)."""
        name = hashlib.sha256(data).hexdigest() + ".jpg"
        with self.lock:
            self.hosted[name] = (content_type, data)
        return f"{self.url}/_hosted/{name}"

    def _prefetch(self, request: Request) -> None:
        """Download a container's ``image_url`` as Instagram would: before taking the
        lock, since the URL may point back at this very server."""
        if request.method != "POST" or not request.path.endswith("/media"):
            return
        form, _ = request.form()
        url = {**request.query, **form}.get("image_url", "")
        if not url.startswith(("http://", "https://")):
            return
        try:
            with httpx.Client(timeout=10, follow_redirects=False) as client:
                response = client.get(url)
            request.fetched[url] = Fetched(
                response.status_code,
                response.headers.get("content-type", "").split(";")[0].strip(),
                response.content,
            )
        except httpx.HTTPError:
            request.fetched[url] = Fetched(0, "", b"")

    def handle(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        if request.path.startswith("/_hosted/"):
            with self.lock:
                hosted = self.hosted.get(request.path.removeprefix("/_hosted/"))
            if hosted is None:
                return 404, {"content-type": "text/plain"}, b"not found"
            return 200, {"content-type": hosted[0]}, hosted[1]
        self._prefetch(request)
        with self.lock:
            self.log.append((request.method, request.path))
            try:
                for fault in self._faults:
                    if (
                        fault.times > 0
                        and fault.method == request.method
                        and fault.pattern.search(request.path)
                    ):
                        fault.times -= 1
                        raise fault.answer
                if request.path.startswith("/2/"):
                    status, body, headers = self._x(request)
                elif re.match(r"^/v\d+\.\d+/", request.path):
                    status, body, headers = self._graph(request)
                else:
                    raise Answer(404, {"error": "no such route"})
            except Answer as answer:
                status, body, headers = answer.status, answer.body, dict(answer.headers)
        headers.setdefault("content-type", "application/json; charset=utf-8")
        return status, headers, json.dumps(body, ensure_ascii=False).encode()

    # == X =============================================================================

    def _load_x(self) -> None:
        me = recording("x", "users_me").body["data"]
        self.x_users[me["id"]] = {**me, "location": "Exampleshire", "description": ""}
        mentions = recording("x", "users_mentions").body
        for user in mentions["includes"]["users"]:
            self.x_users[user["id"]] = dict(user)
        for media in mentions["includes"]["media"]:
            self.x_media[media["media_key"]] = dict(media)
        profile = recording("x", "users_by_username").body["data"]
        self.x_users[profile["id"]].update(profile)
        for tweet in [*recording("x", "user_tweets").body["data"], *mentions["data"]]:
            stored = copy.deepcopy(tweet)
            stored["_original"] = html.unescape(tweet["text"])
            self.x_tweets[tweet["id"]] = stored

    def issue_x_token(self, user_id: str = X_FORCE_ID, lifetime: float = 7200) -> tuple[str, str]:
        with self.lock:
            access = "xat-" + secrets.token_urlsafe(24)
            refresh = "xrt-" + secrets.token_urlsafe(24)
            self.x_tokens[access] = (user_id, time.time() + lifetime)
            self.x_refresh[refresh] = user_id
            return access, refresh

    def revoke_x_token(self, access_token: str) -> None:
        with self.lock:
            self.x_tokens.pop(access_token, None)

    def _x_auth(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        owner = self.x_tokens.get(token)
        if owner is None or owner[1] < time.time():
            raise Answer.recorded("x", "error_401_unauthorized")
        return owner[0]

    def _snowflake(self) -> str:
        value = (int(time.time() * 1000) - X_EPOCH_MS) << 22
        value = max(value, self._last_snowflake + 1)
        self._last_snowflake = value
        return str(value)

    def _x(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        method, path = request.method, request.path
        if method == "POST" and path == "/2/oauth2/token":
            return 200, self._x_token_endpoint(request), {}
        user_id = self._x_auth(request)
        headers = {
            "x-rate-limit-limit": "900",
            "x-rate-limit-remaining": "899",
            "x-rate-limit-reset": str(int(time.time()) + 900),
        }
        if method == "GET" and path == "/2/users/me":
            return 200, {"data": self._x_user_view(self.x_users[user_id], request)}, headers
        if match := re.fullmatch(r"/2/users/by/username/(\w+)", path):
            return 200, self._x_user_by_name(match.group(1), request), headers
        if match := re.fullmatch(r"/2/users/(\d+)", path):
            user = self.x_users.get(match.group(1))
            if user is None:
                raise Answer(404, {"title": "Not Found Error", "type": "about:blank"})
            return 200, {"data": self._x_user_view(user, request)}, headers
        if match := re.fullmatch(r"/2/users/(\d+)/(tweets|mentions)", path):
            return 200, self._x_timeline(match.group(1), match.group(2), request), headers
        if method == "GET" and path == "/2/tweets":
            return 200, self._x_lookup(request), headers
        if method == "POST" and path == "/2/tweets":
            return 201, self._x_create(user_id, request), headers
        if method == "DELETE" and (match := re.fullmatch(r"/2/tweets/(\d+)", path)):
            tweet = self.x_tweets.get(match.group(1))
            if tweet is None or tweet.get("_deleted"):
                return 200, {"data": {"deleted": False}}, headers
            if tweet["author_id"] != user_id:
                raise Answer.recorded("x", "error_403_not_permitted")
            tweet["_deleted"] = True
            return 200, recording("x", "tweets_delete").body, headers
        if method == "PUT" and (match := re.fullmatch(r"/2/tweets/(\d+)/hidden", path)):
            return 200, self._x_hide(user_id, match.group(1), request), headers
        if method == "POST" and path == "/2/media/upload":
            fields, files = request.form()
            if "media" not in files or not fields.get("media_category"):
                raise Answer.recorded("x", "error_400_invalid_request")
            body = copy.deepcopy(recording("x", "media_upload").body)
            media_id = self._snowflake()
            body["data"].update({"id": media_id, "media_key": f"3_{media_id}"})
            self.x_media[f"3_{media_id}"] = {
                "media_key": f"3_{media_id}",
                "type": "animated_gif" if fields["media_category"] == "tweet_gif" else "photo",
                "_sha256": hashlib.sha256(files["media"]).hexdigest(),
            }
            return 200, body, headers
        if method == "POST" and path == "/2/media/metadata":
            payload = request.json()
            media = self.x_media.get(f"3_{payload.get('id')}")
            if media is None:
                raise Answer.recorded("x", "error_400_invalid_request")
            media["alt_text"] = payload["metadata"]["alt_text"]["text"]
            body = copy.deepcopy(recording("x", "media_metadata").body)
            body["data"]["id"] = payload["id"]
            body["data"]["associated_metadata"]["alt_text"]["text"] = media["alt_text"]
            return 200, body, headers
        raise Answer(404, {"title": "Not Found", "type": "about:blank", "status": 404})

    def _x_hide(self, user_id: str, tweet_id: str, request: Request) -> dict[str, Any]:
        """Hide or unhide a reply: only in a conversation ``user_id`` started, never the
        conversation's first post; the same state twice succeeds."""
        payload = request.json()
        hidden = payload.get("hidden") if isinstance(payload, dict) else None
        if not isinstance(hidden, bool):
            raise Answer.recorded("x", "error_400_invalid_request")
        tweet = self.x_tweets.get(tweet_id)
        if tweet is None or tweet.get("_deleted"):
            raise Answer(404, {"title": "Not Found Error", "type": "about:blank", "status": 404})
        root = self.x_tweets.get(tweet.get("conversation_id", ""))
        if root is None or root["author_id"] != user_id or root["id"] == tweet_id:
            raise Answer.recorded("x", "error_403_hide_not_permitted")
        tweet["_hidden"] = hidden
        body = copy.deepcopy(recording("x", "tweets_hidden").body)
        body["data"]["hidden"] = hidden
        return dict(body)

    def x_is_hidden(self, tweet_id: str) -> bool:
        with self.lock:
            return bool(self.x_tweets.get(tweet_id, {}).get("_hidden"))

    def x_media_of(self, user_id: str, text: str) -> list[str]:
        """SHA-256 of each media item on ``user_id``'s post with ``text``."""
        with self.lock:
            for tweet in self.x_tweets.values():
                if (
                    tweet["author_id"] == user_id
                    and tweet["_original"] == text
                    and not tweet.get("_deleted")
                ):
                    keys = tweet.get("attachments", {}).get("media_keys", [])
                    return [self.x_media[key].get("_sha256", "") for key in keys]
            return []

    def _x_token_endpoint(self, request: Request) -> dict[str, Any]:
        form, _ = request.form()
        auth = request.headers.get("authorization", "")
        client_id = form.get("client_id", "")
        if auth.startswith("Basic "):
            decoded = base64.b64decode(auth[6:]).decode()
            client_id, _, secret = decoded.partition(":")
            if self.x_clients.get(client_id) != secret:
                raise Answer(
                    401,
                    {
                        "error": "unauthorized_client",
                        "error_description": "Missing valid authorization header",
                    },
                )
        if client_id not in self.x_clients:
            raise Answer.recorded("x", "oauth2_token_invalid")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            issued = self.x_codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            if (
                issued is None
                or issued["client_id"] != client_id
                or issued["redirect_uri"] != form.get("redirect_uri")
                or issued["challenge"] != challenge
            ):
                raise Answer.recorded("x", "oauth2_token_invalid")
            user_id = issued["user_id"]
        elif grant == "refresh_token":
            user_id_or_none = self.x_refresh.pop(form.get("refresh_token", ""), None)
            if user_id_or_none is None:
                raise Answer.recorded("x", "oauth2_token_invalid")
            user_id = user_id_or_none
        else:
            raise Answer.recorded("x", "oauth2_token_invalid")
        access, refresh = self.issue_x_token(user_id)
        body = dict(recording("x", "oauth2_token").body)
        body.update({"access_token": access, "refresh_token": refresh})
        return body

    def x_authorize(self, authorize_url: str, user_id: str = X_FORCE_ID) -> tuple[str, str]:
        """What X's consent page does: check the request, return (code, state) as the
        redirect back to the app would carry them."""
        parts = urlsplit(authorize_url)
        query = dict(parse_qsl(parts.query))
        if (parts.scheme, parts.netloc, parts.path) != ("https", "x.com", "/i/oauth2/authorize"):
            raise ValueError(f"not X's authorize endpoint: {authorize_url}")
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            raise ValueError("X requires response_type=code and code_challenge_method=S256")
        if query.get("client_id") not in self.x_clients or not query.get("state"):
            raise ValueError("unknown client or missing state")
        if not query.get("code_challenge"):
            raise ValueError("missing PKCE code_challenge")
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.x_codes[code] = {
                "client_id": query["client_id"],
                "redirect_uri": query.get("redirect_uri", ""),
                "challenge": query["code_challenge"],
                "user_id": user_id,
                "scope": query.get("scope", ""),
            }
        return code, query["state"]

    @staticmethod
    def _requested(request: Request, name: str) -> set[str]:
        return {value for value in request.query.get(name, "").split(",") if value}

    def _x_user_view(self, user: dict[str, Any], request: Request) -> dict[str, Any]:
        wanted = {"id", "name", "username"} | self._requested(request, "user.fields")
        return {key: value for key, value in user.items() if key in wanted}

    def _x_tweet_view(self, tweet: dict[str, Any], request: Request) -> dict[str, Any]:
        wanted = {"id", "text", "edit_history_tweet_ids"} | self._requested(request, "tweet.fields")
        return {
            key: copy.deepcopy(value)
            for key, value in tweet.items()
            if key in wanted and not key.startswith("_")
        }

    def _x_includes(self, tweets: list[dict[str, Any]], request: Request) -> dict[str, Any]:
        expansions = self._requested(request, "expansions")
        includes: dict[str, Any] = {}
        if "author_id" in expansions:
            users: dict[str, dict[str, Any]] = {}
            for tweet in tweets:
                author = self.x_users.get(tweet.get("author_id", ""))
                if author:
                    users[author["id"]] = self._x_user_view(author, request)
            if users:
                includes["users"] = list(users.values())
        if "attachments.media_keys" in expansions:
            wanted = {"media_key", "type"} | self._requested(request, "media.fields")
            media = [
                {key: value for key, value in self.x_media[media_key].items() if key in wanted}
                for tweet in tweets
                for media_key in tweet.get("attachments", {}).get("media_keys", [])
                if media_key in self.x_media
            ]
            if media:
                includes["media"] = media
        return includes

    def _x_user_by_name(self, username: str, request: Request) -> dict[str, Any]:
        for user in self.x_users.values():
            if user["username"].lower() == username.lower():
                return {"data": self._x_user_view(user, request)}
        body = json.loads(
            json.dumps(recording("x", "users_by_username_not_found").body).replace(
                "nosuchaccount", username
            )
        )
        return dict(body)

    def _x_mentions(self, user_id: str) -> list[dict[str, Any]]:
        username = self.x_users[user_id]["username"]
        pattern = re.compile(rf"@{re.escape(username)}\b", re.IGNORECASE)
        return [
            tweet
            for tweet in self.x_tweets.values()
            if tweet["author_id"] != user_id
            and (pattern.search(tweet["_original"]) or tweet.get("in_reply_to_user_id") == user_id)
        ]

    def _x_timeline(self, user_id: str, kind: str, request: Request) -> dict[str, Any]:
        if user_id not in self.x_users:
            raise Answer(404, {"title": "Not Found Error", "type": "about:blank"})
        try:
            max_results = int(request.query.get("max_results", "10"))
        except ValueError:
            max_results = 0
        if not 5 <= max_results <= 100:
            raise Answer.recorded("x", "error_400_invalid_request")
        if kind == "mentions":
            tweets = self._x_mentions(user_id)
        else:
            tweets = [tweet for tweet in self.x_tweets.values() if tweet["author_id"] == user_id]
        tweets = [tweet for tweet in tweets if not tweet.get("_deleted")]
        if since_id := request.query.get("since_id"):
            tweets = [tweet for tweet in tweets if int(tweet["id"]) > int(since_id)]
        if start := request.query.get("start_time"):
            floor = datetime.fromisoformat(start.replace("Z", "+00:00"))
            tweets = [
                tweet
                for tweet in tweets
                if datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00")) >= floor
            ]
        tweets.sort(key=lambda tweet: int(tweet["id"]), reverse=True)
        offset = 0
        if token := request.query.get("pagination_token"):
            offset = int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
        page = tweets[offset : offset + max_results]
        body: dict[str, Any] = {}
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            body["data"] = [self._x_tweet_view(tweet, request) for tweet in page]
            includes = self._x_includes(page, request)
            if includes:
                body["includes"] = includes
            meta["newest_id"] = page[0]["id"]
            meta["oldest_id"] = page[-1]["id"]
        if offset + max_results < len(tweets):
            meta["next_token"] = (
                base64.urlsafe_b64encode(str(offset + max_results).encode()).decode().rstrip("=")
            )
        body["meta"] = meta
        return body

    def _x_lookup(self, request: Request) -> dict[str, Any]:
        ids = [value for value in request.query.get("ids", "").split(",") if value]
        if not 1 <= len(ids) <= 100:
            raise Answer.recorded("x", "error_400_invalid_request")
        template = recording("x", "tweets_lookup_partial").body["errors"][0]
        found, errors = [], []
        for tweet_id in ids:
            tweet = self.x_tweets.get(tweet_id)
            if tweet is None or tweet.get("_deleted"):
                errors.append(
                    json.loads(json.dumps(template).replace("1990000000000000999", tweet_id))
                )
            else:
                found.append(tweet)
        body: dict[str, Any] = {}
        if found:
            body["data"] = [self._x_tweet_view(tweet, request) for tweet in found]
            includes = self._x_includes(found, request)
            if includes:
                body["includes"] = includes
        if errors:
            body["errors"] = errors
        return body

    LINK = re.compile(
        r"https?://\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:uk|com|org|net|gov)(?:/\S*)?",
        re.IGNORECASE,
    )

    def _x_create(self, user_id: str, request: Request) -> dict[str, Any]:
        payload = request.json()
        original = payload.get("text") if isinstance(payload, dict) else None
        if not isinstance(original, str) or not original:
            raise Answer.recorded("x", "error_400_invalid_request")
        day_ago = datetime.now(UTC) - timedelta(days=1)
        for tweet in self.x_tweets.values():
            if (
                tweet["author_id"] == user_id
                and not tweet.get("_deleted")
                and tweet["_original"] == original
                and datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00")) > day_ago
            ):
                raise Answer.recorded("x", "error_403_duplicate")
        tweet_id = self._snowflake()
        now = datetime.now(UTC)
        stored: dict[str, Any] = {
            "id": tweet_id,
            "author_id": user_id,
            "created_at": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
            "conversation_id": tweet_id,
            "edit_history_tweet_ids": [tweet_id],
            "public_metrics": {
                "retweet_count": 0,
                "reply_count": 0,
                "like_count": 0,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 0,
            },
            "_original": original,
        }
        text = original
        reply_to = (payload.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to:
            parent = self.x_tweets.get(str(reply_to))
            if parent is None or parent.get("_deleted"):
                raise Answer.recorded("x", "error_400_invalid_request")
            stored["conversation_id"] = parent.get("conversation_id", parent["id"])
            stored["in_reply_to_user_id"] = parent["author_id"]
            stored["referenced_tweets"] = [{"type": "replied_to", "id": parent["id"]}]
            if parent["author_id"] != user_id:
                text = f"@{self.x_users[parent['author_id']]['username']} {text}"
        media_ids = (payload.get("media") or {}).get("media_ids") or []
        if media_ids:
            stored["attachments"] = {"media_keys": [f"3_{media_id}" for media_id in media_ids]}
        expanded: list[str] = []

        def shorten(match: re.Match[str]) -> str:
            expanded.append(match.group())
            return (
                "https://t.co/" + secrets.token_urlsafe(8).replace("-", "x").replace("_", "y")[:10]
            )

        text = html.escape(self.LINK.sub(shorten, text), quote=False)
        urls = []
        for index, match in enumerate(re.finditer(r"https://t\.co/\w+", text)):
            target = expanded[index]
            full = target if target.startswith("http") else f"https://{target}"
            urls.append(
                {
                    "start": match.start(),
                    "end": match.end(),
                    "url": match.group(),
                    "expanded_url": full,
                    "display_url": full.split("://", 1)[1][:30],
                }
            )
        if urls:
            stored["entities"] = {"urls": urls}
        stored["text"] = text
        self.x_tweets[tweet_id] = stored
        body = copy.deepcopy(recording("x", "tweets_create").body)
        body["data"].update({"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]})
        return dict(body)

    # -- X: what the harness does on the platform side ----------------------------------

    def x_post_as(self, user_id: str, text: str, reply_to: str = "") -> str:
        payload: dict[str, Any] = {"text": text}
        if reply_to:
            payload["reply"] = {"in_reply_to_tweet_id": reply_to}
        request = Request("POST", "/2/tweets", {}, {}, json.dumps(payload).encode())
        with self.lock:
            return str(self._x_create(user_id, request)["data"]["id"])

    def x_posts_with_text(self, user_id: str, text: str) -> int:
        with self.lock:
            return sum(
                1
                for tweet in self.x_tweets.values()
                if tweet["author_id"] == user_id
                and tweet["_original"] == text
                and not tweet.get("_deleted")
            )

    # == Graph =========================================================================

    def _load_graph(self) -> None:
        page = recording("meta", "page").body
        self.g_objects[page["id"]] = {**page, "_type": "page", "_admins": [META_ADMIN_ID]}
        self.g_objects[META_ADMIN_ID] = {"id": META_ADMIN_ID, "name": "Pat Admin", "_type": "user"}
        for post in recording("meta", "page_feed").body["data"]:
            comments = post.get("comments", {}).get("data", [])
            stored = {k: v for k, v in post.items() if k != "comments"}
            stored.update({"_type": "post", "_page": META_PAGE_ID, "_reactions": 0, "_shares": 0})
            self.g_objects[post["id"]] = stored
            for comment in comments:
                self.g_objects[comment["id"]] = {
                    **comment,
                    "_type": "comment",
                    "_post": post["id"],
                    "_reactions": 0,
                }
        ig_user = recording("meta", "ig_user").body
        self.g_objects[ig_user["id"]] = {
            **ig_user,
            "_type": "iguser",
            "biography": "",
            "followers_count": 9120,
        }
        discovered = recording("meta", "ig_business_discovery").body["business_discovery"]
        self.g_objects[discovered["id"]] = {**discovered, "_type": "iguser"}
        for media in recording("meta", "ig_media").body["data"]:
            comments = media.get("comments", {}).get("data", [])
            stored = {k: v for k, v in media.items() if k not in ("comments", "comments_count")}
            stored.update({"_type": "igmedia", "_owner": META_IG_ID, "username": META_IG_USERNAME})
            self.g_objects[media["id"]] = stored
            for comment in comments:
                replies = comment.get("replies", {}).get("data", [])
                top = {k: v for k, v in comment.items() if k != "replies"}
                self.g_objects[comment["id"]] = {
                    **top,
                    "_type": "igcomment",
                    "_media": media["id"],
                    "media": {"id": media["id"]},
                }
                for reply in replies:
                    self.g_objects[reply["id"]] = {
                        **reply,
                        "_type": "igcomment",
                        "_media": media["id"],
                        "media": {"id": media["id"]},
                    }
        for media in recording("meta", "ig_tags").body["data"]:
            self.g_objects[media["id"]] = {
                **media,
                "_type": "igmedia",
                "_owner": "",
                "_tagged": META_IG_ID,
            }

    def _graph_id(self) -> str:
        return str(next(self._ids))

    def _graph_now(self) -> str:
        """Graph times have one-second resolution; the stand-in gives each new object
        its own second (running ahead of the wall clock when many are made at once), so
        that "oldest first" has one right answer in the tests."""
        now = datetime.now(UTC).replace(microsecond=0)
        if self._last_graph_time is not None and now <= self._last_graph_time:
            now = self._last_graph_time + timedelta(seconds=1)
        self._last_graph_time = now
        return _graph_time(now)

    def issue_graph_token(
        self, *, kind: str = "page", user_id: str = META_ADMIN_ID, lifetime: float = 5183944
    ) -> str:
        with self.lock:
            token = "EAA" + secrets.token_urlsafe(40).replace("-", "A").replace("_", "B")
            self.g_tokens[token] = {
                "kind": kind,
                "user": user_id,
                "expires": time.time() + lifetime,
                "revoked": "",
            }
            return token

    def revoke_graph_token(self, token: str, recording_name: str = "error_190_463_expired") -> None:
        """Make ``token`` fail with a recorded code-190 error (expiry, password change...)."""
        with self.lock:
            if token in self.g_tokens:
                self.g_tokens[token]["revoked"] = recording_name

    def _graph_auth(self, request: Request, params: dict[str, str]) -> dict[str, Any]:
        token = params.get("access_token", "")
        header = request.headers.get("authorization", "")
        if not token and header.startswith(("Bearer ", "OAuth ")):
            token = header.split(" ", 1)[1]
        info = self.g_tokens.get(token)
        if info is None:
            raise Answer.recorded("meta", "error_190_invalid_token")
        if info["revoked"]:
            raise Answer.recorded("meta", info["revoked"])
        if info["expires"] < time.time():
            raise Answer.recorded("meta", "error_190_463_expired")
        return info

    def g_authorize(self, authorize_url: str, user_id: str = META_ADMIN_ID) -> tuple[str, str]:
        """What Facebook Login's dialog does; returns (code, state)."""
        parts = urlsplit(authorize_url)
        query = dict(parse_qsl(parts.query))
        if parts.netloc != "www.facebook.com" or not re.fullmatch(
            r"/v\d+\.\d+/dialog/oauth", parts.path
        ):
            raise ValueError(f"not the Facebook Login dialog: {authorize_url}")
        if query.get("client_id") not in self.g_apps or not query.get("state"):
            raise ValueError("unknown app or missing state")
        if query.get("response_type", "code") != "code":
            raise ValueError("response_type must be code")
        code = secrets.token_urlsafe(32)
        with self.lock:
            self.g_codes[code] = {
                "client_id": query["client_id"],
                "redirect_uri": query.get("redirect_uri", ""),
                "user": user_id,
                "scope": query.get("scope", ""),
            }
        return code, query["state"]

    def _graph(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        path = request.path.split("/", 2)[2].strip("/")
        form, files = request.form() if request.method == "POST" else ({}, {})
        params = {**request.query, **form}
        if path == "oauth/access_token":
            return 200, self._graph_oauth(params), {}
        token = self._graph_auth(request, params)
        headers = {
            "x-app-usage": json.dumps({"call_count": 1, "total_cputime": 1, "total_time": 1})
        }
        segments = path.split("/")
        if segments == ["me", "accounts"]:
            return 200, self._graph_accounts(token, params), headers
        node = self._node(segments[0])
        if len(segments) == 1:
            if request.method == "GET":
                return 200, self._render(node, self._specs(node, params)), headers
            if request.method == "DELETE":
                node["_deleted"] = True
                return 200, recording("meta", "delete_success").body, headers
            if request.method == "POST":
                return 200, self._update(node, params), headers
        elif len(segments) == 2:
            edge = segments[1]
            if edge not in GRAPH_EDGES.get(node["_type"], set()):
                raise Answer.recorded(
                    "meta",
                    "error_100_nonexisting_field",
                    field=edge,
                    node=NODE_NAMES[node["_type"]],
                )
            if request.method == "GET":
                return 200, self._edge_response(node, edge, params, top_level=True), headers
            if request.method == "POST":
                return 200, self._create(node, edge, params, files, request.fetched), headers
        raise Answer.recorded("meta", "error_100_invalid_parameter")

    def _graph_oauth(self, params: dict[str, str]) -> dict[str, Any]:
        if self.g_apps.get(params.get("client_id", "")) != params.get("client_secret"):
            raise Answer.recorded("meta", "error_190_invalid_token")
        if params.get("grant_type") == "fb_exchange_token":
            info = self.g_tokens.get(params.get("fb_exchange_token", ""))
            if info is None or info["revoked"] or info["kind"] != "user":
                raise Answer.recorded("meta", "error_190_invalid_token")
            token = self.issue_graph_token(kind="user", user_id=info["user"])
            body = dict(recording("meta", "oauth_access_token").body)
            body["access_token"] = token
            return body
        issued = self.g_codes.pop(params.get("code", ""), None)
        if (
            issued is None
            or issued["client_id"] != params.get("client_id")
            or issued["redirect_uri"] != params.get("redirect_uri")
        ):
            raise Answer.recorded("meta", "oauth_error_code_used")
        token = self.issue_graph_token(kind="user", user_id=issued["user"], lifetime=3600)
        body = dict(recording("meta", "oauth_access_token").body)
        body.update({"access_token": token, "expires_in": 3600})
        return body

    def _graph_accounts(self, token: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        if token["kind"] != "user":
            raise Answer.recorded("meta", "error_100_invalid_parameter")
        template = recording("meta", "me_accounts").body["data"][0]
        pages = []
        for obj in self.g_objects.values():
            if obj["_type"] == "page" and token["user"] in obj.get("_admins", []):
                page_token = self.g_page_tokens.get(obj["id"])
                if page_token is None or page_token not in self.g_tokens:
                    page_token = self.issue_graph_token(kind="page", user_id=token["user"])
                    self.g_page_tokens[obj["id"]] = page_token
                full = {
                    **template,
                    "id": obj["id"],
                    "name": obj["name"],
                    "access_token": page_token,
                    "instagram_business_account": {"id": META_IG_ID, "username": META_IG_USERNAME},
                }
                specs = parse_fields(params.get("fields", "id,name,access_token"))
                pages.append(self._project(full, specs))
        return {"data": pages, "paging": recording("meta", "me_accounts").body["paging"]}

    def page_token(self) -> str:
        """The force Page's access token (as ``/me/accounts`` would give it)."""
        with self.lock:
            token = self.g_page_tokens.get(META_PAGE_ID)
            if token is None:
                token = self.issue_graph_token(kind="page")
                self.g_page_tokens[META_PAGE_ID] = token
            return token

    def _node(self, node_id: str) -> dict[str, Any]:
        node = self.g_objects.get(node_id)
        if node is None or node.get("_deleted"):
            raise Answer.recorded("meta", "error_100_33_does_not_exist", id=node_id)
        return node

    def _specs(self, node: dict[str, Any], params: dict[str, str]) -> list[FieldSpec]:
        try:
            return parse_fields(params.get("fields") or GRAPH_DEFAULT_FIELDS[node["_type"]])
        except ValueError:
            raise Answer.recorded("meta", "error_100_invalid_parameter") from None

    def _project(self, value: Any, specs: list[FieldSpec] | None) -> Any:
        """A plain dict filtered by sub-field specs (``from{id,name}``)."""
        if not specs or not isinstance(value, dict):
            return copy.deepcopy(value)
        return {
            spec.name: self._project(value[spec.name], spec.children)
            for spec in specs
            if spec.name in value
        }

    def _render(self, node: dict[str, Any], specs: list[FieldSpec]) -> dict[str, Any]:
        kind = node["_type"]
        out: dict[str, Any] = {}
        for spec in specs:
            name = spec.name
            if name in GRAPH_EDGES.get(kind, set()):
                edge = self._edge_response(node, name, spec.modifiers, spec=spec)
                if edge["data"] or "summary" in edge:  # Graph leaves out empty edges
                    out[name] = edge
            elif name not in GRAPH_FIELDS[kind]:
                raise Answer.recorded(
                    "meta", "error_100_nonexisting_field", field=name, node=NODE_NAMES[kind]
                )
            elif name == "shares":
                if node.get("_shares"):
                    out["shares"] = {"count": node["_shares"]}
            elif name == "comments_count":  # replies to comments included
                out[name] = sum(
                    1
                    for obj in self.g_objects.values()
                    if obj["_type"] == "igcomment"
                    and obj.get("_media") == node["id"]
                    and not obj.get("_deleted")
                )
            elif name == "business_discovery":
                wanted = spec.modifiers.get("username", "")
                found = next(
                    (
                        obj
                        for obj in self.g_objects.values()
                        if obj["_type"] == "iguser" and obj.get("username") == wanted
                    ),
                    None,
                )
                if found is None:
                    raise Answer.recorded("meta", "error_100_invalid_parameter")
                out[name] = self._render(found, spec.children or parse_fields("id,username"))
            elif name in node:
                out[name] = self._project(node[name], spec.children)
        out.setdefault("id", node["id"])
        return out

    def _children(
        self, node: dict[str, Any], edge: str, modifiers: dict[str, str]
    ) -> list[dict[str, Any]]:
        kind, node_id = node["_type"], node["id"]
        live = [obj for obj in self.g_objects.values() if not obj.get("_deleted")]
        newest_first = True
        if kind == "page" and edge == "feed":
            items = [obj for obj in live if obj["_type"] == "post" and obj["_page"] == node_id]
        elif kind == "page" and edge == "posts":
            items = [
                obj
                for obj in live
                if obj["_type"] == "post"
                and obj["_page"] == node_id
                and obj["from"]["id"] == node_id
            ]
            if since := modifiers.get("since"):
                floor = datetime.fromtimestamp(int(since), tz=UTC)
                items = [obj for obj in items if _when(obj["created_time"]) >= floor]
        elif kind == "page" and edge == "photos":
            items = [obj for obj in live if obj["_type"] == "photo" and obj["_page"] == node_id]
        elif edge == "comments" and kind == "post":
            items = [obj for obj in live if obj["_type"] == "comment" and obj["_post"] == node_id]
            if modifiers.get("filter", "toplevel") != "stream":
                items = [obj for obj in items if "parent" not in obj]
            newest_first = modifiers.get("order") == "reverse_chronological"
        elif edge == "comments" and kind == "comment":
            items = [
                obj
                for obj in live
                if obj["_type"] == "comment" and obj.get("parent", {}).get("id") == node_id
            ]
            newest_first = modifiers.get("order") == "reverse_chronological"
        elif edge == "reactions":
            items = [{"id": f"7019{i:012d}", "type": "LIKE"} for i in range(node["_reactions"])]
        elif kind == "iguser" and edge == "media":
            items = [obj for obj in live if obj["_type"] == "igmedia" and obj["_owner"] == node_id]
        elif kind == "iguser" and edge == "tags":
            items = [
                obj for obj in live if obj["_type"] == "igmedia" and obj.get("_tagged") == node_id
            ]
        elif kind == "igmedia" and edge == "comments":
            items = [
                obj
                for obj in live
                if obj["_type"] == "igcomment"
                and obj["_media"] == node_id
                and "parent_id" not in obj
            ]
        elif kind == "igcomment" and edge == "replies":
            items = [
                obj
                for obj in live
                if obj["_type"] == "igcomment" and obj.get("parent_id") == node_id
            ]
            newest_first = False
        else:
            raise Answer.recorded("meta", "error_100_invalid_parameter")
        if edge != "reactions":
            items.sort(
                key=lambda obj: (_when(obj.get("created_time") or obj.get("timestamp")), obj["id"]),
                reverse=newest_first,
            )
        return items

    def _edge_response(
        self,
        node: dict[str, Any],
        edge: str,
        params: dict[str, str],
        *,
        spec: FieldSpec | None = None,
        top_level: bool = False,
    ) -> dict[str, Any]:
        items = self._children(node, edge, params)
        try:
            limit = int(params.get("limit", "25"))
        except ValueError:
            raise Answer.recorded("meta", "error_100_invalid_parameter") from None
        offset = _offset(params["after"]) if params.get("after") else 0
        page = items[offset : offset + limit]
        if spec is not None:
            child_specs = spec.children
        else:
            child_specs = None
            if top_level and params.get("fields"):
                child_specs = parse_fields(params["fields"])
        rendered = []
        for item in page:
            if "_type" not in item:
                rendered.append(dict(item))
                continue
            rendered.append(self._render(item, child_specs or self._specs(item, {})))
        body: dict[str, Any] = {"data": rendered}
        if items and limit:
            body["paging"] = {
                "cursors": {"before": _cursor(offset), "after": _cursor(offset + len(page))}
            }
            if offset + limit < len(items):
                body["paging"]["next"] = (
                    f"https://graph.facebook.com/v26.0/{node['id']}/{edge}"
                    f"?limit={limit}&after={_cursor(offset + len(page))}"
                )
        if "summary" in params:
            body["summary"] = {"total_count": len(items)}
        return body

    def _update(self, node: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        """``POST /{id}``: hiding a comment (``is_hidden`` on Facebook, ``hide`` on
        Instagram) is the only update the connectors make."""
        flag = {"comment": "is_hidden", "igcomment": "hide"}.get(node["_type"])
        if flag is None or params.get(flag) not in ("true", "false"):
            raise Answer.recorded("meta", "error_100_invalid_parameter")
        node["is_hidden" if flag == "is_hidden" else "hidden"] = params[flag] == "true"
        name = "comment_hide" if flag == "is_hidden" else "ig_comment_hide"
        return dict(recording("meta", name).body)

    def g_is_hidden(self, object_id: str) -> bool:
        with self.lock:
            node = self.g_objects.get(object_id, {})
            return bool(node.get("is_hidden") or node.get("hidden"))

    def _create(
        self,
        node: dict[str, Any],
        edge: str,
        params: dict[str, str],
        files: dict[str, bytes],
        fetched: dict[str, Fetched] | None = None,
    ) -> dict[str, Any]:
        kind, node_id = node["_type"], node["id"]
        now = self._graph_now()
        if kind == "page" and edge == "feed":
            message = params.get("message", "")
            attached = [
                json.loads(value)["media_fbid"]
                for key, value in sorted(params.items())
                if key.startswith("attached_media[")
            ]
            for photo_id in attached:
                photo = self.g_objects.get(photo_id)
                if photo is None or photo["_type"] != "photo" or photo.get("_published"):
                    raise Answer.recorded("meta", "error_100_invalid_parameter")
            if not message and not attached:
                raise Answer.recorded("meta", "error_100_invalid_parameter")
            post_id = self._page_post(node, message, now)
            for photo_id in attached:
                self.g_objects[photo_id]["_published"] = True
                self.g_objects[photo_id]["_post_id"] = post_id
            return {"id": post_id}
        if kind == "page" and edge == "photos":
            if "source" not in files and "url" not in params:
                raise Answer.recorded("meta", "error_100_invalid_parameter")
            photo_id = self._graph_id()
            published = params.get("published", "true") != "false"
            self.g_objects[photo_id] = {
                "id": photo_id,
                "_type": "photo",
                "_page": node_id,
                "created_time": now,
                "_published": published,
                "_sha256": hashlib.sha256(files["source"]).hexdigest() if "source" in files else "",
            }
            if not published:
                return {"id": photo_id}
            post_id = self._page_post(node, params.get("message", ""), now)
            self.g_objects[photo_id]["_post_id"] = post_id
            return {"id": photo_id, "post_id": post_id}
        if edge == "comments" and kind in ("post", "comment"):
            message = params.get("message", "")
            if not message:
                raise Answer.recorded("meta", "error_100_invalid_parameter")
            post = node if kind == "post" else self.g_objects[node["_post"]]
            page = self.g_objects[post["_page"]]
            return {"id": self.fb_comment(page["id"], page["name"], node_id, message)}
        if (kind == "igmedia" and edge == "comments") or (
            kind == "igcomment" and edge == "replies"
        ):
            message = params.get("message", "")
            if not message:
                raise Answer.recorded("meta", "error_100_invalid_parameter")
            return {"id": self.ig_comment(META_IG_USERNAME, node_id, message)}
        if kind == "iguser" and edge == "media":
            return {"id": self._ig_container(node, params, fetched or {})}
        if kind == "iguser" and edge == "media_publish":
            container = self.g_objects.get(params.get("creation_id", ""))
            if (
                container is None
                or container["_type"] != "igcontainer"
                or container["status_code"] != "FINISHED"
                or container.get("_carousel_item")
            ):
                raise Answer.recorded("meta", "error_100_invalid_parameter")
            media_id = str(17_950_000_000_000_000 + next(self._ids) % 1_000_000_000)
            shortcode = base64.urlsafe_b64encode(media_id.encode()).decode()[:11]
            self.g_objects[media_id] = {
                "id": media_id,
                "_type": "igmedia",
                "_owner": node_id,
                "caption": container.get("_caption", ""),
                "timestamp": now,
                "permalink": f"https://www.instagram.com/p/{shortcode}/",
                "media_type": container.get("_media_type", "IMAGE"),
                "media_url": container.get("_image_url", ""),
                "username": node.get("username", ""),
                "like_count": 0,
                "_sha256": container.get("_sha256", []),
            }
            container["status_code"] = "PUBLISHED"
            return {"id": media_id}
        raise Answer.recorded("meta", "error_100_invalid_parameter")

    def _page_post(self, page: dict[str, Any], message: str, now: str) -> str:
        post_object = self._graph_id()
        post_id = f"{page['id']}_{post_object}"
        self.g_objects[post_id] = {
            "id": post_id,
            "_type": "post",
            "_page": page["id"],
            "message": message,
            "created_time": now,
            "from": {"name": page["name"], "id": page["id"]},
            "permalink_url": (
                f"https://www.facebook.com/{page.get('username', page['id'])}/posts/{post_object}"
            ),
            "_reactions": 0,
            "_shares": 0,
        }
        if not message:
            del self.g_objects[post_id]["message"]
        return post_id

    def _ig_container(
        self, owner: dict[str, Any], params: dict[str, str], fetched: dict[str, Fetched]
    ) -> str:
        media_type = params.get("media_type", "IMAGE")
        container_id = str(17_890_000_000_000_000 + next(self._ids) % 1_000_000_000)
        container: dict[str, Any] = {
            "id": container_id,
            "_type": "igcontainer",
            "status_code": "FINISHED",
            "status": "Finished: Media has been uploaded and it is ready to be published.",
            "_caption": params.get("caption", ""),
            "_media_type": media_type,
            "_carousel_item": params.get("is_carousel_item") == "true",
        }
        if media_type == "CAROUSEL":
            children = [value for value in params.get("children", "").split(",") if value]
            if not 2 <= len(children) <= 10 or any(
                self.g_objects.get(child, {}).get("_type") != "igcontainer" for child in children
            ):
                raise Answer.recorded("meta", "error_100_invalid_parameter")
            container["_media_type"] = "CAROUSEL_ALBUM"
            container["_sha256"] = [
                digest for child in children for digest in self.g_objects[child]["_sha256"]
            ]
        else:
            image_url = params.get("image_url", "")
            if not image_url.startswith(("http://", "https://")):
                raise Answer.recorded("meta", "error_100_invalid_parameter")
            download = fetched.get(image_url)
            if (
                download is None
                or download.status != 200
                or download.content_type != "image/jpeg"
                or not download.data.startswith(b"\xff\xd8\xff")
            ):
                raise Answer.recorded("meta", "ig_error_9004_media_fetch", url=image_url)
            container["_image_url"] = image_url
            container["_sha256"] = [hashlib.sha256(download.data).hexdigest()]
        self.g_objects[container_id] = container
        return container_id

    # -- Graph: what the harness does on the platform side ------------------------------

    def fb_visitor_post(self, author_id: str, author_name: str, message: str) -> str:
        with self.lock:
            page = self.g_objects[META_PAGE_ID]
            post_id = self._page_post(page, message, self._graph_now())
            self.g_objects[post_id]["from"] = {"name": author_name, "id": author_id}
            return post_id

    def fb_comment(self, author_id: str, author_name: str, object_id: str, message: str) -> str:
        """A comment on a post, or a reply to a comment, by anyone."""
        with self.lock:
            target = self._node(object_id)
            post_id = object_id if target["_type"] == "post" else target["_post"]
            comment_id = f"{post_id.split('_', 1)[1]}_{self._graph_id()}"
            comment: dict[str, Any] = {
                "id": comment_id,
                "_type": "comment",
                "_post": post_id,
                "_reactions": 0,
                "message": message,
                "created_time": self._graph_now(),
                "from": {"name": author_name, "id": author_id},
                "permalink_url": f"https://www.facebook.com/{post_id}?comment_id={comment_id}",
            }
            if target["_type"] == "comment":
                comment["parent"] = {"id": object_id}
            self.g_objects[comment_id] = comment
            return comment_id

    def fb_page_posts_with_text(self, text: str) -> int:
        with self.lock:
            return sum(
                1
                for obj in self.g_objects.values()
                if obj["_type"] in ("post", "comment")
                and not obj.get("_deleted")
                and obj.get("from", {}).get("id") == META_PAGE_ID
                and obj.get("message") == text
            )

    def fb_media_of(self, text: str) -> list[str]:
        """SHA-256 of each photo on the Page's post with ``text``."""
        with self.lock:
            posts = [
                obj["id"]
                for obj in self.g_objects.values()
                if obj["_type"] == "post"
                and not obj.get("_deleted")
                and obj.get("from", {}).get("id") == META_PAGE_ID
                and obj.get("message") == text
            ]
            return [
                obj["_sha256"]
                for obj in self.g_objects.values()
                if obj["_type"] == "photo" and obj.get("_post_id") in posts
            ]

    def ig_media_of(self, text: str) -> list[str]:
        """SHA-256 of each image Instagram downloaded for the account's post with ``text``."""
        with self.lock:
            for obj in self.g_objects.values():
                if (
                    obj["_type"] == "igmedia"
                    and obj.get("_owner") == META_IG_ID
                    and obj.get("caption") == text
                    and not obj.get("_deleted")
                ):
                    return list(obj.get("_sha256", []))
            return []

    def ig_comment(self, username: str, object_id: str, text: str) -> str:
        """A comment on a media object, or a reply to a comment, by ``username``."""
        with self.lock:
            target = self._node(object_id)
            comment_id = str(17_850_000_000_000_000 + next(self._ids) % 1_000_000_000)
            author_id = (
                META_IG_ID
                if username == META_IG_USERNAME
                else f"1784{abs(hash(username)) % 10**13:013d}"
            )
            comment: dict[str, Any] = {
                "id": comment_id,
                "_type": "igcomment",
                "text": text,
                "timestamp": self._graph_now(),
                "username": username,
                "from": {"id": author_id, "username": username},
                "like_count": 0,
            }
            if target["_type"] == "igcomment":
                comment["_media"] = target["_media"]
                comment["parent_id"] = object_id
            elif target["_type"] == "igmedia":
                comment["_media"] = object_id
            else:
                raise Answer.recorded("meta", "error_100_invalid_parameter")
            comment["media"] = {"id": comment["_media"]}
            self.g_objects[comment_id] = comment
            return comment_id

    def ig_tag(self, username: str, caption: str) -> str:
        """Someone else's media in which the force account is tagged."""
        with self.lock:
            media_id = str(17_960_000_000_000_000 + next(self._ids) % 1_000_000_000)
            self.g_objects[media_id] = {
                "id": media_id,
                "_type": "igmedia",
                "_owner": "",
                "_tagged": META_IG_ID,
                "caption": caption,
                "timestamp": self._graph_now(),
                "permalink": f"https://www.instagram.com/p/{media_id[-8:]}/",
                "username": username,
                "media_type": "IMAGE",
                "media_url": f"https://scontent.cdninstagram.example/{media_id}.jpg",
            }
            return media_id

    def ig_posts_with_text(self, text: str) -> int:
        with self.lock:
            return sum(
                1
                for obj in self.g_objects.values()
                if not obj.get("_deleted")
                and (
                    (
                        obj["_type"] == "igmedia"
                        and obj.get("_owner") == META_IG_ID
                        and obj.get("caption") == text
                    )
                    or (
                        obj["_type"] == "igcomment"
                        and obj.get("username") == META_IG_USERNAME
                        and obj.get("text") == text
                    )
                )
            )


def _when(value: Any) -> datetime:
    if not isinstance(value, str):
        return datetime.min.replace(tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
