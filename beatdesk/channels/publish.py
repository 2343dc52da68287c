"""Outbound: every post or reply goes out at most once per account.

The state machine (``Delivery.State``):

    pending --claim--> sending --platform said yes--> published
                          |----permanent error------> failed      (a person may retry)
                          |----transient error------> pending     (later, honouring resets)
                          |----connection lost------> unknown     (reconcile, never resend blind)
                          '----worker died (lease)--> unknown

``unknown`` is reconciled by asking the platform: ``find_published`` looks for our
post; if found it is published. If not found, a connector with idempotent publishing
(Mastodon key, Bluesky record key) re-sends with the same key, which cannot create a
second post; other platforms (X, Meta) go back to pending only after the lookup
came back empty, after a delay that lets the platform's read side catch up.

Every claim is a conditional UPDATE (``state=pending``), so two workers can never
both send one delivery; every transition writes an audit event.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Staff
from beatdesk.audit.record import record_event

from .contract import Connector, ConnectorError, ErrorReason, OutboundPost, PublishedRef
from .health import SYSTEM, note_failure, note_success
from .keys import new_post_key
from .media import MediaUnavailable, check_media, outbound_media
from .models import ConnectedAccount, Delivery, MediaFile
from .registry import connector_class
from .runtime import open_connector

logger = logging.getLogger("beatdesk.channels")

MAX_TRANSIENT_ATTEMPTS = 8


def reconcile_delay() -> timedelta:
    return timedelta(seconds=settings.CHANNELS_RECONCILE_DELAY_SECONDS)


def lease() -> timedelta:
    """How long a claimed delivery belongs to its worker (longer than any HTTP call)."""
    return timedelta(seconds=settings.CHANNELS_LEASE_SECONDS)


def check_postable(
    account: ConnectedAccount, text: str, media: Sequence[MediaFile], *, reply: bool = False
) -> None:
    """ActionError, in words a person can act on, unless the account's platform would
    take this text and media as one post (or reply)."""
    if not text.strip():
        raise ActionError("A post needs text.")
    connector = connector_class(account.kind)
    limit = connector.max_text_length
    if len(text) > limit:
        raise ActionError(
            f"{account.get_kind_display()} allows {limit} characters; this post has {len(text)}."
        )
    if any(item.agency_id != account.agency_id for item in media):
        raise ActionError("An attached file belongs to another agency.")
    check_media(account.get_kind_display(), connector.media_rules, media, reply=reply)


def create_delivery(
    *,
    actor: Staff | None,
    account: ConnectedAccount,
    source_type: str,
    source_id: str,
    text: str,
    reply_to_id: str = "",
    media: Sequence[MediaFile] = (),
) -> Delivery:
    """Queue one post (or reply) for one account. Idempotent per (account, source).

    ``media`` (stored with ``media.store_media``) goes out in the order given, if the
    platform takes it (``Connector.media_rules``).
    """
    text = text.strip()
    media = list(media)
    check_postable(account, text, media, reply=bool(reply_to_id))
    with transaction.atomic():
        existing = Delivery.objects.filter(
            account=account, source_type=source_type, source_id=source_id
        ).first()
        if existing:
            return existing
        delivery = Delivery.objects.create(
            agency=account.agency,
            account=account,
            source_type=source_type,
            source_id=source_id,
            key=new_post_key(),
            text=text,
            reply_to_id=reply_to_id,
            media=[item.snapshot() for item in media],
            created_by=actor,
        )
        data: dict[str, object] = {"account": account.pk, "source": f"{source_type}:{source_id}"}
        if media:
            data["media"] = [{"id": item.pk, "sha256": item.sha256} for item in media]
        record_event(
            event_type="delivery.created",
            actor=actor,
            actor_label="" if actor else SYSTEM,
            agency=account.agency,
            target=delivery,
            summary=f"Post queued for {account}",
            data=data,
        )
        transaction.on_commit(lambda: enqueue_send(delivery.pk))
    return delivery


def enqueue_send(delivery_id: int) -> None:
    """Ask the task worker to send now; the channels loop also sweeps due deliveries."""
    from .tasks import send_delivery_task

    try:
        send_delivery_task.enqueue(delivery_id)
    except Exception:  # a queue hiccup must not lose the post: the sweep sends it
        logger.exception(
            "could not enqueue delivery %s; the channels loop will send it", delivery_id
        )


def _transition(
    delivery: Delivery,
    *,
    from_states: Sequence[str],
    event: str,
    summary: str,
    data: dict[str, object] | None = None,
    **fields: object,
) -> bool:
    """Move a delivery on (conditionally) and audit it in one transaction."""
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, state__in=list(from_states)).update(
            **fields
        )
        if not updated:
            return False
        record_event(
            event_type=event,
            actor_label=SYSTEM,
            agency=delivery.agency,
            target=delivery,
            summary=summary[:500],
            data=data or {},
        )
    delivery.refresh_from_db()
    return True


def _post_of(delivery: Delivery, *, with_media: bool = True) -> OutboundPost:
    """The post to send; reading the media may raise ``MediaUnavailable``."""
    return OutboundPost(
        key=delivery.key,
        text=delivery.text,
        reply_to_id=delivery.reply_to_id,
        media=outbound_media(delivery.media) if with_media else (),
    )


def _cap_wait(
    account: ConnectedAccount, connector: type[Connector], now: datetime
) -> datetime | None:
    """When the next post is allowed under the platform's posting cap (None: now)."""
    cap = connector.posting_cap
    if cap is None:
        return None
    window_start = now - timedelta(seconds=cap.per_seconds)
    recent = list(
        Delivery.objects.filter(
            account=account, state=Delivery.State.PUBLISHED, published_at__gte=window_start
        )
        .order_by("published_at")
        .values_list("published_at", flat=True)[: cap.posts]
    )
    if len(recent) < cap.posts or recent[0] is None:
        return None
    return recent[0] + timedelta(seconds=cap.per_seconds)


def send_delivery(delivery_id: int) -> Delivery:
    """Send one due pending delivery. Safe to call from any number of workers."""
    now = timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, state=Delivery.State.PENDING, next_attempt_at__lte=now
    ).update(
        state=Delivery.State.SENDING,
        attempts=F("attempts") + 1,
        lease_until=now + lease(),
        first_attempt_at=Coalesce(F("first_attempt_at"), now),
        waiting_reason="",
    )
    delivery = Delivery.objects.select_related("account", "agency").get(pk=delivery_id)
    if not claimed:
        return delivery
    account = delivery.account
    if not account.is_live:
        _fail(delivery, f"{account} is {account.get_status_display().lower()}", "channel_broken")
        return delivery
    wait_until = _wait_for_limits(account, now)
    if wait_until:
        _transition(
            delivery,
            from_states=[Delivery.State.SENDING],
            event="delivery.postponed",
            summary=f"Waiting for {account}'s rate limit or posting cap",
            data={"until": wait_until.isoformat()},
            state=Delivery.State.PENDING,
            attempts=F("attempts") - 1,
            next_attempt_at=wait_until,
            lease_until=None,
            waiting_reason=f"Platform limit: next slot {wait_until:%H:%M:%S} UTC",
        )
        return delivery
    try:
        post = _post_of(delivery)
    except MediaUnavailable as problem:
        if problem.permanent:
            _fail(delivery, problem.message, "media_unavailable")
        else:
            _after_error(
                delivery,
                ConnectorError(problem.message, permanent=False, reason=ErrorReason.SERVER),
            )
        return delivery
    try:
        with open_connector(account) as connector:
            ref = connector.publish(post)
            note_success(account, connector)
    except ConnectorError as error:
        note_failure(account, error)
        _after_error(delivery, error)
        return delivery
    _published(delivery, ref)
    return delivery


def _wait_for_limits(account: ConnectedAccount, now: datetime) -> datetime | None:
    if account.paused_until and account.paused_until > now:
        return account.paused_until
    return _cap_wait(account, connector_class(account.kind), now)


def _published(delivery: Delivery, ref: PublishedRef) -> None:
    _transition(
        delivery,
        from_states=[Delivery.State.SENDING],
        event="delivery.published",
        summary=f"Published on {delivery.account}: {ref.url or ref.platform_id}",
        data={"platform_id": ref.platform_id, "url": ref.url},
        state=Delivery.State.PUBLISHED,
        platform_id=ref.platform_id[:300],
        url=ref.url[:500],
        published_at=ref.published_at or timezone.now(),
        lease_until=None,
        failure_reason="",
        failure_code="",
    )


def _fail(delivery: Delivery, reason: str, code: str) -> None:
    _transition(
        delivery,
        from_states=[Delivery.State.SENDING],
        event="delivery.failed",
        summary=f"Not published on {delivery.account}: {reason}",
        data={"reason": reason[:300], "code": code},
        state=Delivery.State.FAILED,
        failure_reason=reason[:1000],
        failure_code=code,
        lease_until=None,
    )


def _after_error(delivery: Delivery, error: ConnectorError) -> None:
    if error.outcome_unknown:
        _transition(
            delivery,
            from_states=[Delivery.State.SENDING],
            event="delivery.unknown",
            summary=f"Outcome unknown on {delivery.account}; checking the platform",
            data={"reason": error.message[:300]},
            state=Delivery.State.UNKNOWN,
            next_attempt_at=timezone.now() + reconcile_delay(),
            lease_until=None,
            failure_reason=error.message[:1000],
        )
    elif error.permanent or delivery.attempts >= MAX_TRANSIENT_ATTEMPTS:
        _fail(delivery, error.message, error.reason.value)
    else:
        backoff = timedelta(seconds=min(30 * 2 ** (delivery.attempts - 1), 1800))
        retry_at = error.retry_after or timezone.now() + backoff
        _transition(
            delivery,
            from_states=[Delivery.State.SENDING],
            event="delivery.retry_scheduled",
            summary=f"Temporary problem on {delivery.account}; retrying at {retry_at:%H:%M:%S}",
            data={"reason": error.message[:300], "retry_at": retry_at.isoformat()},
            state=Delivery.State.PENDING,
            next_attempt_at=retry_at,
            lease_until=None,
            waiting_reason=f"{error.message[:150]}; retry at {retry_at:%H:%M:%S} UTC",
        )


def reconcile_delivery(delivery_id: int) -> Delivery:
    """Find out what became of an unknown (or abandoned) delivery."""
    now = timezone.now()
    claimed = Delivery.objects.filter(
        Q(state=Delivery.State.UNKNOWN, next_attempt_at__lte=now)
        | Q(state=Delivery.State.SENDING, lease_until__lt=now),
        pk=delivery_id,
    ).update(state=Delivery.State.SENDING, lease_until=now + lease())
    delivery = Delivery.objects.select_related("account", "agency").get(pk=delivery_id)
    if not claimed:
        return delivery
    account = delivery.account
    missing: MediaUnavailable | None = None
    try:
        post = _post_of(delivery)
    except MediaUnavailable as problem:
        # The lookup needs no bytes. If the post is not found it goes back to pending,
        # where sending meets the same problem and says so.
        post, missing = _post_of(delivery, with_media=False), problem
    since = (delivery.first_attempt_at or delivery.created_at) - timedelta(minutes=5)
    try:
        with open_connector(account) as connector:
            ref = _lookup(connector, post, since)
            if ref is None and connector.idempotent_publish and missing is None:
                ref = connector.publish(post)  # same key: cannot create a second post
            note_success(account, connector)
    except ConnectorError as error:
        note_failure(account, error)
        if error.permanent and not error.breaks_account:
            _fail(delivery, error.message, error.reason.value)
        else:
            # Still cannot tell (or cannot ask): stay unknown and ask again later.
            _transition(
                delivery,
                from_states=[Delivery.State.SENDING],
                event="delivery.unknown",
                summary=f"Still checking {account}: {error.message}",
                data={"reason": error.message[:300]},
                state=Delivery.State.UNKNOWN,
                next_attempt_at=error.retry_after or timezone.now() + reconcile_delay() * 3,
                lease_until=None,
            )
        return delivery
    if ref is not None:
        _published(delivery, ref)
    else:
        _transition(
            delivery,
            from_states=[Delivery.State.SENDING],
            event="delivery.reconciled_absent",
            summary=f"Not found on {account}; it will be sent again",
            state=Delivery.State.PENDING,
            next_attempt_at=timezone.now(),
            lease_until=None,
        )
    return delivery


def _lookup(connector: Connector, post: OutboundPost, since: datetime) -> PublishedRef | None:
    try:
        return connector.find_published(post, since)
    except ConnectorError as error:
        if error.reason == ErrorReason.UNSUPPORTED and connector.idempotent_publish:
            return None
        raise


CANCELLED = "cancelled"


def cancel_delivery(*, actor: Staff, delivery: Delivery, reason: str) -> bool:
    """Stop a delivery that has not gone out: pending becomes failed with the code
    ``cancelled``, and a failed one is marked so, so that neither is ever sent or
    retried. Returns False (nothing changed) while it is being sent or checked, or
    once published: then it must be deleted on the platform instead.
    """
    with transaction.atomic():
        cancelled = Delivery.objects.filter(
            pk=delivery.pk, state__in=[Delivery.State.PENDING, Delivery.State.FAILED]
        ).update(
            state=Delivery.State.FAILED,
            failure_code=CANCELLED,
            failure_reason=f"Cancelled: {reason}"[:500],
        )
        if cancelled:
            record_event(
                event_type="delivery.cancelled",
                actor=actor,
                agency=delivery.agency,
                target=delivery,
                summary=f"Post via {delivery.account} cancelled before it went out",
                data={"reason": reason[:300]},
            )
    delivery.refresh_from_db()
    return bool(cancelled)


def retry_delivery(*, actor: Staff, delivery: Delivery) -> Delivery:
    """A person asks to try a failed delivery again (nothing else may be retried)."""
    if delivery.state != Delivery.State.FAILED:
        raise ActionError("Only a failed post can be retried.")
    if delivery.failure_code == CANCELLED:
        raise ActionError("This post was cancelled on purpose; it will not be sent.")
    if not delivery.account.is_live:
        raise ActionError(f"Reconnect {delivery.account} before retrying.")
    with transaction.atomic():
        updated = (
            Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.FAILED)
            .exclude(failure_code=CANCELLED)
            .update(
                state=Delivery.State.PENDING,
                next_attempt_at=timezone.now(),
                attempts=0,
                failure_reason="",
                failure_code="",
            )
        )
        if not updated:
            raise ActionError("This post changed meanwhile; reload the page.")
        record_event(
            event_type="delivery.retried",
            actor=actor,
            target=delivery,
            summary=f"Retry of a failed post on {delivery.account}",
        )
        transaction.on_commit(lambda: enqueue_send(delivery.pk))
    delivery.refresh_from_db()
    return delivery


def due_work(now: datetime | None = None, limit: int = 50) -> tuple[list[int], list[int]]:
    """Ids of deliveries due for sending and for reconciling."""
    now = now or timezone.now()
    to_send = list(
        Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    to_reconcile = list(
        Delivery.objects.filter(
            Q(state=Delivery.State.UNKNOWN, next_attempt_at__lte=now)
            | Q(state=Delivery.State.SENDING, lease_until__lt=now)
        ).values_list("pk", flat=True)[:limit]
    )
    return to_send, to_reconcile
