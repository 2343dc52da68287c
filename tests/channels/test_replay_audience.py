"""The replay channel's invented audience: metrics, profiles, followers and engagers.

The insights dashboards read these in the demo and in drills; they must be the same on
every call, grow like real numbers, and differ from one account to the next.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from beatdesk.channels.connectors import replay
from beatdesk.channels.connectors.replay import (
    AUDIENCE_LOCATIONS,
    AUDIENCE_SIZE,
    LOCAL_PLACES,
    ReplayConnector,
)
from beatdesk.channels.contract import (
    Capability,
    ConnectionSettings,
    ConnectorError,
    ErrorReason,
    Profile,
)
from beatdesk.channels.keys import ALPHABET
from beatdesk.core.http import HttpClient

NOW = 1_780_000_000.0  # a fixed "now" (epoch seconds, 2026)
HOUR = 3600.0


@pytest.fixture
def http() -> Iterator[HttpClient]:
    with HttpClient() as client:
        yield client


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replay, "_now", lambda: NOW)


def connector(
    http: HttpClient, source: str = "gm_demo.jsonl", account_id: str = ""
) -> ReplayConnector:
    settings = ConnectionSettings(
        base_url=source,
        credentials={"rate_per_minute": "6"},
        platform_account_id=account_id,
        handle="replay",
    )
    return ReplayConnector(settings, http)


def tid(seconds: float, clock_id: int = 0) -> str:
    """A publish key (``channels.keys``) made at ``seconds``, with a fixed clock id."""
    value = (int(seconds * 1_000_000) << 10) | clock_id
    return "".join(ALPHABET[(value >> (5 * shift)) & 31] for shift in reversed(range(13)))


def drill_post(hours_ago: float, clock_id: int = 0) -> str:
    """A drill post's id, as ``publish`` makes it, published ``hours_ago`` before NOW."""
    return f"drill:{tid(NOW - hours_ago * HOUR, clock_id)}"


def everyone(source: ReplayConnector, limit: int = 100) -> list[Profile]:
    profiles: list[Profile] = []
    cursor = ""
    for _ in range(AUDIENCE_SIZE[1] // limit + 2):
        page = source.fetch_followers(cursor, limit=limit)
        profiles.extend(page.profiles)
        cursor = page.cursor
        if not cursor:
            return profiles
    raise AssertionError("the followers never end")


def local_share(profiles: list[Profile]) -> float:
    return sum(1 for p in profiles if p.location in LOCAL_PLACES) / len(profiles)


def test_the_replay_channel_declares_the_audience_capabilities() -> None:
    assert {Capability.METRICS, Capability.PROFILES, Capability.AUDIENCE} <= (
        ReplayConnector.capabilities
    )


def test_metrics_grow_over_the_first_days_and_then_settle() -> None:
    platform_id = drill_post(1000)
    published = replay.published_at(platform_id)
    assert published is not None and abs(published - (NOW - 1000 * HOUR)) < 0.001

    def at(hours: float) -> tuple[int, int, int, int, int]:
        metrics = replay.post_metrics(platform_id, 200, published + hours * HOUR)
        assert metrics.impressions is not None
        return (
            metrics.impressions,
            metrics.likes,
            metrics.reposts,
            metrics.replies,
            metrics.quotes,
        )

    series = [at(hours) for hours in (0, 1, 6, 24, 48, 72, 168, 24 * 30)]
    assert series[0] == (0, 0, 0, 0, 0)  # nothing yet at the moment of publishing
    for earlier, later in itertools.pairwise(series):
        assert all(a <= b for a, b in zip(earlier, later, strict=True))
    impressions, likes, reposts, replies, _ = series[-1]
    assert series[3][0] > impressions * 0.6  # most of the reach comes in the first day
    assert series[-2][0] > impressions * 0.99  # settled within the week
    assert impressions > likes > 0 and likes >= reposts and likes >= replies
    assert impressions <= 200 * 8 + 400  # plausible for an account of 200 followers


def test_metrics_are_deterministic_and_differ_between_posts(http: HttpClient) -> None:
    source = connector(http)
    ids = [drill_post(30), drill_post(30, clock_id=7), "1779000000:17", "drill:not-a-key"]
    first = source.fetch_metrics(ids)
    assert first == source.fetch_metrics(ids) == connector(http).fetch_metrics(ids)
    assert [m.platform_id for m in first] == ids
    assert len({(m.likes, m.impressions) for m in first}) > 1
    assert all(m.impressions is not None and m.impressions > 0 for m in first)
    [fresh] = source.fetch_metrics([drill_post(0)])
    assert (fresh.likes, fresh.impressions) == (0, 0)


def test_published_at_reads_drill_keys_and_replay_runs() -> None:
    assert replay.published_at(drill_post(2)) == pytest.approx(NOW - 2 * HOUR)
    assert replay.published_at("1780000000:17") == 1_780_000_000.0
    assert replay.published_at("anything") is None
    assert replay.published_at("drill:") is None


def test_own_profile_counts_the_followers_listed(http: HttpClient) -> None:
    source = connector(http)
    profile = source.fetch_profile("replay")
    followers = everyone(source)
    assert profile.followers == len(followers)
    assert AUDIENCE_SIZE[0] <= len(followers) <= AUDIENCE_SIZE[1]
    assert source.fetch_profile("@replay") == profile == connector(http).fetch_profile("replay")
    other = source.fetch_profile("someone_else")
    assert other.handle == "someone_else" and other.followers is not None
    assert other == source.fetch_profile("@someone_else")


def test_followers_page_with_a_cursor_and_name_places_from_the_list(http: HttpClient) -> None:
    source = connector(http)
    by_hundred = everyone(source)
    by_seven = everyone(source, limit=7)
    assert by_seven == by_hundred  # same people, same order, whatever the page size
    assert len({p.platform_id for p in by_hundred}) == len(by_hundred)
    assert {p.location for p in by_hundred} <= set(AUDIENCE_LOCATIONS)
    locations = {p.location for p in by_hundred}
    assert locations & set(LOCAL_PLACES)
    assert locations - set(LOCAL_PLACES)  # other places, abroad, none at all
    assert all(p.handle and p.display_name for p in by_hundred)
    last = source.fetch_followers(str(len(by_hundred) - 1), limit=5)
    assert len(last.profiles) == 1 and last.cursor == ""
    beyond = source.fetch_followers(str(len(by_hundred) + 10))
    assert list(beyond.profiles) == [] and beyond.cursor == ""
    with pytest.raises(ConnectorError) as caught:
        source.fetch_followers("likes:3")
    assert (caught.value.reason, caught.value.permanent) == (ErrorReason.REJECTED, True)


def test_the_local_share_differs_from_one_account_to_the_next(http: HttpClient) -> None:
    demo = everyone(connector(http, "gm_demo.jsonl"))
    drill = everyone(connector(http, "salford_drill.jsonl"))
    assert demo != drill
    assert abs(local_share(demo) - local_share(drill)) > 0.1  # the demo's two accounts
    shares = [local_share(everyone(connector(http, account_id=f"acct-{n}"))) for n in range(12)]
    assert max(shares) - min(shares) > 0.3
    assert all(0.05 < share < 0.95 for share in shares)


def test_engagers_match_the_metrics_and_are_mostly_followers(http: HttpClient) -> None:
    source = connector(http)
    followers = {p.platform_id for p in everyone(source)}
    post = drill_post(48)
    [metrics] = source.fetch_metrics([post])
    engagers: list[Profile] = []
    cursor = ""
    for _ in range(50):
        page = source.fetch_engagers(post, cursor, limit=5)
        assert len(page.profiles) <= 5
        engagers.extend(page.profiles)
        cursor = page.cursor
        if not cursor:
            break
    assert len(engagers) == metrics.likes + metrics.reposts > 0
    assert {p.location for p in engagers} <= set(AUDIENCE_LOCATIONS)
    assert engagers == list(source.fetch_engagers(post, limit=200).profiles)
    # Over a few posts, most engagers follow the account and some do not.
    all_engagers = [
        profile
        for clock_id in range(6)
        for profile in source.fetch_engagers(drill_post(200, clock_id), limit=200).profiles
    ]
    from_followers = sum(1 for p in all_engagers if p.platform_id in followers)
    assert len(all_engagers) / 2 < from_followers < len(all_engagers)
    # Engagement grows with the metrics: none at the moment of publishing.
    assert list(source.fetch_engagers(drill_post(0)).profiles) == []
    with pytest.raises(ConnectorError) as caught:
        source.fetch_engagers(post, "reposts:")
    assert caught.value.reason is ErrorReason.REJECTED
