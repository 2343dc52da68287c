"""The replay channel: recorded public messages arriving as if live, for demos and drills.

A replay source is a JSON Lines file, one message per line::

    {"id": "17", "text": "...", "author": "someone", "display_name": "...",
     "location": "Salford", "reply_to": "", "kind": "mention", "lat": 53.48, "lon": -2.29}

Only ``id`` and ``text`` are required. Messages are released at
``rate_per_minute`` from the moment the channel first polls; each run gets its own
platform ids (``<run start>:<id>``) so a drill can be replayed again. Sources are
looked up by name in the replay directories only (never an arbitrary path), so an
admin cannot make the server read other files.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from django.conf import settings

from ..contract import (
    AccountIdentity,
    Capability,
    Connector,
    ConnectorError,
    ErrorReason,
    InboundItem,
    InboundKind,
    InboundPage,
    OutboundPost,
    PublishedRef,
)

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "replay_data"


class ReplayError(ValueError):
    pass


def replay_dirs() -> list[Path]:
    configured = os.environ.get("BEATDESK_REPLAY_DIR") or str(Path(settings.VAR_DIR) / "replay")
    return [BUILTIN_DIR, Path(configured)]


def available_sources() -> list[str]:
    names: set[str] = set()
    for directory in replay_dirs():
        if directory.is_dir():
            names.update(p.name for p in directory.glob("*.jsonl"))
    return sorted(names)


def resolve_source(name: str) -> Path:
    if (
        not name
        or "/" in name
        or "\\" in name
        or name.startswith(".")
        or not name.endswith(".jsonl")
    ):
        raise ReplayError("Choose a replay file by name (a .jsonl file in the replay folder).")
    for directory in replay_dirs():
        candidate = directory / name
        if candidate.is_file():
            return candidate
    raise ReplayError(f"No replay file called {name}.")


# Parsed files by path, reused while the file is unchanged: the loop polls a replay every
# second or two and a drill file can hold tens of thousands of lines.
_parsed: dict[Path, tuple[tuple[int, int], list[tuple[bytes, dict[str, object]]]]] = {}


def _load(path: Path) -> list[tuple[bytes, dict[str, object]]]:
    stat = path.stat()
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _parsed.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    records = _parse(path)
    _parsed[path] = (version, records)
    return records


def _parse(path: Path) -> list[tuple[bytes, dict[str, object]]]:
    records = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            raw = line.rstrip(b"\r\n")
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                raise ReplayError(f"{path.name} line {number}: not JSON") from None
            if not isinstance(record, dict) or not str(record.get("text", "")).strip():
                raise ReplayError(f'{path.name} line {number}: needs "id" and "text"')
            if "id" not in record:
                raise ReplayError(f'{path.name} line {number}: needs "id" and "text"')
            records.append((raw, record))
    return records


class ReplayConnector(Connector):
    kind = "replay"
    label = "Replay"
    # A drill also takes posts and replies, so the whole desk can be practised (and
    # demonstrated) without a platform: they are "published" into the drill, never sent
    # anywhere. The platform id is derived from the delivery key, so publishing twice
    # and looking up after a lost answer both give the same post.
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.VERIFY,
            Capability.FETCH_INBOUND,
            Capability.PUBLISH,
            Capability.REPLY,
            Capability.DELETE,
        }
    )

    @staticmethod
    def count_records(source: str) -> int:
        return len(_load(resolve_source(source)))

    def verify(self) -> AccountIdentity:
        try:
            resolve_source(self.settings.base_url)
        except ReplayError as exc:
            raise ConnectorError(str(exc), permanent=True, reason=ErrorReason.NOT_FOUND) from None
        return AccountIdentity(platform_account_id="", handle="replay", display_name="Replay")

    def fetch_inbound(self, cursor: str, limit: int = 100) -> InboundPage:
        try:
            records = _load(resolve_source(self.settings.base_url))
        except ReplayError as exc:
            raise ConnectorError(str(exc), permanent=True, reason=ErrorReason.NOT_FOUND) from None
        rate = max(1, int(self.settings.credentials.get("rate_per_minute", "60") or 60))
        now = time.time()
        if cursor:
            run_text, _, next_text = cursor.partition(":")
            run, next_index = float(run_text), int(next_text)
        else:
            run, next_index = now, 0
        due = min(len(records), int((now - run) * rate / 60) + 1)
        end = min(due, next_index + limit)
        items = [self._item(run, raw, record) for raw, record in records[next_index:end]]
        return InboundPage(items=items, cursor=f"{run:.6f}:{end}", more=end < due)

    @staticmethod
    def _item(run: float, raw: bytes, record: dict[str, object]) -> InboundItem:
        run_id = f"{run:.0f}"
        reply_to = str(record.get("reply_to") or "")
        kind = str(record.get("kind") or ("reply" if reply_to else "mention"))
        return InboundItem(
            platform_id=f"{run_id}:{record['id']}",
            kind=InboundKind(kind)
            if kind in InboundKind.__members__.values()
            else InboundKind.MENTION,
            author_id=str(record.get("author") or ""),
            author_handle=str(record.get("author") or "member.of.public"),
            author_display_name=str(record.get("display_name") or ""),
            author_location=str(record.get("location") or ""),
            text=str(record["text"]),
            created_at=datetime.now(UTC),
            raw=raw,
            reply_to_id=f"{run_id}:{reply_to}" if reply_to else "",
            geo=_geo(record),
            thread_root_id=f"{run_id}:{record.get('thread') or reply_to}" if reply_to else "",
        )

    def refresh_items(self, platform_ids: Sequence[str]) -> dict[str, InboundItem | None]:
        raise self._unsupported("re-reading messages")

    def publish(self, post: OutboundPost) -> PublishedRef:
        return PublishedRef(platform_id=f"drill:{post.key}", url="", published_at=datetime.now(UTC))

    def find_published(self, post: OutboundPost, since: datetime) -> PublishedRef | None:
        return PublishedRef(platform_id=f"drill:{post.key}", url="")

    def delete(self, platform_id: str) -> None:
        """Nothing left the drill, so there is nothing to take down."""


def _geo(record: dict[str, object]) -> tuple[float, float] | None:
    """Optional ``"lat"`` and ``"lon"`` in a replay line: the message's geotag."""
    lat, lon = record.get("lat"), record.get("lon")
    if isinstance(lat, (int, float)) and isinstance(lon, (int, float)):
        return float(lat), float(lon)
    return None
