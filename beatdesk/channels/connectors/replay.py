"""The replay channel: recorded public messages arriving as if live, for demos and drills.

A replay source is a JSON Lines file, one message per line::

    {"id": "17", "text": "...", "author": "someone", "display_name": "...",
     "location": "Salford", "reply_to": "", "kind": "mention", "lat": 53.48, "lon": -2.29}

Only ``id`` and ``text`` are required. Messages are released at
``rate_per_minute`` from the moment the channel first polls; each run gets its own
platform ids (``<run start>:<id>``) so a drill can be replayed again. Sources are
looked up by name in the replay directories only (never an arbitrary path), so an
admin cannot make the server read other files.

So that the insights dashboards have something to show in the demo and in drills, a
replay account also has an invented audience: ``fetch_metrics`` gives numbers that grow
over a post's first days, ``fetch_profile`` a follower count, and ``fetch_followers`` /
``fetch_engagers`` synthetic people whose stated locations mix Greater Manchester
places, the rest of the UK, abroad and no place at all. Everything is derived from
hashes of the account and post ids (and the time since a post was published), so it is
the same on every call and different from one account to the next.
"""

from __future__ import annotations

import hashlib
import json
import math
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
    PostMetrics,
    Profile,
    ProfilePage,
    PublishedRef,
)
from ..keys import ALPHABET, is_post_key

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
            Capability.METRICS,
            Capability.PROFILES,
            Capability.AUDIENCE,
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

    # -- the invented audience -----------------------------------------------------

    @property
    def audience_key(self) -> str:
        """What the invented audience is derived from: the account id, or (replay
        accounts usually have none) its source and handle."""
        settings = self.settings
        return settings.platform_account_id or f"{settings.base_url}|{settings.handle}"

    def fetch_metrics(self, platform_ids: Sequence[str]) -> list[PostMetrics]:
        followers = audience_size(self.audience_key)
        now = _now()
        return [post_metrics(platform_id, followers, now) for platform_id in platform_ids]

    def fetch_profile(self, handle_or_id: str) -> Profile:
        value = handle_or_id.strip().lstrip("@")
        own = {self.settings.handle, self.settings.platform_account_id, "", "replay"}
        if value in own:
            return Profile(
                platform_id=self.settings.platform_account_id or self.settings.handle,
                handle=self.settings.handle or "replay",
                display_name="Replay",
                description="A drill account: its audience is invented.",
                followers=audience_size(self.audience_key),
            )
        return Profile(
            platform_id=value,
            handle=value,
            display_name=value,
            followers=int(_unit("profile", value) * 900),
        )

    def fetch_followers(self, cursor: str = "", limit: int = 100) -> ProfilePage:
        key = self.audience_key
        total = audience_size(key)
        start = _offset(cursor)
        end = min(total, start + max(1, min(limit, MAX_PAGE)))
        profiles = [follower(key, index) for index in range(start, end)]
        return ProfilePage(profiles=profiles, cursor=str(end) if end < total else "")

    def fetch_engagers(self, platform_id: str, cursor: str = "", limit: int = 100) -> ProfilePage:
        """The people behind the post's likes and reposts (as ``fetch_metrics`` counts
        them now): mostly the account's followers, some from further afield."""
        key = self.audience_key
        followers = audience_size(key)
        metrics = post_metrics(platform_id, followers, _now())
        total = metrics.likes + metrics.reposts
        start = _offset(cursor)
        end = min(total, start + max(1, min(limit, MAX_PAGE)))
        profiles = [engager(key, platform_id, index, followers) for index in range(start, end)]
        return ProfilePage(profiles=profiles, cursor=str(end) if end < total else "")


def _geo(record: dict[str, object]) -> tuple[float, float] | None:
    """Optional ``"lat"`` and ``"lon"`` in a replay line: the message's geotag."""
    lat, lon = record.get("lat"), record.get("lon")
    if isinstance(lat, (int, float)) and isinstance(lon, (int, float)):
        return float(lat), float(lon)
    return None


# -- the invented audience ---------------------------------------------------------------

#: Where the invented people say they are: Greater Manchester (the demo force's area),
#: elsewhere in the UK, abroad, and no place at all.
LOCAL_PLACES = ("Salford", "Eccles", "Swinton, Salford", "M6", "Wythenshawe", "Stockport")
OTHER_PLACES = ("Leeds", "London", "Manchester, NH", "somewhere over the rainbow", "")
AUDIENCE_LOCATIONS = LOCAL_PLACES + OTHER_PLACES
#: Share of an account's followers who live locally: between these, by account.
LOCAL_SHARE = (0.2, 0.8)
#: Followers of an account: between these, by account.
AUDIENCE_SIZE = (40, 300)
#: Share of a post's engagers who follow the account.
ENGAGERS_FROM_FOLLOWERS = 0.75
MAX_PAGE = 200
#: Metrics reach about 63% of their final value after this long, 95% after three times it.
GROWTH_HOURS = 18.0
#: Age of a post whose publication time the id does not tell: fully grown.
UNKNOWN_AGE_HOURS = 24.0 * 30
FIRST_NAMES = (
    "Aisha", "Ben", "Chloe", "Dev", "Ellie", "Femi", "Grace", "Harry", "Imran", "Jade",
    "Kieran", "Leah", "Mo", "Niamh", "Owen", "Priya", "Rory", "Sophie", "Tom", "Zara",
)  # fmt: skip
BIOS = (
    "",
    "Dog walker. Views my own.",
    "Mum of two, school run survivor",
    "Neighbourhood watch coordinator",
    "Season ticket holder",
    "Runs the corner shop",
    "Retired, keen gardener",
    "Student",
)


def _unit(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts``."""
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()


def _now() -> float:
    return time.time()


def _offset(cursor: str) -> int:
    if not cursor:
        return 0
    if not cursor.isdigit():
        raise ConnectorError(
            f"not a cursor of this replay list: {cursor[:40]!r}",
            permanent=True,
            reason=ErrorReason.REJECTED,
        )
    return int(cursor)


def audience_size(account_key: str) -> int:
    """How many followers the account has (stable, a few hundred at most)."""
    low, high = AUDIENCE_SIZE
    return low + int(_unit("size", account_key) * (high - low + 1))


def local_share(account_key: str) -> float:
    """The share of the account's followers who name a Greater Manchester place."""
    low, high = LOCAL_SHARE
    return low + _unit("local", account_key) * (high - low)


def _location(account_key: str, person: str) -> str:
    """A location from ``AUDIENCE_LOCATIONS`` for one person, with the account's own
    local share and its own preference among the places."""
    local = _unit("is-local", account_key, person) < local_share(account_key)
    places = LOCAL_PLACES if local else OTHER_PLACES
    weights = [0.2 + _unit("weight", account_key, place) for place in places]
    pick = _unit("place", account_key, person) * sum(weights)
    for place, weight in zip(places, weights, strict=True):
        if pick < weight:
            return place
        pick -= weight
    return places[-1]


def _person(account_key: str, seed: str) -> Profile:
    digest = _digest("person", seed)
    first = FIRST_NAMES[int(digest[:4], 16) % len(FIRST_NAMES)]
    initial = chr(ord("A") + int(digest[4:6], 16) % 26)
    return Profile(
        platform_id=f"replay-person:{digest[:16]}",
        handle=f"{first.lower()}_{digest[6:11]}",
        display_name=f"{first} {initial}.",
        location=_location(account_key, seed),
        description=BIOS[int(digest[11:13], 16) % len(BIOS)],
    )


def follower(account_key: str, index: int) -> Profile:
    """The account's ``index``th follower."""
    return _person(account_key, f"{account_key}|follower|{index}")


def engager(account_key: str, platform_id: str, index: int, followers: int) -> Profile:
    """The person behind the ``index``th like or repost of a post."""
    if followers and _unit("follows", platform_id, index) < ENGAGERS_FROM_FOLLOWERS:
        return follower(account_key, int(_unit("which", platform_id, index) * followers))
    return _person(account_key, f"{account_key}|outsider|{platform_id}|{index}")


def published_at(platform_id: str) -> float | None:
    """When a replay post was published (epoch seconds), as far as its id tells: a
    drill post's id ends in its publish key (a TID, made at publication), an inbound
    message's starts with the start of its run."""
    head, _, tail = platform_id.rpartition(":")
    if is_post_key(tail):
        value = 0
        for char in tail:
            value = value * 32 + ALPHABET.index(char)
        return (value >> 10) / 1_000_000
    try:
        started = float(head.partition(":")[0] if head else "")
    except ValueError:
        return None
    return started if math.isfinite(started) and started > 0 else None


def post_metrics(platform_id: str, followers: int, now: float) -> PostMetrics:
    """Plausible metrics of a post: final numbers fixed by the post's id and the size of
    the audience, reached gradually over the post's first days."""
    published = published_at(platform_id)
    hours = UNKNOWN_AGE_HOURS if published is None else max(0.0, (now - published) / 3600)
    grown = 1 - math.exp(-hours / GROWTH_HOURS)
    impressions = followers * (1.5 + 6 * _unit("reach", platform_id)) + 400 * _unit(
        "viral", platform_id
    )
    likes = impressions * (0.01 + 0.04 * _unit("likes", platform_id))
    reposts = likes * (0.05 + 0.3 * _unit("reposts", platform_id))
    replies = likes * (0.05 + 0.25 * _unit("replies", platform_id))
    quotes = reposts * 0.2 * _unit("quotes", platform_id)
    return PostMetrics(
        platform_id=platform_id,
        likes=int(likes * grown),
        reposts=int(reposts * grown),
        replies=int(replies * grown),
        quotes=int(quotes * grown),
        impressions=int(impressions * grown),
    )
