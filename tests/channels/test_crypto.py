"""Credentials at rest: authenticated encryption, row binding, key rotation."""

from __future__ import annotations

import logging

import pytest
from django.conf import LazySettings

from beatdesk.agencies.models import Agency
from beatdesk.audit.models import AuditEvent
from beatdesk.channels import actions, crypto, runtime
from beatdesk.channels.models import ConnectedAccount

TOKEN = "tok-SECRET-4f1b9a"


def _ring(*entries: str) -> crypto.Keyring:
    return crypto.parse_keyring(",".join(entries))


def test_round_trip_and_ciphertext_hides_the_token() -> None:
    ring = _ring(crypto.generate_key_entry("k1"))
    sealed = crypto.encrypt({"access_token": TOKEN}, bound_to="row-1", ring=ring)
    assert TOKEN not in sealed and sealed.startswith("v1.k1.")
    assert crypto.decrypt(sealed, bound_to="row-1", ring=ring) == {"access_token": TOKEN}


def test_ciphertext_moved_to_another_row_does_not_decrypt() -> None:
    ring = _ring(crypto.generate_key_entry("k1"))
    sealed = crypto.encrypt({"access_token": TOKEN}, bound_to="row-1", ring=ring)
    with pytest.raises(crypto.CredentialKeyError):
        crypto.decrypt(sealed, bound_to="row-2", ring=ring)


def test_tampered_ciphertext_is_refused() -> None:
    ring = _ring(crypto.generate_key_entry("k1"))
    sealed = crypto.encrypt({"access_token": TOKEN}, bound_to="row-1", ring=ring)
    body = sealed.split(".")[2]
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(crypto.CredentialKeyError):
        crypto.decrypt(f"v1.k1.{flipped}", bound_to="row-1", ring=ring)


def test_unknown_key_and_bad_configuration_are_clear() -> None:
    sealed = crypto.encrypt({"a": "b"}, bound_to="r", ring=_ring(crypto.generate_key_entry("old")))
    with pytest.raises(crypto.CredentialKeyError, match="'old' is not configured"):
        crypto.decrypt(sealed, bound_to="r", ring=_ring(crypto.generate_key_entry("new")))
    with pytest.raises(crypto.CredentialKeyError, match="32 bytes"):
        crypto.parse_keyring("k1:c2hvcnQ")
    with pytest.raises(crypto.CredentialKeyError, match="no credential keys"):
        crypto.parse_keyring("  ")


def test_production_refuses_to_invent_a_key(
    settings: LazySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BEATDESK_CREDENTIAL_KEYS", raising=False)
    monkeypatch.delenv("BEATDESK_CREDENTIAL_KEYS_FILE", raising=False)
    settings.PRODUCTION = True
    with pytest.raises(crypto.CredentialKeyError, match="required in production"):
        crypto.keyring()


def _stored_account(agency: Agency, n: int) -> ConnectedAccount:
    account = ConnectedAccount(agency=agency, kind="mastodon", label=f"acct {n}")
    runtime.seal_credentials(account, {"access_token": f"{TOKEN}-{n}"})
    account.save()
    return account


@pytest.mark.django_db
def test_rotation_re_encrypts_everything_under_the_new_key(
    agency: Agency, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    old, new = crypto.generate_key_entry("old1"), crypto.generate_key_entry("new1")
    monkeypatch.setenv("BEATDESK_CREDENTIAL_KEYS", old)
    accounts = [_stored_account(agency, n) for n in range(5)]
    assert set(ConnectedAccount.objects.values_list("credentials_key_id", flat=True)) == {"old1"}

    monkeypatch.setenv("BEATDESK_CREDENTIAL_KEYS", f"{new} {old}")
    with caplog.at_level(logging.DEBUG):
        assert actions.rotate_credential_keys(batch_size=2) == 5
    assert set(ConnectedAccount.objects.values_list("credentials_key_id", flat=True)) == {"new1"}
    assert actions.rotate_credential_keys() == 0  # nothing left under the old key

    # The old key can now be removed: every credential still decrypts.
    monkeypatch.setenv("BEATDESK_CREDENTIAL_KEYS", new)
    for n, account in enumerate(accounts):
        account.refresh_from_db()
        assert runtime.credentials_of(account) == {"access_token": f"{TOKEN}-{n}"}
    # ...and the old key alone no longer can.
    monkeypatch.setenv("BEATDESK_CREDENTIAL_KEYS", old)
    with pytest.raises(crypto.CredentialKeyError):
        runtime.credentials_of(accounts[0])
    assert TOKEN not in caplog.text
    events = AuditEvent.objects.filter(event_type="channel.keys_rotated")
    assert sum(e.data["count"] for e in events) == 5
    assert all(TOKEN not in str(e.data) for e in events)
