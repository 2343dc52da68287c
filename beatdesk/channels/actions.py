"""Changes to connected accounts. Each owns its transaction and audit event.

Platform calls (verifying credentials) happen before the transaction opens, so a
slow platform never holds database locks. Audit payloads never carry credentials:
only which account, by whom, and what changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from beatdesk.agencies.access import agency_of
from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Agency, Area, Staff, Team
from beatdesk.audit.models import PersonalDataCategory
from beatdesk.audit.record import record_event

from . import crypto, runtime
from .contract import (
    AccountIdentity,
    Capability,
    ConnectionSettings,
    ConnectorError,
    ErrorReason,
)
from .health import note_failure, note_success
from .models import ChannelAlert, ConnectedAccount, Delivery, InboundMessage
from .registry import CONNECTORS, build_connector, connector_class

# Bluesky and Mastodon answer a notifications poll cheaply and generously, so a few
# seconds keeps public messages on the desk within 5 s; X and Meta quotas are tight.
DEFAULT_POLL_SECONDS = {"bluesky": 3, "mastodon": 3, "x": 60, "facebook": 60, "instagram": 60}


def verify_credentials(kind: str, base_url: str, credentials: Mapping[str, str]) -> AccountIdentity:
    """Ask the platform who these credentials belong to; ActionError if it says no."""
    if kind not in CONNECTORS or kind == "replay":
        raise ActionError(f"Unknown platform {kind!r}.")
    http = runtime.HTTP_FACTORY()
    try:
        connector = build_connector(
            kind, ConnectionSettings(base_url=base_url, credentials=credentials), http
        )
        return connector.verify()
    except ConnectorError as error:
        raise ActionError(
            f"{CONNECTORS[kind].label} did not accept these details: {error.message}"
        ) from None
    finally:
        http.close()


def _check_assignment(
    agency: Agency, scope: str, team: Team | None, officer: Staff | None, areas: Iterable[Area]
) -> list[Area]:
    areas = list(areas)
    if scope not in ConnectedAccount.Scope.values:
        raise ActionError("Choose force-wide, team or officer.")
    if team is not None and team.agency_id != agency.pk:
        raise ActionError("That team belongs to another agency.")
    if officer is not None and officer.agency_id != agency.pk:
        raise ActionError("That person belongs to another agency.")
    if any(area.agency_id != agency.pk for area in areas):
        raise ActionError("An area belongs to another agency.")
    if scope == ConnectedAccount.Scope.TEAM and team is None:
        raise ActionError("A team account needs its team.")
    if scope == ConnectedAccount.Scope.OFFICER and officer is None:
        raise ActionError("An officer account needs its officer.")
    return areas


def connect_account(
    *,
    actor: Staff,
    kind: str,
    base_url: str,
    credentials: Mapping[str, str],
    label: str = "",
    scope: str = ConnectedAccount.Scope.FORCE,
    team: Team | None = None,
    officer: Staff | None = None,
    areas: Iterable[Area] = (),
    identity: AccountIdentity | None = None,
) -> ConnectedAccount:
    """Verify credentials with the platform, then store the account encrypted.

    ``identity`` skips the verify call when the caller just obtained it (OAuth flow).
    """
    agency = agency_of(actor)
    areas = _check_assignment(agency, scope, team, officer, areas)
    base_url = base_url.strip().rstrip("/")
    identity = identity or verify_credentials(kind, base_url, credentials)
    with transaction.atomic():
        clash = ConnectedAccount.objects.filter(
            ~Q(status=ConnectedAccount.Status.DISCONNECTED),
            agency=agency,
            kind=kind,
            platform_account_id=identity.platform_account_id,
        ).first()
        if clash:
            raise ActionError(f"{clash} is already connected; reconnect it instead.")
        account = ConnectedAccount(
            agency=agency,
            kind=kind,
            scope=scope,
            team=team,
            officer=officer,
            label=(label.strip() or identity.display_name or identity.handle)[:120],
            base_url=base_url,
            platform_account_id=identity.platform_account_id,
            handle=identity.handle,
            display_name=identity.display_name,
            profile_url=identity.url,
            token_expires_at=identity.token_expires_at,
            poll_interval_seconds=DEFAULT_POLL_SECONDS.get(kind, 30),
            created_by=actor,
        )
        runtime.seal_credentials(account, dict(credentials))
        account.save()
        account.areas.set(areas)
        record_event(
            event_type="channel.connected",
            actor=actor,
            target=account,
            summary=f"Connected {account}",
            data={"kind": kind, "handle": identity.handle, "scope": scope},
        )
    return account


def connect_replay(
    *, actor: Staff, label: str, source: str, rate_per_minute: int, areas: Iterable[Area] = ()
) -> ConnectedAccount:
    """A replay channel: a JSONL file of recorded public messages arriving as live."""
    from .connectors.replay import ReplayConnector, ReplayError

    try:
        count = ReplayConnector.count_records(source)
    except ReplayError as exc:
        raise ActionError(str(exc)) from None
    if rate_per_minute < 1 or rate_per_minute > 6000:
        raise ActionError("Choose a rate between 1 and 6000 messages a minute.")
    agency = agency_of(actor)
    areas = _check_assignment(agency, ConnectedAccount.Scope.FORCE, None, None, areas)
    with transaction.atomic():
        account = ConnectedAccount.objects.create(
            agency=agency,
            kind="replay",
            label=label[:120] or "Replay",
            handle="replay",
            display_name=label[:200],
            replay_source=source,
            replay_rate_per_minute=rate_per_minute,
            poll_interval_seconds=2,
            created_by=actor,
        )
        account.areas.set(areas)
        record_event(
            event_type="channel.connected",
            actor=actor,
            target=account,
            summary=f"Replay channel {label} ({count} messages at {rate_per_minute}/min)",
            data={"kind": "replay", "records": count, "rate_per_minute": rate_per_minute},
        )
    return account


def update_assignment(
    *,
    actor: Staff,
    account: ConnectedAccount,
    label: str,
    scope: str,
    team: Team | None,
    officer: Staff | None,
    areas: Iterable[Area],
) -> ConnectedAccount:
    areas = _check_assignment(account.agency, scope, team, officer, areas)
    with transaction.atomic():
        before = {
            "label": account.label,
            "scope": account.scope,
            "team": account.team_id,
            "officer": account.officer_id,
            "areas": sorted(account.areas.values_list("pk", flat=True)),
        }
        account.label = label.strip()[:120] or account.label
        account.scope = scope
        account.team = team
        account.officer = officer
        account.save(update_fields=["label", "scope", "team", "officer"])
        account.areas.set(areas)
        after = {
            "label": account.label,
            "scope": scope,
            "team": team.pk if team else None,
            "officer": officer.pk if officer else None,
            "areas": sorted(a.pk for a in areas),
        }
        record_event(
            event_type="channel.assignment_changed",
            actor=actor,
            target=account,
            summary=f"Assignment of {account} changed",
            data={"before": before, "after": after},
        )
    return account


def reconnect_account(
    *,
    actor: Staff,
    account: ConnectedAccount,
    credentials: Mapping[str, str],
    identity: AccountIdentity | None = None,
) -> ConnectedAccount:
    """New credentials for an existing account (after expiry or revocation)."""
    if account.kind == "replay":
        raise ActionError("A replay channel has no credentials.")
    identity = identity or verify_credentials(account.kind, account.base_url, credentials)
    if account.platform_account_id and identity.platform_account_id != account.platform_account_id:
        raise ActionError(
            f"These details belong to {identity.handle}, not {account.handle}: "
            "connect it as a new account."
        )
    with transaction.atomic():
        runtime.seal_credentials(account, dict(credentials))
        account.status = ConnectedAccount.Status.ACTIVE
        account.broken_reason = ""
        account.consecutive_failures = 0
        account.token_expires_at = identity.token_expires_at
        account.next_poll_at = timezone.now()
        account.save()
        ChannelAlert.objects.filter(account=account, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), acknowledged_by=actor
        )
        record_event(
            event_type="channel.reconnected",
            actor=actor,
            target=account,
            summary=f"Reconnected {account}",
        )
    return account


def disconnect_account(*, actor: Staff, account: ConnectedAccount) -> ConnectedAccount:
    """Stop using an account and destroy its stored credentials (messages are kept)."""
    with transaction.atomic():
        account.status = ConnectedAccount.Status.DISCONNECTED
        account.credentials_ciphertext = ""
        account.credentials_key_id = ""
        account.save(update_fields=["status", "credentials_ciphertext", "credentials_key_id"])
        record_event(
            event_type="channel.disconnected",
            actor=actor,
            target=account,
            summary=f"Disconnected {account}; stored credentials destroyed",
        )
    return account


def acknowledge_alert(*, actor: Staff, alert: ChannelAlert) -> ChannelAlert:
    if alert.acknowledged_at:
        return alert
    with transaction.atomic():
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = actor
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
        record_event(
            event_type="channel.alert_acknowledged",
            actor=actor,
            target=alert,
            summary=f"Alert acknowledged: {alert.message[:200]}",
        )
    return alert


def rotate_credential_keys(*, batch_size: int = 200) -> int:
    """Re-encrypt every stored credential under the current key. Returns rows changed.

    Run after putting a new key first in ``BEATDESK_CREDENTIAL_KEYS``; remove the old
    key only once this reports nothing left under it.
    """
    ring = crypto.keyring()
    changed = 0
    while True:
        with transaction.atomic():
            batch = list(
                ConnectedAccount.objects.select_for_update()
                .exclude(credentials_ciphertext="")
                .exclude(credentials_key_id=ring.current_id)[:batch_size]
            )
            if not batch:
                break
            for account in batch:
                secrets_map = crypto.decrypt(
                    account.credentials_ciphertext, bound_to=str(account.uuid), ring=ring
                )
                account.credentials_ciphertext = crypto.encrypt(
                    secrets_map, bound_to=str(account.uuid), ring=ring
                )
                account.credentials_key_id = ring.current_id
                account.save(update_fields=["credentials_ciphertext", "credentials_key_id"])
            changed += len(batch)
            record_event(
                event_type="channel.keys_rotated",
                actor_label="command line",
                summary=f"Re-encrypted {len(batch)} credentials under key {ring.current_id}",
                data={"count": len(batch), "key_id": ring.current_id},
            )
    return changed


#: Why a platform offers no hiding, for the operator (by connector kind).
NO_HIDE_ADVICE = {
    "mastodon": (
        "Mastodon has no way for an account to hide other people's replies; report the "
        "message to its server's moderators, or block or mute the author there."
    ),
    "replay": "A replay channel is a drill: there is nothing to hide on a platform.",
}


def hide_inbound_message(*, actor: Staff, message: InboundMessage, reason: str) -> InboundMessage:
    """Hide a message from public view on its platform (spam, abuse), where the
    platform allows it. Already hidden: nothing is sent again.

    The platform is asked first, outside any transaction; only when it has agreed are
    the message's hidden fields set and the audit event (with the reason) written.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise ActionError("Say why this message is being hidden.")
    if message.agency_id != agency_of(actor).pk:
        raise ActionError("That message belongs to another agency.")
    if message.hidden_on_platform_at is not None:
        return message
    if message.deleted_on_platform_at is not None:
        raise ActionError("This message was deleted on the platform; there is nothing to hide.")
    account = message.account
    label = account.get_kind_display()
    if Capability.HIDE not in connector_class(account.kind).capabilities:
        raise ActionError(
            NO_HIDE_ADVICE.get(account.kind, f"{label} does not let an account hide messages.")
        )
    if not account.is_live:
        raise ActionError(
            f"{account} is {account.get_status_display().lower()}: reconnect it to hide messages."
        )
    try:
        with runtime.open_connector(account) as connector:
            connector.hide_inbound(message.platform_id)
            note_success(account, connector)
    except ConnectorError as error:
        note_failure(account, error)
        if error.permanent:
            raise ActionError(f"{label} refused to hide this message: {error.message}") from None
        raise ActionError(
            f"{label} could not be reached to hide this message ({error.message}). "
            "Nothing was changed; try again in a few minutes."
        ) from None
    author = message.author_handle or message.author_display_name or "an unknown author"
    with transaction.atomic():
        hidden = InboundMessage.objects.filter(
            pk=message.pk, hidden_on_platform_at__isnull=True
        ).update(hidden_on_platform_at=timezone.now(), hidden_by=actor, hidden_reason=reason[:300])
        if hidden:
            record_event(
                event_type="inbound.hidden",
                actor=actor,
                agency=message.agency,
                target=message,
                summary=f"Hidden on {label}: message from {author}",
                data={
                    "platform": message.platform,
                    "platform_id": message.platform_id,
                    "account": account.pk,
                    "reason": reason[:300],
                },
                personal_data=PersonalDataCategory.ALTERATION,
            )
    message.refresh_from_db()
    return message


def delete_published(*, actor: Staff, delivery: Delivery, reason: str) -> Delivery:
    """Take one of our published posts down from its platform (an appeal whose person
    was found, a post sent in error). Already deleted: nothing is sent again.

    As with hiding, the platform is asked first, outside any transaction; the delivery
    is marked and the audit event (with the reason) written only once it agreed. A post
    the platform no longer has counts as deleted.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise ActionError("Say why this post is being taken down.")
    if delivery.agency_id != agency_of(actor).pk:
        raise ActionError("That post belongs to another agency.")
    if delivery.deleted_at is not None:
        return delivery
    if delivery.state != Delivery.State.PUBLISHED or not delivery.platform_id:
        raise ActionError("This post was never published, so there is nothing to take down.")
    account = delivery.account
    label = account.get_kind_display()
    if Capability.DELETE not in connector_class(account.kind).capabilities:
        raise ActionError(f"{label} does not let Beatdesk delete posts: delete it in {label}.")
    if not account.is_live:
        raise ActionError(
            f"{account} is {account.get_status_display().lower()}: reconnect it to delete posts."
        )
    try:
        with runtime.open_connector(account) as connector:
            connector.delete(delivery.platform_id)
            note_success(account, connector)
    except ConnectorError as error:
        if error.reason != ErrorReason.NOT_FOUND:
            note_failure(account, error)
            if error.permanent:
                raise ActionError(f"{label} refused to delete this post: {error.message}") from None
            raise ActionError(
                f"{label} could not be reached to delete this post ({error.message}). "
                "Nothing was changed; try again in a few minutes."
            ) from None
    with transaction.atomic():
        deleted = Delivery.objects.filter(pk=delivery.pk, deleted_at__isnull=True).update(
            deleted_at=timezone.now(), deleted_by=actor
        )
        if deleted:
            record_event(
                event_type="delivery.deleted",
                actor=actor,
                agency=delivery.agency,
                target=delivery,
                summary=f"Deleted from {label}: post via {account}",
                data={
                    "account": account.pk,
                    "platform_id": delivery.platform_id,
                    "reason": reason[:300],
                },
            )
    delivery.refresh_from_db()
    return delivery
