"""Inbox pages through the real URL stack (access rules are in tests/test_access.py)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from beatdesk.agencies.models import Agency, Staff
from beatdesk.channels.models import Delivery
from beatdesk.inbox.models import Conversation
from tests.channels.factories import make_account
from tests.conftest import force_sign_in, make_staff

from .factories import inbound_item, receive

pytestmark = pytest.mark.django_db

THREAT = "Please help, my ex is outside with a knife and says he will kill me"


@pytest.fixture
def operator(agency: Agency) -> Staff:
    return make_staff(agency, "desk_operator", "operator")


@pytest.fixture
def client(operator: Staff) -> Client:
    c = Client()
    force_sign_in(c, operator)
    return c


def test_queue_orders_by_priority_then_age(agency: Agency, client: Client) -> None:
    account = make_account(agency)
    receive(account, inbound_item("Thanks for all you do!", author="fan"))
    receive(account, inbound_item(THREAT, author="victim"))
    page = client.get("/inbox/?view=all").content.decode()
    rows = re.findall(r'data-testid="queue-row"', page)
    assert len(rows) == 2
    assert page.index("victim") < page.index("fan")


def test_live_lists_open_p1s_for_every_page(agency: Agency, client: Client) -> None:
    account = make_account(agency)
    receive(account, inbound_item(THREAT, author="victim"))
    data = client.get("/inbox/live/").json()
    assert data["open"]["P1"] == 1
    [alert] = data["p1"]
    assert alert["author"] == "@victim" and "knife" in alert["text"]
    home = client.get("/").content.decode()
    assert 'data-live-url="/inbox/live/"' in home


def test_reply_with_the_emergency_template_from_the_page(
    agency: Agency, client: Client, operator: Staff
) -> None:
    account = make_account(agency)
    [message] = receive(account, inbound_item(THREAT, author="victim"))
    conversation = Conversation.objects.get(triages__message=message)
    page = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert 'data-template-key="emergency"' in page
    token = re.search(r'name="client_token" value="([^"]+)"', page)
    assert token
    form = {
        "message_id": message.pk,
        "client_token": token.group(1),
        "template_key": "emergency",
        "text": "If anyone is in immediate danger please call 999 now.",
        "close_reason": "",
    }
    assert client.post(f"/inbox/c/{conversation.pk}/reply/", form).status_code == 302
    # A double submission of the same form sends nothing more.
    assert client.post(f"/inbox/c/{conversation.pk}/reply/", form).status_code == 302
    assert Delivery.objects.filter(source_type="inbox.reply").count() == 1
    page = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert 'data-testid="thread-reply"' in page and "Waiting to send" in page
    assert client.get("/inbox/live/").json()["open"]["P1"] == 0


def test_a_bad_reply_is_explained_not_lost(agency: Agency, client: Client) -> None:
    account = make_account(agency)
    [message] = receive(account, inbound_item("Hello?", author="someone"))
    conversation = Conversation.objects.get(triages__message=message)
    response = client.post(
        f"/inbox/c/{conversation.pk}/reply/",
        {"message_id": message.pk, "client_token": "x", "text": "", "close_reason": ""},
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()


def test_bulk_close_as_spam(agency: Agency, client: Client) -> None:
    account = make_account(agency)
    messages = receive(
        account,
        inbound_item("WIN a FREE iPhone click here", author="spammer1"),
        inbound_item("Cheap followers click now", author="spammer2"),
    )
    ids = [Conversation.objects.get(triages__message=m).pk for m in messages]
    response = client.post("/inbox/bulk/", {"conversation": ids, "action": "spam"})
    assert response.status_code == 302
    assert set(Conversation.objects.values_list("close_reason", flat=True)) == {"spam"}


def test_contact_history_and_notes(agency: Agency, client: Client) -> None:
    account = make_account(agency)
    [message] = receive(account, inbound_item("Hello", author="regular"))
    contact_id = Conversation.objects.get(triages__message=message).contact_id
    assert (
        client.post(f"/inbox/contacts/{contact_id}/", {"text": "Helpful caller"}).status_code == 302
    )
    page = client.get(f"/inbox/contacts/{contact_id}/").content.decode()
    assert "Helpful caller" in page and "Hello" in page


def test_settings_page_for_admins(agency: Agency) -> None:
    admin = make_staff(agency, "agency_admin", "admin")
    c = Client()
    force_sign_in(c, admin)
    response = c.post(
        "/inbox/settings/",
        {
            "p1_minutes": 5,
            "p2_minutes": 20,
            "p3_minutes": 200,
            "p4_minutes": 1000,
            "warn_percent": 80,
            "non_emergency_number": "101",
            "online_report_url": "https://example.police.uk/report",
        },
    )
    assert response.status_code == 302
    assert "20" in c.get("/inbox/settings/").content.decode()


def test_live_counts_targets_at_risk_in_my_queue(agency: Agency, client: Client) -> None:
    from beatdesk.inbox import actions

    account = make_account(agency)
    [message] = receive(account, inbound_item("How do I get a copy of a crash report?"))
    conversation = Conversation.objects.get(triages__message=message)
    assert client.get("/inbox/live/").json()["at_risk"] == 0
    assert conversation.warn_at is not None
    actions.check_targets(conversation.warn_at)
    assert client.get("/inbox/live/").json()["at_risk"] == 1


def test_queue_ignores_a_bad_team_filter(client: Client) -> None:
    assert client.get("/inbox/?view=team-abc").status_code == 200
    assert client.get("/inbox/?view=team-99999&status=closed&priority=P9").status_code == 200


def test_the_live_poll_does_not_keep_an_idle_session_alive(client: Client) -> None:
    import time as clock

    session = client.session
    session["last_seen"] = clock.time() - 600
    session.save()
    assert client.get("/inbox/live/", headers={"X-Beatdesk-Poll": "1"}).status_code == 200
    assert client.session["last_seen"] < clock.time() - 500
    assert client.get("/inbox/live/").status_code == 200  # a person's own request counts
    assert client.session["last_seen"] > clock.time() - 5


def test_the_thread_always_shows_this_conversations_messages(
    agency: Agency, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from beatdesk.inbox import views

    monkeypatch.setattr(views, "THREAD_LIMIT", 2)
    account = make_account(agency)
    receive(account, inbound_item("First!", author="early", thread_root_id="appeal"))
    for n in range(3):
        receive(account, inbound_item(f"Shared {n}", author=f"other{n}", thread_root_id="appeal"))
    conversation = Conversation.objects.get(author_id="id-early")
    page = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert "First!" in page and "Shared 2" in page and "Shared 0" not in page
    assert 'name="client_token"' in page  # the reply form is there
