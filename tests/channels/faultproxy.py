"""An HTTP proxy that breaks connections on purpose, for fault-injection tests.

Put it between a connector and a real (local) platform server by giving the
connector ``proxy.url`` as its base URL. Requests pass through unchanged unless a
rule matches; then, after the platform has *accepted and answered* the request:

* ``cut``: the proxy drops the client connection without a response, so the
  connector cannot know the outcome (the classic duplicate-post trigger);
* ``hold``: the proxy sets ``accepted`` and blocks until ``release()``, so a test can
  kill the worker process at exactly that moment;
* ``status``: the proxy answers ``status`` itself without forwarding (429, 503...).
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

import httpx

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class Rule:
    method: str
    path: str  # regular expression matched against the path (search)
    action: Literal["cut", "hold", "status"]
    times: int = 1  # how many matching requests the rule applies to
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    hits: int = 0


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.rules: list[Rule] = []
        self.accepted = threading.Event()
        self._release = threading.Event()
        self.log: list[tuple[str, str, int | None]] = []  # method, path, upstream status
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(self, rule: Rule) -> Rule:
        self.rules.append(rule)
        return rule

    def release(self) -> None:
        self._release.set()

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def _match(self, method: str, path: str) -> Rule | None:
        for rule in self.rules:
            if rule.hits < rule.times and rule.method == method and re.search(rule.path, path):
                rule.hits += 1
                return rule
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                rule = proxy._match(self.command, self.path)
                if rule and rule.action == "status":
                    proxy.log.append((self.command, self.path, None))
                    self._reply(rule.status, rule.headers, rule.body)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
                with httpx.Client(timeout=30) as client:
                    upstream = client.request(
                        self.command, proxy.upstream + self.path, headers=headers, content=body
                    )
                proxy.log.append((self.command, self.path, upstream.status_code))
                if rule and rule.action in {"cut", "hold"}:
                    if rule.action == "hold":
                        proxy.accepted.set()
                        proxy._release.wait(timeout=60)
                    else:
                        proxy.accepted.set()
                    self._drop()
                    return
                out_headers = {
                    k: v
                    for k, v in upstream.headers.items()
                    if k.lower() not in HOP_HEADERS and k.lower() != "content-encoding"
                }
                self._reply(upstream.status_code, out_headers, upstream.content)

            def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _drop(self) -> None:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

        return Handler
