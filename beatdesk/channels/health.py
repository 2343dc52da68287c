"""Channel health: what the worker learnt from each platform call, and alerts.

The rule that matters: only an error that says the account itself is unusable
(expired or revoked credentials) marks a channel broken. Network trouble, 5xx and
rate limits are counted and shown, and pause the channel until the platform's
reset time, but never disconnect it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from beatdesk.agencies.models import Staff
from beatdesk.agencies.roles import AGENCY_ADMINS
from beatdesk.audit.record import record_event

from .contract import Connector, ConnectorError, ErrorReason
from .models import ChannelAlert, ConnectedAccount
from .runtime import seal_credentials

logger = logging.getLogger("beatdesk.channels")

TOKEN_WARNING = timedelta(days=7)
SYSTEM = "channels worker"


def note_success(account: ConnectedAccount, connector: Connector) -> None:
    """Record a successful platform call (and any refreshed credentials)."""
    now = timezone.now()
    fields: dict[str, object] = {
        "last_success_at": now,
        "consecutive_failures": 0,
    }
    limit = connector.rate_limit
    if limit.remaining is not None or limit.reset_at is not None:
        fields.update(
            rate_limit_remaining=limit.remaining,
            rate_limit_limit=limit.limit,
            rate_limit_reset_at=limit.reset_at,
        )
    fields.update(_refreshed_credentials(account, connector))
    ConnectedAccount.objects.filter(pk=account.pk).update(**fields)
    for name, value in fields.items():
        setattr(account, name, value)


def _refreshed_credentials(account: ConnectedAccount, connector: Connector) -> dict[str, object]:
    """The fields to store when the connector refreshed its credentials (else none)."""
    if not connector.updated_credentials:
        return {}
    seal_credentials(account, connector.updated_credentials)
    fields: dict[str, object] = {
        "credentials_ciphertext": account.credentials_ciphertext,
        "credentials_key_id": account.credentials_key_id,
    }
    expires = connector.updated_credentials.get("expires_at")
    if expires:
        fields["token_expires_at"] = datetime.fromisoformat(expires)
    connector.updated_credentials = None
    return fields


def keep_refreshed_credentials(account: ConnectedAccount, connector: Connector) -> None:
    """Store credentials a connector refreshed, and nothing else about the call: for
    side work (insights) whose outcome must not change the channel's health. Refresh
    tokens may be single-use, so this must run even when the call failed."""
    fields = _refreshed_credentials(account, connector)
    if fields:
        ConnectedAccount.objects.filter(pk=account.pk).update(**fields)


def note_failure(account: ConnectedAccount, error: ConnectorError) -> None:
    """Record a failed platform call; break the channel only for credential errors."""
    now = timezone.now()
    fields: dict[str, object] = {
        "last_error_at": now,
        "last_error": error.message[:1000],
        "last_error_reason": error.reason.value,
        "consecutive_failures": F("consecutive_failures") + 1,
    }
    if error.reason in {ErrorReason.RATE_LIMITED, ErrorReason.POSTING_CAP} and error.retry_after:
        fields["paused_until"] = error.retry_after
    with transaction.atomic():
        ConnectedAccount.objects.filter(pk=account.pk).update(**fields)
        if error.breaks_account and account.status == ConnectedAccount.Status.ACTIVE:
            mark_broken(account, error.message)
    account.refresh_from_db()


def mark_broken(account: ConnectedAccount, reason: str) -> None:
    """Channel unusable until an admin reconnects it: status, audit, alert, email."""
    with transaction.atomic():
        updated = ConnectedAccount.objects.filter(
            pk=account.pk, status=ConnectedAccount.Status.ACTIVE
        ).update(status=ConnectedAccount.Status.BROKEN, broken_reason=reason[:1000])
        if not updated:
            return  # someone else already marked it
        record_event(
            event_type="channel.broken",
            actor_label=SYSTEM,
            agency=account.agency,
            target=account,
            summary=f"{account} stopped working: {reason}"[:500],
            data={"reason": reason[:300]},
        )
        raise_alert(
            account,
            kind="broken",
            message=f"{account} stopped working and needs reconnecting: {reason}",
        )


def raise_alert(account: ConnectedAccount, *, kind: str, message: str) -> ChannelAlert | None:
    """One open alert per (account, kind); admins are emailed after commit."""
    if ChannelAlert.objects.filter(
        account=account, kind=kind, acknowledged_at__isnull=True
    ).exists():
        return None
    alert = ChannelAlert.objects.create(
        agency=account.agency, account=account, kind=kind, message=message[:1000]
    )
    recipients = list(
        Staff.objects.filter(agency=account.agency, role__in=AGENCY_ADMINS, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if recipients:
        transaction.on_commit(lambda: _email_admins(recipients, message))
    return alert


def _email_admins(recipients: list[str], message: str) -> None:
    try:
        send_mail("Beatdesk: channel needs attention", message, None, recipients)
    except OSError:
        # The alert row is the record; a mail outage must not stop the worker.
        logger.exception("could not email channel alert")


def check_token_expiry(now: datetime | None = None) -> int:
    """Alert admins about tokens that expire within a week. Returns alerts raised."""
    now = now or timezone.now()
    raised = 0
    expiring = ConnectedAccount.objects.filter(
        status=ConnectedAccount.Status.ACTIVE,
        token_expires_at__isnull=False,
        token_expires_at__lte=now + TOKEN_WARNING,
    ).select_related("agency")
    for account in expiring:
        with transaction.atomic():
            expires = account.token_expires_at
            assert expires is not None
            text = (
                f"The token of {account} expired; reconnect it."
                if expires <= now
                else f"The token of {account} expires on {expires:%d %b %Y %H:%M} UTC;"
                " reconnect it before then."
            )
            if raise_alert(account, kind="token_expiry", message=text):
                raised += 1
    return raised
