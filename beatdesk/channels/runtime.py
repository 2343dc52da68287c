"""Build a connector for a stored account: decrypt its credentials, nothing more.

The decrypted credentials live only inside the connector object for the duration
of one unit of work; they are never returned to views or written to logs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from beatdesk.core.http import HttpClient

from . import crypto
from .contract import ConnectionSettings, Connector
from .media import public_media_url
from .models import ConnectedAccount
from .registry import build_connector


def credentials_of(account: ConnectedAccount) -> dict[str, str]:
    if not account.credentials_ciphertext:
        return {}
    return crypto.decrypt(account.credentials_ciphertext, bound_to=str(account.uuid))


def settings_for(account: ConnectedAccount, base_url: str | None = None) -> ConnectionSettings:
    return ConnectionSettings(
        base_url=base_url or account.base_url,
        credentials=credentials_of(account),
        platform_account_id=account.platform_account_id,
        handle=account.handle,
    )


def seal_credentials(account: ConnectedAccount, credentials: dict[str, str]) -> None:
    """Encrypt ``credentials`` onto ``account`` (not saved: the caller saves)."""
    ring = crypto.keyring()
    account.credentials_ciphertext = crypto.encrypt(
        credentials, bound_to=str(account.uuid), ring=ring
    )
    account.credentials_key_id = ring.current_id


#: Tests point accounts at local servers or proxies through this hook.
HTTP_FACTORY = HttpClient


@contextmanager
def open_connector(account: ConnectedAccount) -> Iterator[Connector]:
    if account.kind == "replay":
        settings = ConnectionSettings(
            base_url=account.replay_source,
            credentials={"rate_per_minute": str(account.replay_rate_per_minute)},
            platform_account_id=account.platform_account_id,
            handle=account.handle,
        )
    else:
        settings = settings_for(account)
    http = HTTP_FACTORY()
    try:
        connector = build_connector(account.kind, settings, http)
        # Platforms that fetch images themselves (Instagram) get a signed, short-lived
        # link to the stored copy under BEATDESK_PUBLIC_URL.
        connector.media_url = public_media_url
        yield connector
    finally:
        http.close()
