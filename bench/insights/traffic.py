"""The force-year's shape: how much of everything, when it arrives, what it is about
and how it is handled. Counts scale with ``--scale``; the structure and the 365 days
do not."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/London")
DAYS = 365
SURGE_DAY = DAYS - 45  # a major incident: first day of the surge week (day index)
FULL_MESSAGES = 5_000_000
FULL_CONVERSATIONS = 3_000_000
FULL_AUTHOR_POOL = 870_000  # drawn with a skew: ~800,000 distinct authors at scale 1
FULL_POSTS = 50_000
FULL_REPORTS = 3_000
FORCE_ACCOUNTS = 20
ACCOUNTS_PER_TEAM = 3
NEIGHBOURHOOD_TEAMS = 50
FOLLOWER_SAMPLE = 500
# Audience snapshots that tell the period's "latest snapshot of each account" apart
# from "the last day's snapshots": a share of the daily attempts failed on the platform
# (stored with ok=False, never a figure) or never happened, and some accounts stopped
# being snapshotted (disconnected) a little before the end of the year.
SNAPSHOT_FAILED = 0.04
SNAPSHOT_MISSING = 0.03
SNAPSHOTS_STOP_EVERY = 17  # every 17th account ...
SNAPSHOTS_STOP_DAYS = 10  # ... has none for the last 10 days
# Deliveries the platform refused: not published (no post, no metrics), but an appeal
# found counts in the scopes of every account it went to "or failed on".
DELIVERY_FAILED = 0.03

# Triage categories: share of conversations, priority split, opening text.
CATEGORIES: list[tuple[str, float, list[tuple[str, float]], str]] = [
    (
        "emergency",
        0.006,
        [("P1", 0.85), ("P2", 1.0)],
        "There is a man with a knife outside the shop in {place}, please come now",
    ),
    (
        "crime_report",
        0.08,
        [("P2", 0.25), ("P3", 0.85), ("P4", 1.0)],
        "My car was broken into overnight on the street in {place}, how do I report it?",
    ),
    (
        "intelligence",
        0.03,
        [("P2", 0.15), ("P3", 0.85), ("P4", 1.0)],
        "Lads dealing from the car park behind the flats in {place} every night",
    ),
    (
        "missing_person",
        0.008,
        [("P1", 0.3), ("P2", 0.9), ("P3", 1.0)],
        "Have you found the missing lad from {place}? I think I saw him by the bus station",
    ),
    (
        "complaint",
        0.04,
        [("P3", 0.8), ("P4", 1.0)],
        "Waited three hours and nobody came out to {place}, I want to make a complaint",
    ),
    (
        "question",
        0.22,
        [("P3", 0.3), ("P4", 1.0)],
        "What time does the front counter in {place} open on Saturdays?",
    ),
    (
        "praise",
        0.09,
        [("P4", 1.0)],
        "Thanks to the officers who helped my mum in {place} today, brilliant",
    ),
    ("abuse", 0.06, [("P3", 0.2), ("P4", 1.0)], "You lot are useless, an absolute joke"),
    (
        "rumour",
        0.02,
        [("P3", 0.5), ("P4", 1.0)],
        "Heard there was a shooting in {place} last night, is that true?",
    ),
    ("spam", 0.14, [("P4", 1.0)], "WIN a FREE holiday!!! click the link in our bio now"),
    (
        "other",
        1.0,  # the rest
        [("P3", 0.2), ("P4", 1.0)],
        "Is the road still closed near the retail park in {place}?",
    ),
]
TARGETS = {"P1": 300, "P2": 1800, "P3": 14400, "P4": 86400}
# Share of conversations that get a first response, and the log-normal of its seconds.
RESPONDED = {"P1": 0.995, "P2": 0.98, "P3": 0.92, "P4": 0.82}
RESPONSE_MU = {"P1": 5.0, "P2": 6.6, "P3": 8.3, "P4": 9.6}
RESPONSE_SIGMA = {"P1": 0.7, "P2": 0.9, "P3": 1.0, "P4": 1.1}
CLOSE_REASONS: dict[str, list[tuple[str, float]]] = {
    "crime_report": [("crime_recorded", 0.45), ("answered", 1.0)],
    "emergency": [("referred_999", 0.7), ("answered", 1.0)],
    "missing_person": [("referred_999", 0.3), ("intelligence", 0.5), ("answered", 1.0)],
    "intelligence": [("intelligence", 0.6), ("crime_recorded", 0.7), ("answered", 1.0)],
    "complaint": [("complaint", 0.7), ("answered", 1.0)],
    "abuse": [("abuse", 0.6), ("no_action", 1.0)],
    "spam": [("spam", 1.0)],
}
PURPOSES = [
    ("communications", 0.35),
    ("engagement", 0.65),
    ("investigation", 0.78),
    ("intelligence", 0.83),
    ("operations", 0.97),
    ("internal", 1.0),
]
PLACES = [
    "Eccles",
    "Salford",
    "Wythenshawe",
    "Didsbury",
    "Bolton",
    "Wigan",
    "Rochdale",
    "Stockport",
    "Oldham",
    "Trafford",
    "Bury",
    "Tameside",
    "Sale",
    "Leigh",
    "Hyde",
]
LOCATIONS = ["", "Salford", "Manchester", "Bolton, UK", "Wigan", "", "Leeds", "Stockport"]
# Messages by local hour (0-23) and posts by local hour.
# fmt: off
MESSAGE_HOURS = (
    0.9, 0.6, 0.4, 0.3, 0.25, 0.3, 0.6, 1.2, 2.0, 2.4, 2.4, 2.3,
    2.4, 2.3, 2.2, 2.3, 2.6, 3.0, 3.2, 3.2, 3.0, 2.6, 2.0, 1.4,
)
POST_HOURS = (
    0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.6, 1.6, 2.0, 2.0, 1.8,
    1.8, 1.8, 1.8, 1.6, 1.4, 1.0, 0.8, 0.8, 0.6, 0.3, 0.1, 0.05,
)
# fmt: on
WEEKDAY = (1.05, 1.0, 1.0, 1.02, 1.1, 1.05, 0.9)  # Monday ... Sunday
TEAM_NAMES = [
    ("Digital desk", "digital_desk", True),
    ("Corporate communications", "communications", False),
    ("Intelligence unit", "intelligence", False),
    ("Professional standards", "standards", False),
    ("Roads policing", "other", True),
    ("Rural crime", "other", False),
    ("Cyber crime", "other", False),
    ("Public protection", "other", False),
    ("Events and partnerships", "other", False),
    ("Response north", "other", True),
]


@dataclass
class Sizes:
    messages: int
    conversations: int
    author_pool: int
    posts: int
    reports: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        messages = max(2000, round(FULL_MESSAGES * scale))
        conversations = max(1200, round(FULL_CONVERSATIONS * scale))
        return cls(
            messages=messages,
            conversations=min(conversations, messages),
            author_pool=max(500, round(FULL_AUTHOR_POOL * scale)),
            posts=max(200, round(FULL_POSTS * scale)),
            reports=max(20, round(FULL_REPORTS * scale)),
        )


def message_weight(day: date, index: int, hour: int) -> float:
    weight = MESSAGE_HOURS[hour] * WEEKDAY[day.weekday()]
    if (day.weekday() in (4, 5) and hour >= 21) or (day.weekday() in (5, 6) and hour < 3):
        weight *= 1.4  # Friday and Saturday nights
    weight *= 1 + 0.15 * math.sin(2 * math.pi * (day.timetuple().tm_yday - 100) / 365)
    if (day.month, day.day) == (11, 5) and hour >= 17:
        weight *= 2.0  # bonfire night
    if ((day.month, day.day) == (12, 31) and hour >= 20) or (day.month, day.day) == (1, 1):
        weight *= 1.6
    if SURGE_DAY <= index < SURGE_DAY + 7:
        weight *= 1 + 4 * math.exp(-(index - SURGE_DAY) / 2)
    return weight


def post_weight(day: date, index: int, hour: int) -> float:
    weight = POST_HOURS[hour] * (0.5 if day.weekday() >= 5 else 1.0)
    if SURGE_DAY <= index < SURGE_DAY + 7:
        weight *= 3.0
    return weight


def allocate(weights: Sequence[float], total: int, rng: random.Random) -> list[int]:
    """Spread ``total`` rows over slots in proportion to ``weights``: each row falls in a
    slot drawn at random with those weights (so quiet hours still get their share)."""
    counts = [0] * len(weights)
    for slot in rng.choices(range(len(weights)), weights=weights, k=total):
        counts[slot] += 1
    return counts


def cumulative_categories() -> list[tuple[str, float, Any, str]]:
    """``CATEGORIES`` with each share made cumulative, for ``cumulative_case``; the last
    category takes the rest."""
    out, running = [], 0.0
    for name, share, split, text in CATEGORIES[:-1]:
        running += share
        out.append((name, round(running, 6), split, text))
    name, _, split, text = CATEGORIES[-1]
    out.append((name, 1.0, split, text))
    return out
