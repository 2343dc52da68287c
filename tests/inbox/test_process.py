"""Every arriving message is triaged, threaded into a conversation, and routed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from beatdesk.agencies.models import Agency, Team
from beatdesk.audit.models import AuditEvent
from beatdesk.channels.models import InboundMessage
from beatdesk.inbox.models import Conversation, MessageTriage, PublicContact
from beatdesk.inbox.process import process_messages, sweep_untriaged
from tests.channels.factories import make_account

from .factories import add_neighbourhood, inbound_item, receive

pytestmark = pytest.mark.django_db

THREAT = "He says he is going to kill me, he has a knife and he is outside my door now"


def test_a_threat_to_life_is_p1_and_goes_to_the_24_7_desk(agency: Agency) -> None:
    add_neighbourhood(agency)
    account = make_account(agency)
    [message] = receive(account, inbound_item(THREAT + " in Eccles"))
    triage = MessageTriage.objects.get(message=message)
    assert triage.priority == "P1"
    conversation = triage.conversation
    assert conversation.team is not None and conversation.team.kind == Team.Kind.DIGITAL_DESK
    assert conversation.area is not None and conversation.area.name == "Eccles"
    assert conversation.status == Conversation.Status.NEW
    assert conversation.needs_response_since is not None
    assert conversation.due_at == conversation.needs_response_since + timedelta(minutes=5)
    event = AuditEvent.objects.get(event_type="inbox.triaged")
    [urgent] = event.data["urgent"]
    assert urgent["conversation"] == conversation.pk and urgent["priority"] == "P1"
    assert urgent["routing"] == conversation.routing_reason


def test_a_place_named_in_the_text_reaches_that_neighbourhood_team(agency: Agency) -> None:
    _, ward, team = add_neighbourhood(agency)
    account = make_account(agency)
    [message] = receive(
        account,
        inbound_item("Can someone look at the car that has been abandoned in Eccles for weeks?"),
    )
    conversation = Conversation.objects.get(triages__message=message)
    assert conversation.area == ward
    assert conversation.team == team
    assert "Eccles" in conversation.routing_reason


def test_a_geotag_inside_a_ward_beats_the_places_named(agency: Agency) -> None:
    _, ward, team = add_neighbourhood(agency)
    account = make_account(agency)
    [message] = receive(
        account,
        inbound_item(
            "Thanks for the leaflet about the Didsbury open day, see you there",
            location="Leeds",
            geo=(53.485, -2.33),
        ),
    )
    assert (message.geo_lat, message.geo_lon) == (53.485, -2.33)
    conversation = Conversation.objects.get(triages__message=message)
    assert conversation.area == ward and conversation.team == team, conversation.routing_reason
    assert message.triage.place_source == "geotag"
    assert "geotag" in conversation.routing_reason


def test_a_geotag_outside_the_agency_is_ignored(agency: Agency) -> None:
    _, ward, _ = add_neighbourhood(agency)
    account = make_account(agency)
    [message] = receive(
        account,
        inbound_item("Abandoned car in Eccles", geo=(51.5, -0.12)),  # London
    )
    assert Conversation.objects.get(triages__message=message).area == ward


def test_the_author_profile_location_routes_when_the_text_names_nowhere(agency: Agency) -> None:
    district, _, team = add_neighbourhood(agency)
    account = make_account(agency)
    [message] = receive(
        account,
        inbound_item(
            "Is anyone going to answer my question about the noise?", location="Salford, UK"
        ),
    )
    conversation = Conversation.objects.get(triages__message=message)
    assert conversation.team == team
    assert conversation.area == district
    assert message.triage.place_source == "profile"


def test_a_place_outside_the_agency_is_not_used(agency: Agency) -> None:
    add_neighbourhood(agency)
    account = make_account(agency)
    [message] = receive(
        account, inbound_item("Where do I report a lost dog?", location="Cardiff, Wales")
    )
    conversation = Conversation.objects.get(triages__message=message)
    assert conversation.area is None


def test_intelligence_and_complaints_go_to_their_teams(agency: Agency) -> None:
    add_neighbourhood(agency)
    account = make_account(agency)
    intel, complaint = receive(
        account,
        inbound_item(
            "There's drug dealing from the flat above the chip shop every night, cars pull up "
            "and lads run bags out to them",
            author="neighbour",
        ),
        inbound_item(
            "I want to make a formal complaint about the officer who was rude to me and ignored "
            "my report, absolutely disgraceful service",
            author="unhappy",
        ),
    )
    intel_conversation = Conversation.objects.get(triages__message=intel)
    complaint_conversation = Conversation.objects.get(triages__message=complaint)
    assert intel_conversation.category == "intelligence"
    assert intel_conversation.team.kind == Team.Kind.INTELLIGENCE  # type: ignore[union-attr]
    assert complaint_conversation.category == "complaint"
    assert complaint_conversation.team.kind == Team.Kind.STANDARDS  # type: ignore[union-attr]


def test_replies_in_one_thread_from_one_person_are_one_conversation(agency: Agency) -> None:
    account = make_account(agency)
    first = inbound_item("Thanks for the update", author="resident", thread_root_id="post-1")
    second = inbound_item("Any news on this?", author="resident", thread_root_id="post-1")
    other = inbound_item("I saw it too", author="someone.else", thread_root_id="post-1")
    receive(account, first)
    receive(account, second, other)
    resident = Conversation.objects.get(author_id="id-resident")
    assert resident.message_count == 2
    assert Conversation.objects.filter(thread_key="post-1").count() == 2
    contact = PublicContact.objects.get(author_id="id-resident")
    assert contact.message_count == 2


def test_a_new_message_reopens_a_closed_conversation(agency: Agency) -> None:
    from beatdesk.inbox import actions
    from tests.conftest import make_staff

    operator = make_staff(agency, "desk_operator", "op")
    account = make_account(agency)
    receive(account, inbound_item("Thanks", author="resident", thread_root_id="post-2"))
    conversation = Conversation.objects.get(author_id="id-resident")
    actions.close(actor=operator, conversation=conversation, reason="no_action")
    receive(account, inbound_item(THREAT, author="resident", thread_root_id="post-2"))
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.NEW
    assert conversation.priority == "P1"
    assert conversation.close_reason == ""
    assert conversation.due_at is not None


def test_more_spam_from_a_closed_spammer_stays_closed(agency: Agency) -> None:
    from beatdesk.inbox import actions
    from tests.conftest import make_staff

    operator = make_staff(agency, "desk_operator", "op2")
    account = make_account(agency)
    receive(account, inbound_item("Buy followers", author="spammer", thread_root_id="post-9"))
    conversation = Conversation.objects.get(author_id="id-spammer")
    actions.bulk_close(actor=operator, conversations=[conversation], reason="spam", hide=False)
    receive(account, inbound_item("Buy more followers", author="spammer", thread_root_id="post-9"))
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED
    assert conversation.message_count == 2
    receive(account, inbound_item(THREAT, author="spammer", thread_root_id="post-9"))
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.NEW and conversation.priority == "P1"


def test_processing_is_idempotent_and_the_sweep_catches_what_was_missed(agency: Agency) -> None:
    account = make_account(agency)
    from beatdesk.channels.ingest import store_items

    store_items(account, [inbound_item("Lost a wallet on the high street"), inbound_item("Hello")])
    ids = list(InboundMessage.objects.values_list("pk", flat=True))
    assert MessageTriage.objects.count() == 0  # the listener never ran (test transaction)
    assert sweep_untriaged() == 0  # too fresh: another loop's listener may be on it
    later = timezone.now() + timedelta(seconds=30)
    assert sweep_untriaged(later) == 2
    assert process_messages(ids) == 0
    assert sweep_untriaged(later) == 0
    assert MessageTriage.objects.count() == 2
    assert Conversation.objects.count() == 2


def test_old_messages_are_left_to_humans_not_the_sweep(agency: Agency) -> None:
    account = make_account(agency)
    from beatdesk.channels.ingest import store_items

    store_items(account, [inbound_item("Hello from long ago")])
    InboundMessage.objects.update(received_at=timezone.now() - timedelta(days=30))
    assert sweep_untriaged() == 0
