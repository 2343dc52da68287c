"""Response-target clocks over staffed hours (Europe/London)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from beatdesk.inbox.targets import OFFICE_HOURS, Window, add_staffed_time, is_staffed

LONDON = ZoneInfo("Europe/London")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    # November 2026: the 23rd is a Monday, the 27th a Friday.
    return datetime(2026, 11, day, hour, minute, tzinfo=LONDON)


def test_24_7_counts_wall_clock() -> None:
    assert add_staffed_time(at(27, 23, 50), 30, None) == at(28, 0, 20)


def test_office_hours_carry_over_the_weekend() -> None:
    # A 4-hour P3 at 17:50 on Friday: 10 minutes on Friday, 3 h 50 on Monday.
    assert add_staffed_time(at(27, 17, 50), 240, OFFICE_HOURS) == at(30, 11, 50)


def test_arrival_out_of_hours_starts_at_opening() -> None:
    assert add_staffed_time(at(28, 3, 0), 30, OFFICE_HOURS) == at(30, 8, 30)
    assert add_staffed_time(at(24, 6, 0), 30, OFFICE_HOURS) == at(24, 8, 30)


def test_split_windows_and_exact_fit() -> None:
    windows = [Window(0, time(9), time(12)), Window(0, time(13), time(17))]
    assert add_staffed_time(at(23, 11, 0), 60, windows) == at(23, 12, 0)
    assert add_staffed_time(at(23, 11, 0), 61, windows) == at(23, 13, 1)
    # Next Monday when the day runs out.
    assert add_staffed_time(at(23, 16, 0), 120, windows) == at(30, 10, 0)


def test_a_team_with_no_usable_hours_falls_back_to_wall_clock() -> None:
    never = [Window(0, time(9), time(9))]
    assert add_staffed_time(at(23, 10), 30, never) == at(23, 10, 30)


def test_is_staffed() -> None:
    assert is_staffed(at(23, 9), OFFICE_HOURS)
    assert not is_staffed(at(28, 9), OFFICE_HOURS)
    assert not is_staffed(at(23, 18), OFFICE_HOURS)
    assert is_staffed(at(28, 3), None)


def test_clocks_change_is_handled_in_local_time() -> None:
    # 29 March 2026: clocks go forward at 01:00 GMT. A Monday 08:00 opening stays 08:00 local.
    monday = datetime(2026, 3, 30, 7, 0, tzinfo=ZoneInfo("UTC"))  # 08:00 BST
    assert add_staffed_time(monday, 60, OFFICE_HOURS).astimezone(LONDON).hour == 9


def test_staffed_hours_are_written_and_read_back() -> None:
    from beatdesk.inbox.targets import format_windows, parse_windows

    windows = parse_windows("Mon-Fri 08:00-18:00; Sat,Sun 10:00-14:00\nSun 20:00-24:00")
    assert len(windows) == 8
    assert parse_windows(format_windows(windows)) == sorted(
        windows, key=lambda w: (w.weekday, w.opens)
    )
    assert parse_windows("") == []
    assert [w.weekday for w in parse_windows("Sat-Mon 09:00-10:00")] == [5, 6, 0]
    for bad, why in [
        ("Mon 18:00-08:00", "after opening"),
        ("Funday 08:00-09:00", "not a day"),
        ("Mon 8am-6pm", "not a time"),
        ("08:00-18:00", "should look like"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_windows(bad)


def test_a_window_spanning_the_spring_clock_change_counts_real_time() -> None:
    # 29 March 2026: 01:00 GMT becomes 02:00 BST. Sunday 00:00-06:00 local is 5 real hours.
    sunday_night = [Window(6, time(0), time(6))]
    start = datetime(2026, 3, 29, 0, 0, tzinfo=ZoneInfo("UTC"))  # 00:00 GMT, window open
    due = add_staffed_time(start, 300, sunday_night)
    assert due == datetime(2026, 3, 29, 5, 0, tzinfo=ZoneInfo("UTC"))  # 06:00 BST
    # One minute more does not fit: it is the first minute of the next Sunday's window.
    later = add_staffed_time(start, 301, sunday_night)
    assert later.astimezone(LONDON) == datetime(2026, 4, 5, 0, 1, tzinfo=LONDON)


def test_a_window_spanning_the_autumn_clock_change_counts_real_time() -> None:
    # 25 October 2026: 02:00 BST becomes 01:00 GMT. Sunday 00:00-06:00 local is 7 real hours.
    sunday_night = [Window(6, time(0), time(6))]
    start = datetime(2026, 10, 24, 23, 0, tzinfo=ZoneInfo("UTC"))  # 00:00 BST
    assert add_staffed_time(start, 420, sunday_night) == datetime(
        2026, 10, 25, 6, 0, tzinfo=ZoneInfo("UTC")
    )
