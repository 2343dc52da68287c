"""Publish keys: one per (post, account), chosen by us before the first attempt.

A key is an AT Protocol TID (13 characters of base32-sortable, from a microsecond
timestamp and a random clock id). That makes it a valid Bluesky record key (posts
use TID keys), a Mastodon ``Idempotency-Key``, and an opaque marker elsewhere.
"""

from __future__ import annotations

import re
import secrets
import time

ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
KEY_PATTERN = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


def new_post_key(now_us: int | None = None) -> str:
    micros = time.time_ns() // 1000 if now_us is None else now_us
    value = ((micros & ((1 << 53) - 1)) << 10) | secrets.randbelow(1 << 10)
    chars = []
    for _ in range(13):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_post_key(value: str) -> bool:
    return bool(KEY_PATTERN.match(value))
