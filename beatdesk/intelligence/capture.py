"""Fetch the media of cited messages into Beatdesk's own storage, once.

Platforms expire, resize and delete media, so the bytes are captured when a message is
first cited in a report, and kept with their SHA-256. Network work happens outside any
transaction; a failure is recorded (and shown in the bundle) rather than blocking the
report.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import datetime

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from beatdesk.channels import runtime
from beatdesk.channels.contract import ConnectorError
from beatdesk.channels.models import InboundMessage

from .models import CapturedMedia

logger = logging.getLogger("beatdesk.intelligence")
MAX_BYTES = 50 * 1024 * 1024
MAX_ITEMS = 8


def _fetch(url: str) -> tuple[bytes, str, str]:
    """(bytes, content type, error): error is "" on success."""
    if not url.startswith(("https://", "http://")):
        return b"", "", "not a web address"
    http = runtime.HTTP_FACTORY()
    try:
        response = http.request("GET", url)
    except ConnectorError as error:
        return b"", "", f"could not be fetched: {error.message}"[:300]
    finally:
        http.close()
    if response.status_code != 200:
        return b"", "", f"the platform answered HTTP {response.status_code}"
    if len(response.content) > MAX_BYTES:
        return b"", "", f"larger than {MAX_BYTES // (1024 * 1024)} MB"
    return response.content, response.headers.get("content-type", "")[:100], ""


def capture_media(
    messages: list[InboundMessage], now: datetime | None = None
) -> list[CapturedMedia]:
    """Capture every not-yet-captured media item of ``messages``; returns new rows."""
    now = now or timezone.now()
    done = {
        (c.message_id, c.position)
        for c in CapturedMedia.objects.filter(message__in=messages).only("message_id", "position")
    }
    created = []
    for message in messages:
        for position, item in enumerate(message.media[:MAX_ITEMS]):
            url = str(item.get("url", "")) if isinstance(item, dict) else ""
            if not url or (message.pk, position) in done:
                continue
            content, content_type, error = _fetch(url)
            row = CapturedMedia(
                message=message,
                position=position,
                url=url[:1000],
                content_type=content_type,
                captured_at=now,
                error=error,
            )
            if content:
                row.size = len(content)
                row.sha256 = hashlib.sha256(content).hexdigest()
                name = f"evidence/media/{message.agency_id}/{uuid.uuid4()}"
                row.file.name = default_storage.save(name, ContentFile(content))
            else:
                logger.info("media %s of message %s not captured: %s", position, message.pk, error)
            row.save()
            created.append(row)
    return created
