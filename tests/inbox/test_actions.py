"""Replies at most once, clocks that stop at the first response, warnings and escalation."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Agency, Staff, Team
from beatdesk.audit.models import AuditEvent
from beatdesk.channels.models import Delivery
from beatdesk.inbox import actions
from beatdesk.inbox.models import Conversation, InboxSettings, StaffedHours
from beatdesk.inbox.process import settings_for, team_windows
from tests.channels.factories import make_account
from tests.conftest import make_staff

from .factories import add_neighbourhood, inbound_item, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(agency: Agency) -> Staff:
    return make_staff(agency, "desk_operator", "operator")


def _conversation(agency: Agency, text: str, **item: Any) -> Conversation:
    [message] = receive(make_account(agency), inbound_item(text, **item))
    return Conversation.objects.get(triages__message=message)


def test_a_reply_goes_out_once_per_form_and_stops_the_clock(
    agency: Agency, operator: Staff
) -> None:
    conversation = _conversation(agency, "Who do I call about a burglary last night?")
    message = conversation.triages.get().message
    assert conversation.due_at is not None
    first = actions.send_reply(
        actor=operator,
        conversation=conversation,
        message=message,
        text="Please call 101 or report online.",
        client_token="token-1",
        template_key="report_crime",
    )
    again = actions.send_reply(
        actor=operator,
        conversation=conversation,
        message=message,
        text="Please call 101 or report online.",
        client_token="token-1",
    )
    assert first.pk == again.pk
    assert Delivery.objects.count() == 1
    delivery = Delivery.objects.get()
    assert delivery.reply_to_id == message.platform_id
    assert delivery.account_id == message.account_id
    assert delivery.source_type == "inbox.reply"
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.ACKNOWLEDGED
    assert conversation.due_at is None and conversation.first_response_at is not None
    assert conversation.responded_by == operator
    assert AuditEvent.objects.filter(event_type="inbox.replied").count() == 1


def test_a_reply_is_refused_with_reasons(agency: Agency, operator: Staff) -> None:
    conversation = _conversation(agency, "Hello")
    other = _conversation(agency, "Another thing", author="someone.else")
    message = conversation.triages.get().message
    with pytest.raises(ActionError, match="Write a reply"):
        actions.send_reply(
            actor=operator, conversation=conversation, message=message, text=" ", client_token="t"
        )
    with pytest.raises(ActionError, match="not part of this conversation"):
        actions.send_reply(
            actor=operator,
            conversation=conversation,
            message=other.triages.get().message,
            text="Hi",
            client_token="t",
        )
    message.account.status = "broken"
    message.account.save()
    with pytest.raises(ActionError, match="reconnect"):
        actions.send_reply(
            actor=operator, conversation=conversation, message=message, text="Hi", client_token="t"
        )
    assert Delivery.objects.count() == 0


def test_acknowledge_then_close_with_a_reason(agency: Agency, operator: Staff) -> None:
    conversation = _conversation(agency, "Is the road closed near the station?")
    actions.acknowledge(actor=operator, conversation=conversation)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.ACKNOWLEDGED
    assert conversation.first_response_seconds is not None
    with pytest.raises(ActionError):
        actions.close(actor=operator, conversation=conversation, reason="bored")
    actions.close(actor=operator, conversation=conversation, reason="answered", note="Done")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED
    assert conversation.close_reason == "answered"
    events = list(
        AuditEvent.objects.filter(object_type="inbox.conversation", object_id=str(conversation.pk))
        .order_by("seq")
        .values_list("event_type", flat=True)
    )
    assert events == ["inbox.acknowledged", "inbox.closed"]
    queued = AuditEvent.objects.get(event_type="inbox.triaged")
    assert queued.data["opened"] == [conversation.pk]


def test_a_target_about_to_be_missed_warns_and_escalates_to_the_desk(agency: Agency) -> None:
    _, _, team = add_neighbourhood(agency)
    team.staffed_24_7 = True
    team.save()
    conversation = _conversation(
        agency, "Is there a reason the police were on my street in Eccles today?"
    )
    assert conversation.team == team
    target = timedelta(minutes=settings_for(agency.pk).target_minutes(conversation.priority))
    start = conversation.needs_response_since
    assert start is not None and conversation.warn_at is not None
    assert conversation.warn_at == start + target * 0.75

    assert actions.check_targets(start + target * 0.5) == (0, 0)
    assert actions.check_targets(start + target * 0.8) == (1, 0)
    conversation.refresh_from_db()
    assert conversation.warned_at is not None and conversation.escalated_at is not None
    assert conversation.team == team  # the team keeps it; the desk now sees it too
    warning = AuditEvent.objects.get(event_type="inbox.target_warning")
    assert "escalated to the 24/7 desk" in warning.summary
    assert warning.data["escalated"] == [conversation.pk]
    # Once only.
    assert actions.check_targets(start + target * 0.9) == (0, 0)
    assert actions.check_targets(start + target + timedelta(seconds=1)) == (0, 1)
    assert AuditEvent.objects.filter(event_type="inbox.target_missed").count() == 1


def test_the_desk_queue_shows_escalations(agency: Agency) -> None:
    from django.test import Client

    from tests.conftest import force_sign_in

    add_neighbourhood(agency)
    desk_operator = make_staff(agency, "desk_operator", "desk-only")
    desk_operator.teams.set(Team.objects.filter(agency=agency, kind=Team.Kind.DIGITAL_DESK))
    conversation = _conversation(agency, "Why was there a police car in Eccles this morning?")
    client = Client()
    force_sign_in(client, desk_operator)
    assert f"/inbox/c/{conversation.pk}/" not in client.get("/inbox/").content.decode()
    start = conversation.needs_response_since
    assert start is not None
    actions.check_targets(start + timedelta(days=10))
    assert f"/inbox/c/{conversation.pk}/" in client.get("/inbox/").content.decode()


def test_office_hours_teams_count_only_staffed_time(agency: Agency) -> None:
    _, _, team = add_neighbourhood(agency)
    assert not team.staffed_24_7
    StaffedHours.objects.create(
        team=team,
        weekday=0,
        opens=time.min,
        closes=time.max,
    )
    # Only Mondays are staffed: a P3/P4 arriving on a Tuesday is due the next Monday.
    conversation = _conversation(agency, "Any advice on bike locks? I live in Eccles")
    assert conversation.team == team
    assert conversation.priority in {"P3", "P4"}
    assert conversation.due_at is not None
    local_due = timezone.localtime(conversation.due_at)
    assert local_due.weekday() == 0


def test_settings_validate_and_audit(agency: Agency) -> None:
    admin = make_staff(agency, "agency_admin", "admin")
    values = {
        "p1_minutes": 10,
        "p2_minutes": 5,
        "p3_minutes": 240,
        "p4_minutes": 1440,
        "warn_percent": 75,
        "online_report_url": "",
        "non_emergency_number": "101",
    }
    with pytest.raises(ActionError, match="longer target"):
        actions.save_settings(actor=admin, agency=agency, values=values)
    values["p2_minutes"] = 20
    actions.save_settings(actor=admin, agency=agency, values=values)
    assert InboxSettings.objects.get(agency=agency).p1_minutes == 10
    assert AuditEvent.objects.filter(event_type="inbox.settings_changed").exists()


def test_contact_notes_are_audited(agency: Agency, operator: Staff) -> None:
    conversation = _conversation(agency, "Hello again")
    with pytest.raises(ActionError):
        actions.add_contact_note(actor=operator, contact=conversation.contact, text="  ")
    actions.add_contact_note(
        actor=operator, contact=conversation.contact, text="Long-standing contact"
    )
    assert conversation.contact.notes.count() == 1
    assert AuditEvent.objects.filter(event_type="inbox.contact_note_added").exists()


def test_staffed_hours_from_the_settings_page_retime_open_targets(agency: Agency) -> None:
    from django.test import Client

    from tests.conftest import force_sign_in

    _, _, team = add_neighbourhood(agency)
    conversation = _conversation(agency, "Any advice on bike locks? I live in Eccles")
    assert conversation.team == team
    before = conversation.due_at
    admin = make_staff(agency, "agency_admin", "hours-admin")
    client = Client()
    force_sign_in(client, admin)
    response = client.post(f"/inbox/settings/hours/{team.pk}/", {"hours": "Sun 09:00-17:00"})
    assert response.status_code == 302
    assert [(w.weekday, w.opens.hour) for w in team_windows(team)] == [(6, 9)]
    conversation.refresh_from_db()
    assert conversation.due_at != before
    assert timezone.localtime(conversation.due_at).weekday() == 6
    assert AuditEvent.objects.filter(event_type="inbox.staffed_hours_changed").exists()
    client.post(f"/inbox/settings/hours/{team.pk}/", {"hours": "Mon 18:00-08:00"})
    assert len(team_windows(team)) == 1  # refused, unchanged
    assert "Sun 09:00-17:00" in client.get("/inbox/settings/").content.decode()


def test_many_targets_at_once_are_one_update_and_one_event(agency: Agency) -> None:
    account = make_account(agency)
    receive(
        account,
        *[inbound_item(f"Question number {n} about parking", author=f"p{n}") for n in range(5)],
    )
    latest_warning = max(c.warn_at for c in Conversation.objects.all() if c.warn_at)
    assert actions.check_targets(latest_warning) == (5, 0)
    [event] = AuditEvent.objects.filter(event_type="inbox.target_warning")
    assert sorted(event.data["conversations"]) == sorted(
        Conversation.objects.values_list("pk", flat=True)
    )
    assert Conversation.objects.filter(warned_at__isnull=True).count() == 0
