"""Images and videos that go out with posts.

* ``store_media`` keeps an upload in the default storage (``MEDIA_ROOT``) as a
  ``MediaFile``: its type is read from the bytes themselves (JPEG, PNG, GIF, MP4),
  never from a file name or a browser's claim; size and SHA-256 are recorded.
* ``check_media`` holds a queued post to what its platform takes
  (``Connector.media_rules``), so a refusal is an error on the page, not a failed post.
* ``outbound_media`` reads a delivery's files back when it is sent and checks size and
  SHA-256 again: a file changed or damaged in storage is never published.
* ``public_media_url`` is ``Connector.media_url`` for platforms that fetch images
  themselves (Instagram): a link under ``BEATDESK_PUBLIC_URL`` that needs no sign-in,
  names one stored file, and works for ``SIGNED_MEDIA_SECONDS`` (Django's
  ``TimestampSigner``; an expired link answers 410, a tampered one 404).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse

from beatdesk.agencies.access import agency_of
from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Agency, Staff
from beatdesk.audit.record import record_event

from .contract import ConnectorError, ErrorReason, MediaRules, OutboundMedia
from .models import MediaFile

MIB = 1024 * 1024
#: What Beatdesk keeps at all, and the largest file of each type: the most any
#: connected platform takes (Mastodon's defaults: images 16 MiB, videos 99 MiB).
#: Each platform's own, smaller limits are checked when a post is queued.
STORABLE: dict[str, int] = {
    "image/jpeg": 16 * MIB,
    "image/png": 16 * MIB,
    "image/gif": 16 * MIB,
    "video/mp4": 99 * MIB,
}
KIND_NAMES = {
    "image/jpeg": "JPEG image",
    "image/png": "PNG image",
    "image/gif": "GIF image",
    "video/mp4": "MP4 video",
}
#: The same, in the plural ("Instagram takes only JPEG images").
KIND_PLURALS = {key: f"{value}s" for key, value in KIND_NAMES.items()}
#: X's limit for image descriptions, the shortest of the platforms.
MAX_ALT_TEXT = 1000
SIGNED_MEDIA_SALT = "beatdesk.channels.media"
SIGNED_MEDIA_SECONDS = 15 * 60


def sniff(head: bytes) -> str:
    """The MIME type of a file from its first bytes, or "" when it is none we take."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    # ISO base media: a box size, then "ftyp" and the major brand. QuickTime ("qt  ")
    # shares the layout but is not MP4.
    if head[4:8] == b"ftyp" and head[8:12] != b"qt  ":
        return "video/mp4"
    return ""


def describe_size(size: int) -> str:
    """Sizes as people read them: limits given in round (decimal or binary) megabytes
    print as such; anything else in binary kilo- or megabytes."""
    if size < 1024:
        return f"{size} bytes"
    for unit in (1_000_000, MIB):
        if size >= unit and size % unit == 0:
            return f"{size // unit} MB"
    if size < MIB:
        return f"{round(size / 1024)} KB"
    return f"{size / MIB:.1f} MB"


def _types_phrase(types: Sequence[str]) -> str:
    names = [KIND_PLURALS.get(value, value) for value in types]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def store_media(
    *,
    actor: Staff | None,
    data: bytes | File[Any],
    alt_text: str = "",
    agency: Agency | None = None,
) -> MediaFile:
    """Keep one image or video for later posts. ``agency`` defaults to the actor's."""
    if agency is None:
        if actor is None:
            raise ActionError("Say which agency this file belongs to.")
        agency = agency_of(actor)
    largest = max(STORABLE.values())
    if isinstance(data, File) and data.size is not None and data.size > largest:
        raise ActionError(
            f"This file is {describe_size(data.size)}; the limit is {describe_size(largest)}."
        )
    content = data if isinstance(data, bytes) else _read(data)
    if not content:
        raise ActionError("This file is empty.")
    content_type = sniff(content[:16])
    if not content_type:
        raise ActionError(
            "Only JPEG, PNG and GIF images and MP4 videos can be attached; "
            "this file is none of those."
        )
    if len(content) > STORABLE[content_type]:
        raise ActionError(
            f"This {KIND_NAMES[content_type]} is {describe_size(len(content))}; "
            f"the limit is {describe_size(STORABLE[content_type])}."
        )
    alt_text = alt_text.strip()
    if len(alt_text) > MAX_ALT_TEXT:
        raise ActionError(
            f"Keep the description under {MAX_ALT_TEXT} characters (it has {len(alt_text)})."
        )
    media = MediaFile(
        agency=agency,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        alt_text=alt_text,
        uploaded_by=actor,
    )
    media.file.save("upload", ContentFile(content), save=False)
    try:
        with transaction.atomic():
            media.save()
            record_event(
                event_type="media.stored",
                actor=actor,
                actor_label="" if actor else "system",
                agency=agency,
                target=media,
                summary=f"{KIND_NAMES[content_type]} stored ({describe_size(media.size)})",
                data={"content_type": content_type, "size": media.size, "sha256": media.sha256},
            )
    except BaseException:
        media.file.delete(save=False)  # no row, no file
        raise
    return media


def _read(upload: File[Any]) -> bytes:
    upload.seek(0)
    chunks = [chunk for chunk in upload.chunks()]
    return b"".join(chunks)


def check_media(
    label: str, rules: MediaRules | None, media: Sequence[MediaFile], *, reply: bool
) -> None:
    """ActionError unless ``media`` is what one post (or reply) on the platform may carry."""
    if not media:
        if rules is not None and rules.required and not reply:
            raise ActionError(f"{label} posts need at least one image.")
        return
    if rules is None:
        raise ActionError(f"{label} posts cannot carry images or videos here.")
    if reply and not rules.on_replies:
        raise ActionError(f"{label} replies cannot carry images or videos.")
    if len(media) > rules.max_items:
        raise ActionError(
            f"{label} takes at most {rules.max_items} images or videos a post; "
            f"this one has {len(media)}."
        )
    for item in media:
        limit = rules.types.get(item.content_type)
        if limit is None:
            raise ActionError(
                f"{label} takes only {_types_phrase(list(rules.types))}, not "
                f"{KIND_PLURALS.get(item.content_type, item.content_type)}."
            )
        if item.size > limit:
            raise ActionError(
                f"{label} takes {KIND_PLURALS[item.content_type]} up to "
                f"{describe_size(limit)}; this one is {describe_size(item.size)}."
            )
    if rules.by_url and not settings.BEATDESK_PUBLIC_URL:
        raise ActionError(
            f"{label} fetches images from Beatdesk's public address, and none is set "
            "(BEATDESK_PUBLIC_URL): ask your administrator."
        )


@dataclass
class MediaUnavailable(Exception):
    """A delivery's file cannot be read back as it was attached."""

    message: str
    permanent: bool = True

    def __str__(self) -> str:
        return self.message


def outbound_media(entries: Sequence[Mapping[str, Any]]) -> tuple[OutboundMedia, ...]:
    """The bytes of a delivery's files (``Delivery.media``), checked against what was
    recorded when they were attached."""
    result = []
    for entry in entries:
        name = str(entry.get("name", ""))
        try:
            with default_storage.open(name, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            raise MediaUnavailable(f"an attached file is missing from storage ({name})") from None
        except OSError as exc:
            raise MediaUnavailable(
                f"an attached file could not be read ({type(exc).__name__})", permanent=False
            ) from None
        if len(data) != entry.get("size") or hashlib.sha256(data).hexdigest() != entry.get(
            "sha256"
        ):
            raise MediaUnavailable(
                f"an attached file changed in storage after it was attached ({name}); "
                "attach it again"
            )
        result.append(
            OutboundMedia(
                data=data,
                mime_type=str(entry.get("content_type", "")),
                alt_text=str(entry.get("alt_text", "")),
                ref=name,
            )
        )
    return tuple(result)


# -- signed links ------------------------------------------------------------------------


class MediaLinkExpired(Exception):
    pass


class MediaLinkInvalid(Exception):
    pass


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SIGNED_MEDIA_SALT)


def sign_media(name: str, content_type: str) -> str:
    """A token naming one stored file, valid for ``SIGNED_MEDIA_SECONDS``."""
    return _signer().sign_object({"n": name, "t": content_type})


def public_media_url(media: OutboundMedia) -> str:
    """``Connector.media_url``: where a platform may fetch ``media`` for a while."""
    base = settings.BEATDESK_PUBLIC_URL
    if not base:
        raise ConnectorError(
            "Beatdesk's public address is not set (BEATDESK_PUBLIC_URL), so the platform "
            "cannot fetch the image",
            permanent=True,
            reason=ErrorReason.UNSUPPORTED,
        )
    if not media.ref:
        raise ConnectorError(
            "this image has no stored copy to link to",
            permanent=True,
            reason=ErrorReason.UNSUPPORTED,
        )
    path = reverse(
        "channels:signed_media", kwargs={"signed": sign_media(media.ref, media.mime_type)}
    )
    return f"{base}{path}"


def open_signed(token: str) -> tuple[File[Any], str]:
    """The stored file a signed link names, and its content type."""
    try:
        value = _signer().unsign_object(token, max_age=SIGNED_MEDIA_SECONDS)
    except signing.SignatureExpired:
        raise MediaLinkExpired from None
    except (signing.BadSignature, ValueError):
        raise MediaLinkInvalid from None
    if not isinstance(value, dict):
        raise MediaLinkInvalid
    name, content_type = value.get("n"), value.get("t")
    if not isinstance(name, str) or content_type not in STORABLE:
        raise MediaLinkInvalid
    try:
        return default_storage.open(name, "rb"), str(content_type)
    except (OSError, ValueError, SuspiciousFileOperation):  # gone, or not a file of ours
        raise MediaLinkInvalid from None
