"""Beatdesk itself over real HTTP, for platforms that fetch from it (Instagram images).

``public_site`` (one per session) serves the Django project from a thread on a free
loopback port, as ``BEATDESK_PUBLIC_URL`` would in production. ``public_media``
points ``BEATDESK_PUBLIC_URL`` at it and ``MEDIA_ROOT`` at a fresh folder for one test.
The signed-media view reads only storage, never the database, so the site works for
tests whether or not their data is committed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # signed links are short-lived capabilities: keep them out of test output


@dataclass
class PublicSite:
    url: str
    media_root: Path | None = None


@pytest.fixture(scope="session")
def public_site() -> Iterator[PublicSite]:
    server = ThreadedWSGIServer(("127.0.0.1", 0), _QuietHandler, allow_reuse_address=False)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield PublicSite(url=f"http://{host!s}:{port}")
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def public_media(public_site: PublicSite, settings: LazySettings, tmp_path: Path) -> PublicSite:
    """This test's uploads in their own folder, reachable through ``public_site``."""
    settings.BEATDESK_PUBLIC_URL = public_site.url
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return PublicSite(url=public_site.url, media_root=tmp_path / "media")
