"""Channel pages as an admin uses them (against a real Mastodon API server)."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Agency, Staff
from beatdesk.agencies.roles import Role
from beatdesk.audit.models import AuditEvent
from beatdesk.channels import actions, ingest, runtime
from beatdesk.channels.models import ChannelAlert, ConnectedAccount, Delivery
from tests.channels.factories import make_account, make_delivery
from tests.channels.harness_mastodon import (  # noqa: F401
    MastodonHarness,
    mastodon_platform,
    mastodon_server,
)
from tests.conftest import force_sign_in, make_staff


@pytest.fixture
def admin_client(agency: Agency) -> tuple[Client, Staff]:
    admin = make_staff(agency, Role.AGENCY_ADMIN, "views-admin")
    client = Client()
    force_sign_in(client, admin, reauthenticated=True)
    return client, admin


@pytest.mark.django_db
def test_connect_by_form_stores_the_token_encrypted_and_never_echoes_it(
    admin_client: tuple[Client, Staff],
    mastodon_platform: MastodonHarness,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, admin = admin_client
    settings = mastodon_platform.force_account()
    token = settings.credentials["access_token"]
    team = admin.agency.teams.first()  # type: ignore[union-attr]
    assert team is not None
    caplog.set_level(logging.DEBUG)
    form = client.get("/channels/connect/?kind=mastodon")
    assert form.status_code == 200 and b'type="password"' in form.content
    # A wrong token: the form comes back with the platform's refusal, without the token.
    refused = client.post(
        "/channels/connect/?kind=mastodon",
        {"base_url": settings.base_url, "access_token": "wrong-token-123456", "scope": "force"},
    )
    assert refused.status_code == 200
    assert b"did not accept" in refused.content and b"wrong-token-123456" not in refused.content
    response = client.post(
        "/channels/connect/?kind=mastodon",
        {
            "base_url": settings.base_url,
            "access_token": token,
            "label": "Force account",
            "scope": "team",
            "team": team.pk,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    account = ConnectedAccount.objects.get(agency=admin.agency, kind="mastodon")
    assert account.team == team and account.handle
    assert token not in account.credentials_ciphertext
    assert runtime.credentials_of(account)["access_token"] == token
    detail = client.get(response["Location"]).content.decode()
    assert "Force account" in detail and token not in detail
    assert token not in client.get("/channels/").content.decode()
    assert token not in caplog.text
    event = AuditEvent.objects.get(event_type="channel.connected", object_id=str(account.pk))
    assert token not in str(event.data) and token not in event.summary


@pytest.mark.django_db
def test_reconnect_after_revocation_restores_the_channel(
    admin_client: tuple[Client, Staff],
    mastodon_platform: MastodonHarness,  # noqa: F811
) -> None:
    client, admin = admin_client
    settings = mastodon_platform.force_account()
    account = actions.connect_account(
        actor=admin, kind="mastodon", base_url=settings.base_url, credentials=settings.credentials
    )
    mastodon_platform.revoke_force_credentials()
    ingest.poll_account(account.pk)
    account.refresh_from_db()
    assert account.status == ConnectedAccount.Status.BROKEN
    assert ChannelAlert.objects.filter(account=account, acknowledged_at__isnull=True).exists()
    # Reconnect with a fresh token of the same account.
    fresh = mastodon_platform._login(mastodon_platform.force.username)
    assert fresh != settings.credentials["access_token"]
    response = client.post(f"/channels/accounts/{account.pk}/reconnect/", {"access_token": fresh})
    assert response.status_code == 302, response.content[:2000]
    account.refresh_from_db()
    assert account.status == ConnectedAccount.Status.ACTIVE
    assert not ChannelAlert.objects.filter(account=account, acknowledged_at__isnull=True).exists()


@pytest.mark.django_db
def test_disconnect_destroys_credentials_and_keeps_history(
    admin_client: tuple[Client, Staff], agency: Agency
) -> None:
    client, _ = admin_client
    account = make_account(agency)
    runtime.seal_credentials(account, {"access_token": "tok-to-destroy"})
    account.save()
    response = client.post(f"/channels/accounts/{account.pk}/disconnect/")
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.status == ConnectedAccount.Status.DISCONNECTED
    assert account.credentials_ciphertext == ""
    assert AuditEvent.objects.filter(event_type="channel.disconnected").exists()


@pytest.mark.django_db
def test_only_failed_posts_can_be_retried(
    admin_client: tuple[Client, Staff], agency: Agency
) -> None:
    client, _ = admin_client
    failed = make_delivery(agency, Delivery.State.FAILED)
    published = make_delivery(agency, Delivery.State.PUBLISHED)
    assert client.post(f"/channels/posts/{failed.pk}/retry/").status_code == 302
    failed.refresh_from_db()
    assert failed.state == Delivery.State.PENDING
    client.post(f"/channels/posts/{published.pk}/retry/")
    published.refresh_from_db()
    assert published.state == Delivery.State.PUBLISHED
    assert AuditEvent.objects.filter(event_type="delivery.retried").count() == 1


@pytest.mark.django_db
def test_oauth_callback_refuses_a_state_it_did_not_issue(
    admin_client: tuple[Client, Staff],
) -> None:
    client, _ = admin_client
    session = client.session
    session["channels_oauth"] = {"kind": "x", "state": "expected-state", "verifier": "v"}
    session.save()
    response = client.get("/channels/oauth/callback/?state=forged&code=abc", follow=True)
    assert b"not started here" in response.content
    assert not ConnectedAccount.objects.exists()


@pytest.mark.django_db
def test_assignment_refuses_another_agencys_team(
    admin_client: tuple[Client, Staff], agency: Agency, other_agency: Agency
) -> None:
    client, admin = admin_client
    account = make_account(agency)
    foreign_team = other_agency.teams.first()
    assert foreign_team is not None
    with pytest.raises(ActionError):
        actions.update_assignment(
            actor=admin,
            account=account,
            label="x",
            scope="team",
            team=foreign_team,
            officer=None,
            areas=[],
        )
    # Through the page, the other agency's team is simply not a choice.
    response = client.post(
        f"/channels/accounts/{account.pk}/edit/",
        {"label": "x", "scope": "team", "team": foreign_team.pk},
    )
    assert response.status_code == 200 and b"Select a valid choice" in response.content
