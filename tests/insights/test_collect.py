"""Collecting platform metrics and located audience samples through the connector
contract (the replay connector's invented audience; a dead platform for failures)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from beatdesk.agencies.models import Agency, Team
from beatdesk.channels.keys import new_post_key
from beatdesk.channels.models import ConnectedAccount, Delivery
from beatdesk.channels.runtime import seal_credentials
from beatdesk.insights import collect
from beatdesk.insights.models import AudienceSnapshot, PostMetrics
from tests.channels.factories import make_account
from tests.inbox.factories import add_neighbourhood

pytestmark = pytest.mark.django_db


@pytest.fixture
def salford(agency: Agency) -> tuple[ConnectedAccount, Team]:
    _district, _ward, team = add_neighbourhood(agency)
    account = make_account(
        agency,
        kind="replay",
        replay_source="gm_demo.jsonl",
        scope=ConnectedAccount.Scope.TEAM,
        team=team,
        platform_account_id="",
        handle="salford-drill",
    )
    return account, team


def _published(account: ConnectedAccount, hours_ago: float) -> Delivery:
    published = timezone.now() - timedelta(hours=hours_ago)
    # A drill post's key is made when it is published; the replay platform reads its age
    # from it.
    key = new_post_key(int(published.timestamp() * 1_000_000))
    return Delivery.objects.create(
        agency=account.agency,
        account=account,
        source_type="publishing.post",
        source_id=key,
        key=key,
        text="Road closed",
        state=Delivery.State.PUBLISHED,
        platform_id=f"drill:{key}",
        published_at=published,
    )


def test_profiles_are_local_only_inside_the_areas_served(
    salford: tuple[ConnectedAccount, Team],
) -> None:
    account, _team = salford
    judge = collect.AudienceJudge(account)
    counted = judge.count(
        [
            ("Eccles", ""),  # inside the Salford district the team serves
            ("", "📍 Swinton, Salford | dad of two"),  # from the biography
            ("Leeds", ""),  # a UK place, not local
            ("Manchester, NH", ""),  # abroad
            ("somewhere over the rainbow", ""),  # not a place
            ("", "Love Manchester United"),  # no place cue
        ]
    )
    assert (counted.sampled, counted.located, counted.local) == (6, 3, 2)


def test_a_force_wide_account_counts_the_whole_agency_as_local(agency: Agency) -> None:
    add_neighbourhood(agency)
    account = make_account(agency, kind="replay", replay_source="gm_demo.jsonl")
    counted = collect.AudienceJudge(account).count([("Eccles", ""), ("Leeds", "")])
    assert (counted.located, counted.local) == (2, 1)


def test_daily_audience_snapshot_counts_followers_and_local_share(
    salford: tuple[ConnectedAccount, Team],
) -> None:
    account, _team = salford
    assert collect.collect_audience() == 1
    snapshot = AudienceSnapshot.objects.get(account=account)
    assert snapshot.followers is not None and snapshot.followers > 0
    assert 0 < snapshot.sampled <= collect.FOLLOWER_SAMPLE
    assert 0 < snapshot.local < snapshot.located <= snapshot.sampled
    # Once a day: the next tick takes none.
    assert collect.collect_audience() == 0


def test_post_metrics_are_fetched_when_due_with_an_engager_sample(
    salford: tuple[ConnectedAccount, Team],
) -> None:
    account, _team = salford
    fresh = _published(account, hours_ago=3)
    old = _published(account, hours_ago=24 * 10)
    too_old = _published(account, hours_ago=24 * 40)
    now = timezone.now()
    assert collect.collect_metrics(now) == 2
    row = PostMetrics.objects.get(delivery=fresh)
    assert row.likes + row.reposts > 0 and row.impressions is not None
    assert 0 < row.engagers_sampled <= collect.ENGAGER_SAMPLE
    assert row.engagers_located <= row.engagers_sampled
    assert row.next_fetch_at == now + timedelta(hours=1)
    assert PostMetrics.objects.get(delivery=old).next_fetch_at == now + timedelta(days=1)
    assert not PostMetrics.objects.filter(delivery=too_old).exists()
    # Nothing is due again until its time.
    assert collect.collect_metrics(now + timedelta(minutes=30)) == 0
    assert collect.collect_metrics(now + timedelta(hours=2)) == 1


def test_platform_trouble_waits_an_hour_and_leaves_the_channel_alone(agency: Agency) -> None:
    dead = make_account(agency, kind="mastodon")  # points at a closed local port
    seal_credentials(dead, {"access_token": "token-for-a-dead-server"})
    dead.save()
    delivery = _published(dead, hours_ago=2)
    Delivery.objects.filter(pk=delivery.pk).update(platform_id="109876543210")
    now = timezone.now()
    assert collect.collect_metrics(now) == 0
    row = PostMetrics.objects.get(delivery=delivery)
    assert row.likes == 0 and row.impressions is None and row.last_error
    assert row.next_fetch_at == now + collect.RETRY_AFTER_FAILURE
    # Insights is side work: the channel's health, pause and failure count are untouched.
    dead.refresh_from_db()
    assert dead.status == ConnectedAccount.Status.ACTIVE
    assert dead.last_error_reason == "" and dead.consecutive_failures == 0
    assert dead.paused_until is None
    # Not asked again before the hour is up.
    assert collect.collect_metrics(now + timedelta(minutes=30)) == 0
    assert PostMetrics.objects.get(delivery=delivery).fetched_at == row.fetched_at

    assert collect.collect_audience(now) == 0
    attempt = AudienceSnapshot.objects.get(account=dead)
    assert not attempt.ok and attempt.followers is None
    assert collect.collect_audience(now + timedelta(minutes=10)) == 0  # within the hour


def test_the_channels_loop_only_enqueues_one_run_at_a_time() -> None:
    from django_tasks_db.models import DBTaskResult

    from beatdesk.insights import schedule

    schedule._pending_id = None
    schedule._last_enqueued = None
    now = timezone.now()
    schedule.on_tick(now)
    assert DBTaskResult.objects.count() == 1
    schedule.on_tick(now + timedelta(minutes=1))  # too soon
    # No worker has run the first: five minutes on, nothing more is queued.
    schedule.on_tick(now + timedelta(minutes=6))
    assert DBTaskResult.objects.count() == 1
    DBTaskResult.objects.update(status="SUCCESSFUL")
    schedule.on_tick(now + timedelta(minutes=12))
    assert DBTaskResult.objects.count() == 2
    schedule._pending_id = None
    schedule._last_enqueued = None
