"""Daily figures built from rows made the way production makes them: messages stored by
the channels ingest and triaged by the inbox, responses and closes by the inbox
actions, reports raised by the intelligence action, deliveries and metrics rows."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from beatdesk.agencies.models import Agency, Area, Staff, Team
from beatdesk.agencies.roles import Role
from beatdesk.channels.keys import new_post_key
from beatdesk.channels.models import ConnectedAccount, Delivery, InboundMessage
from beatdesk.inbox import actions as inbox_actions
from beatdesk.inbox.models import Conversation, MessageTriage
from beatdesk.insights import figures
from beatdesk.insights.dashboard import Period, build_dashboard, summarise
from beatdesk.insights.models import AudienceSnapshot, DailyFigures, PostMetrics, Scope
from beatdesk.publishing.models import POST_SOURCE, Post, Purpose
from tests.channels.factories import make_account
from tests.conftest import make_staff
from tests.inbox.factories import add_neighbourhood, inbound_item, receive
from tests.intelligence.factories import raise_for

pytestmark = pytest.mark.django_db


def test_histogram_edges_are_increasing_and_fine_under_ten_minutes() -> None:
    edges = figures.BUCKET_EDGES
    assert list(edges) == sorted(set(edges))
    assert edges[:3] == (30, 60, 90)
    assert edges[-1] == 7 * 86400
    assert figures.bucket_of(0) == 0 and figures.bucket_of(30) == 0 and figures.bucket_of(31) == 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=6 * 86400), min_size=1, max_size=300))
def test_percentiles_from_the_histogram_are_within_one_step(times: list[int]) -> None:
    hist: dict[str, int] = {}
    for t in times:
        key = str(figures.bucket_of(t))
        hist[key] = hist.get(key, 0) + 1
    ordered = sorted(times)
    for fraction in (0.5, 0.9):
        estimate = figures.percentile(hist, fraction)
        assert estimate is not None
        exact = ordered[max(0, int(fraction * len(ordered) + 0.999999) - 1)]
        step_index = figures.bucket_of(exact)
        low = figures.BUCKET_EDGES[step_index - 1] if step_index else 0
        high = figures.BUCKET_EDGES[step_index]
        width = high - low
        assert abs(estimate - exact) <= width + 1e-6


def test_percentile_of_nothing_is_none() -> None:
    assert figures.percentile({}, 0.5) is None


def test_days_follow_london_time_across_the_clock_change() -> None:
    # 23:30 UTC on 1 July is 00:30 BST on 2 July; in January the same is still 1 Jan.
    assert figures.local_day(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)) == date(2026, 7, 2)
    assert figures.local_day(datetime(2026, 1, 1, 23, 30, tzinfo=UTC)) == date(2026, 1, 1)
    start, end = figures.day_bounds(date(2026, 10, 25))  # clocks go back: 25 hours
    assert end - start == timedelta(hours=25)


def _at(message: InboundMessage, moment: datetime) -> Conversation:
    InboundMessage.objects.filter(pk=message.pk).update(received_at=moment, created_at=moment)
    MessageTriage.objects.filter(message=message).update(triaged_at=moment)
    conversation = Conversation.objects.get(triages__message=message)
    Conversation.objects.filter(pk=conversation.pk).update(
        first_message_at=moment,
        last_message_at=moment,
        needs_response_since=moment,
        due_at=moment + timedelta(minutes=30),
    )
    conversation.refresh_from_db()
    return conversation


def _published(
    account: ConnectedAccount, post: Post | None, moment: datetime, source: str = POST_SOURCE
) -> Delivery:
    return Delivery.objects.create(
        agency=account.agency,
        account=account,
        source_type=source,
        source_id=str(post.pk) if post else new_post_key(),
        key=new_post_key(),
        text="Road closed",
        state=Delivery.State.PUBLISHED,
        platform_id=f"p-{new_post_key()}",
        published_at=moment,
    )


@pytest.fixture
def world(agency: Agency) -> dict[str, object]:
    district, ward, team = add_neighbourhood(agency)
    account = make_account(agency, scope=ConnectedAccount.Scope.TEAM, team=team)
    force_account = make_account(agency)
    operator = make_staff(agency, Role.DESK_OPERATOR, "insights-desk")
    return {
        "district": district,
        "ward": ward,
        "team": team,
        "account": account,
        "force_account": force_account,
        "operator": operator,
    }


def _docs(agency: Agency, day: date) -> dict[tuple[str, int], Any]:
    return {
        (row.scope, row.scope_id): row.figures
        for row in DailyFigures.objects.filter(agency=agency, day=day)
    }


def test_a_day_is_counted_in_every_scope_it_belongs_to(
    agency: Agency, other_agency: Agency, world: dict[str, object]
) -> None:
    account = world["account"]
    assert isinstance(account, ConnectedAccount)
    operator = world["operator"]
    assert isinstance(operator, Staff)
    ward, district = world["ward"], world["district"]
    assert isinstance(ward, Area) and isinstance(district, Area)
    day = date(2026, 3, 10)
    noon = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

    in_eccles, praise, crime = receive(
        account,
        inbound_item("Cars racing up and down in Eccles every night", author="a"),
        inbound_item("Thanks to the officers who helped my mum today", author="b"),
        inbound_item("Someone smashed my car window on my drive last night", author="c"),
    )
    fast = _at(in_eccles, noon)
    slow = _at(praise, noon + timedelta(minutes=1))
    closed = _at(crime, noon + timedelta(minutes=2))
    # Responses: one within its target, one after, one closed as a crime. The actions
    # decide "met" against the running target, so the targets are set around real now.
    real_now = timezone.now()
    Conversation.objects.filter(pk__in=[fast.pk, closed.pk]).update(
        due_at=real_now + timedelta(minutes=30)
    )
    Conversation.objects.filter(pk=slow.pk).update(due_at=real_now - timedelta(minutes=1))
    fast.refresh_from_db()
    slow.refresh_from_db()
    closed.refresh_from_db()
    inbox_actions.acknowledge(actor=operator, conversation=fast)
    Conversation.objects.filter(pk=fast.pk).update(
        first_response_at=noon + timedelta(minutes=4), first_response_seconds=240
    )
    inbox_actions.acknowledge(actor=operator, conversation=slow)
    Conversation.objects.filter(pk=slow.pk).update(
        first_response_at=noon + timedelta(hours=2), first_response_seconds=7140
    )
    inbox_actions.close(
        actor=operator, conversation=closed, reason=Conversation.CloseReason.CRIME_RECORDED
    )
    Conversation.objects.filter(pk=closed.pk).update(
        closed_at=noon + timedelta(minutes=20),
        first_response_at=noon + timedelta(minutes=20),
        first_response_seconds=1080,
    )
    post = Post.objects.create(
        agency=agency,
        author=operator,
        text="Road closed",
        purpose=Purpose.OPERATIONS,
    )
    delivery = _published(account, post, noon)
    PostMetrics.objects.create(
        delivery=delivery,
        agency=agency,
        likes=10,
        reposts=2,
        replies=1,
        impressions=500,
        engagers_sampled=12,
        engagers_located=6,
        engagers_local=4,
    )
    _published(account, None, noon, source="inbox.reply")
    AudienceSnapshot.objects.create(
        agency=agency, account=account, day=day, followers=250, sampled=100, located=40, local=30
    )
    # Another agency's activity on the same day never shows.
    other_account = make_account(other_agency)
    receive(other_account, inbound_item("Another force's message", author="z"))

    built = figures.build_days(agency, [day])
    assert built == 1
    docs = _docs(agency, day)
    team = world["team"]
    force = Area.objects.get(agency=agency, kind=Area.Kind.FORCE_AREA)
    whole = docs[(Scope.AGENCY, 0)]
    assert whole["messages"] == 3
    assert whole["outcomes"] == {"crime_recorded": 1}
    assert whole["posts"] == 1 and whole["deliveries"] == 1 and whole["replies_sent"] == 1
    assert whole["by_purpose"] == {"operations": 1}
    assert whole["engagement"]["impressions"] == 500
    assert whole["engagement"]["reach_engagements"] == 13
    assert whole["audience"] == {str(account.pk): [250, 100, 40, 30]}
    responses = whole["response"]
    assert isinstance(responses, dict)
    started = sum(r["started"] for r in responses.values())
    met = sum(r.get("met", 0) for r in responses.values())
    missed = sum(r.get("missed", 0) for r in responses.values())
    assert (started, met, missed) == (3, 2, 1)
    # The Eccles message counts in Eccles, Salford and the force area; the others name
    # no place (and the account has no area of its own), so they count in no area.
    assert docs[(Scope.AREA, ward.pk)]["messages"] == 1
    assert docs[(Scope.AREA, district.pk)]["messages"] == 1
    assert docs[(Scope.AREA, force.pk)]["messages"] == 1
    # The team's post counts in the team's area (Salford) and above, not in Eccles.
    assert docs[(Scope.AREA, district.pk)]["posts"] == 1
    assert docs[(Scope.AREA, force.pk)]["posts"] == 1
    assert docs[(Scope.AREA, ward.pk)]["posts"] == 0
    assert docs[(Scope.ACCOUNT, account.pk)]["posts"] == 1
    assert isinstance(team, Team)
    assert docs[(Scope.TEAM, team.pk)]["posts"] == 1
    assert not DailyFigures.objects.filter(agency=other_agency).exists()

    summary = summarise(agency, Scope.AGENCY, 0, Period(day, day))
    assert summary.targets_met() == pytest.approx(200 / 3)
    assert summary.engagement_rate() == pytest.approx(100 * 13 / 500)
    assert summary.local_share("followers") == pytest.approx(75.0)
    assert summary.local_share("engagers") == pytest.approx(100 * 4 / 6)
    median = summary.response_time(None, 0.5)
    assert median is not None and 990 <= median <= 1080


def test_intelligence_reports_and_found_people_are_outcomes(
    agency: Agency, world: dict[str, object]
) -> None:
    report = raise_for(agency)
    day = figures.local_day(report.created_at)
    figures.build_days(agency, [day])
    assert _docs(agency, day)[(Scope.AGENCY, 0)]["outcomes"]["intelligence_reports"] == 1

    account = world["account"]
    assert isinstance(account, ConnectedAccount)
    operator = world["operator"]
    assert isinstance(operator, Staff)
    appeal = Post.objects.create(
        agency=agency,
        author=operator,
        text="Missing: have you seen Ann?",
        purpose=Purpose.INVESTIGATION,
        template_key="missing_person",
    )
    found_at = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
    _published(account, appeal, found_at - timedelta(days=1))
    Post.objects.filter(pk=appeal.pk).update(person_found_at=found_at)
    figures.build_days(agency, [date(2026, 4, 2)])
    docs = _docs(agency, date(2026, 4, 2))
    assert docs[(Scope.AGENCY, 0)]["outcomes"] == {"people_found": 1}
    assert docs[(Scope.ACCOUNT, account.pk)]["outcomes"] == {"people_found": 1}


def test_refresh_rebuilds_only_the_days_whose_rows_changed(
    agency: Agency, world: dict[str, object]
) -> None:
    account = world["account"]
    assert isinstance(account, ConnectedAccount)
    operator = world["operator"]
    assert isinstance(operator, Staff)
    # Change detection reads real timestamps (auto_now), so the runs are placed in the
    # recent past and the source rows further back.
    real = timezone.now()
    old = real - timedelta(days=8)
    (message,) = receive(account, inbound_item("Is the road by the park open again?"))
    conversation = _at(message, old)
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=old)
    old_day = figures.local_day(old)

    first = figures.refresh(agency, now=real - timedelta(minutes=30))
    assert first == (figures.local_day(real - timedelta(minutes=30)) - old_day).days + 1
    whole = _docs(agency, old_day)[(Scope.AGENCY, 0)]
    assert sum(r.get("responded", 0) for r in whole["response"].values()) == 0

    # Nothing changed: only today is rebuilt.
    assert figures.refresh(agency, now=real - timedelta(minutes=20)) == 1
    # A late response to the old conversation rebuilds its day (and today).
    inbox_actions.acknowledge(actor=operator, conversation=conversation)
    assert figures.refresh(agency, now=timezone.now()) == 2
    whole = _docs(agency, old_day)[(Scope.AGENCY, 0)]
    assert sum(r.get("responded", 0) for r in whole["response"].values()) == 1
    # So does re-routing it to another team (no response time moves).
    figures.refresh(agency, now=timezone.now())
    desk = Team.objects.create(agency=agency, name="Digital Desk", kind=Team.Kind.DIGITAL_DESK)
    inbox_actions.reroute(actor=operator, conversation=conversation, team=desk, note="")
    assert figures.refresh(agency, now=timezone.now()) == 2
    assert (Scope.TEAM, desk.pk) in _docs(agency, old_day)


def test_dashboard_compares_two_periods(agency: Agency, world: dict[str, object]) -> None:
    account = world["account"]
    assert isinstance(account, ConnectedAccount)
    rng = random.Random(7)
    expected = {"now": 0, "then": 0}
    for offset in range(14):
        day = date(2026, 6, 1) + timedelta(days=offset)
        n = rng.randint(0, 3)
        expected["then" if offset < 7 else "now"] += n
        for i in range(n):
            (message,) = receive(account, inbound_item(f"Question {offset}-{i} about parking"))
            _at(
                message,
                datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12),
            )
    figures.refresh(agency, now=datetime(2026, 6, 15, 12, tzinfo=UTC))
    period = Period(date(2026, 6, 8), date(2026, 6, 14))
    dashboard = build_dashboard(agency, Scope.AGENCY, 0, agency.name, period, period.previous())
    assert dashboard.compare == Period(date(2026, 6, 1), date(2026, 6, 7))
    messages = {f.key: f for f in dashboard.headline}["messages"]
    assert (messages.current, messages.previous) == (expected["now"], expected["then"])
    series = dashboard.series("messages")
    assert len(series) == 7
    assert sum(s[1] for s in series) == expected["now"]
    assert sum(s[2] for s in series) == expected["then"]


def test_a_reopened_conversation_counts_its_outcome_once(
    agency: Agency, world: dict[str, object]
) -> None:
    account = world["account"]
    assert isinstance(account, ConnectedAccount)
    operator = world["operator"]
    assert isinstance(operator, Staff)
    (message,) = receive(account, inbound_item("My shed was broken into overnight"))
    conversation = Conversation.objects.get(triages__message=message)
    day = figures.local_day(conversation.first_message_at)
    inbox_actions.close(
        actor=operator, conversation=conversation, reason=Conversation.CloseReason.CRIME_RECORDED
    )
    figures.refresh(agency)
    assert _docs(agency, day)[(Scope.AGENCY, 0)]["outcomes"] == {"crime_recorded": 1}
    inbox_actions.reopen(actor=operator, conversation=conversation, note="They wrote back")
    figures.refresh(agency)
    assert _docs(agency, day)[(Scope.AGENCY, 0)]["outcomes"] == {}
    inbox_actions.close(
        actor=operator, conversation=conversation, reason=Conversation.CloseReason.COMPLAINT
    )
    figures.refresh(agency)
    assert _docs(agency, day)[(Scope.AGENCY, 0)]["outcomes"] == {"complaint": 1}


def test_spam_closed_in_bulk_is_not_a_response(agency: Agency, world: dict[str, object]) -> None:
    account = world["account"]
    assert isinstance(account, ConnectedAccount)
    operator = world["operator"]
    assert isinstance(operator, Staff)
    (message,) = receive(account, inbound_item("Win a free phone, click my profile"))
    conversation = Conversation.objects.get(triages__message=message)
    inbox_actions.bulk_close(
        actor=operator,
        conversations=[conversation],
        reason=Conversation.CloseReason.SPAM,
        hide=False,
    )
    figures.refresh(agency)
    whole = _docs(agency, figures.local_day(conversation.first_message_at))[(Scope.AGENCY, 0)]
    assert whole["messages"] == 1
    assert whole["response"] == {}


def test_followers_take_each_accounts_latest_snapshot(
    agency: Agency, world: dict[str, object]
) -> None:
    account = world["account"]
    other = world["force_account"]
    assert isinstance(account, ConnectedAccount) and isinstance(other, ConnectedAccount)
    monday, tuesday = date(2026, 3, 2), date(2026, 3, 3)
    for acct, day, followers in ((account, monday, 10_000), (other, monday, 400)):
        AudienceSnapshot.objects.create(
            agency=agency,
            account=acct,
            day=day,
            followers=followers,
            sampled=10,
            located=5,
            local=2,
        )
    # On Tuesday only the small account was read (the big one failed): the big one's
    # Monday figure still stands.
    AudienceSnapshot.objects.create(
        agency=agency, account=other, day=tuesday, followers=500, sampled=10, located=5, local=3
    )
    AudienceSnapshot.objects.create(
        agency=agency, account=account, day=tuesday, followers=None, ok=False, note="429"
    )
    figures.build_days(agency, [monday, tuesday])
    summary = summarise(agency, Scope.AGENCY, 0, Period(monday, tuesday))
    assert summary.audience["followers"] == 10_500
    assert summary.local_share("followers") == pytest.approx(100 * 5 / 10)


def test_two_runners_never_build_the_same_agency_at_once(agency: Agency) -> None:
    from beatdesk.insights import lease

    token = lease.claim(f"refresh:{agency.pk}", minutes=5)
    assert token is not None
    assert lease.claim(f"refresh:{agency.pk}", minutes=5) is None
    assert figures.refresh(agency) == 0  # busy: skipped, not crashed
    lease.release(f"refresh:{agency.pk}", token)
    assert figures.refresh(agency) >= 1
