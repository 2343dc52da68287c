"""Response-target clocks that count only a team's staffed hours.

Pure functions over timezone-aware datetimes. A team that is 24/7 counts every minute;
any other team counts only its staffed windows (local time of ``settings.TIME_ZONE``),
so a P3 that reaches a neighbourhood team at 17:50 on a Friday with a 4-hour target is
due at 11:50 on Monday, not at 21:50 on Friday.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


@dataclass(frozen=True)
class Window:
    """A staffed window on one weekday (0 = Monday), local time; ``closes`` > ``opens``."""

    weekday: int
    opens: time
    closes: time


# Used for a team that is not 24/7 and has set no hours of its own.
OFFICE_HOURS = tuple(Window(day, time(8), time(18)) for day in range(5))
# A week without a single staffed minute cannot meet any target; give up looking after
# this long and count wall-clock time instead, so nothing waits forever.
_SEARCH_LIMIT_DAYS = 15


def _local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def add_staffed_time(start: datetime, minutes: float, windows: Sequence[Window] | None) -> datetime:
    """``start`` plus ``minutes`` of staffed time; ``windows=None`` means 24/7.

    Returns an aware datetime in UTC-equivalent form (same tzinfo as ``start``).
    """
    if windows is None or not windows:
        return start + timedelta(minutes=minutes)
    zone = _local_zone()
    remaining = timedelta(minutes=minutes)
    # Windows are read in local time (the team opens at 08:00 whatever the season), but
    # all arithmetic is in UTC: on the nights the clocks change, local wall-clock
    # subtraction would count an hour too many or too few.
    cursor = start.astimezone(UTC)
    day: date = start.astimezone(zone).date()
    for _ in range(_SEARCH_LIMIT_DAYS):
        for window in sorted(
            (w for w in windows if w.weekday == day.weekday()), key=lambda w: w.opens
        ):
            opens = datetime.combine(day, window.opens, zone).astimezone(UTC)
            closes = datetime.combine(day, window.closes, zone).astimezone(UTC)
            begin = max(opens, cursor)
            if begin >= closes:
                continue
            available = closes - begin
            if remaining <= available:
                return (begin + remaining).astimezone(start.tzinfo)
            remaining -= available
            cursor = closes
        day += timedelta(days=1)
    return start + timedelta(minutes=minutes)


def is_staffed(moment: datetime, windows: Sequence[Window] | None) -> bool:
    """Whether a team with these windows is on duty at ``moment``."""
    if windows is None or not windows:
        return True
    local = moment.astimezone(_local_zone())
    return any(w.weekday == local.weekday() and w.opens <= local.time() < w.closes for w in windows)


DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_INDEX = {name.lower(): i for i, name in enumerate(DAY_NAMES)}


def _parse_time(text: str) -> time:
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and (minutes.isdigit() or not minutes)):
        raise ValueError(f"'{text.strip()}' is not a time like 08:00")
    h, m = int(hours), int(minutes or 0)
    if h == 24 and m == 0:
        return time.max
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"'{text.strip()}' is not a time of day")
    return time(h, m)


def _parse_days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().lower().partition("-")
        if first[:3] not in _DAY_INDEX or (last and last[:3] not in _DAY_INDEX):
            raise ValueError(f"'{part.strip()}' is not a day or range like Mon-Fri")
        start = _DAY_INDEX[first[:3]]
        end = _DAY_INDEX[last[:3]] if last else start
        days.extend(range(start, end + 1) if end >= start else [*range(start, 7), *range(end + 1)])
    return days


def parse_windows(text: str) -> list[Window]:
    """Parse staffed hours written as one entry per line (or ``;``-separated), e.g.
    ``Mon-Fri 08:00-18:00`` and ``Sat,Sun 10:00-14:00``. Raises ``ValueError`` naming
    the entry it cannot read. An empty text means no windows."""
    windows: list[Window] = []
    for entry in (e.strip() for e in text.replace(";", "\n").splitlines()):
        if not entry:
            continue
        days_text, _, hours_text = entry.rpartition(" ")
        opens_text, dash, closes_text = hours_text.partition("-")
        if not days_text or not dash:
            raise ValueError(f"'{entry}' should look like 'Mon-Fri 08:00-18:00'")
        opens, closes = _parse_time(opens_text), _parse_time(closes_text)
        if closes <= opens:
            raise ValueError(f"'{entry}': closing time must be after opening time")
        windows.extend(Window(day, opens, closes) for day in _parse_days(days_text))
    return windows


def format_windows(windows: Sequence[Window]) -> str:
    """One line per window, readable back by ``parse_windows``."""
    return "\n".join(
        f"{DAY_NAMES[w.weekday]} {w.opens:%H:%M}-"
        + ("24:00" if w.closes == time.max else f"{w.closes:%H:%M}")
        for w in sorted(windows, key=lambda w: (w.weekday, w.opens))
    )
