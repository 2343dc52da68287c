"""Inbox test objects built the way production builds them: stored by the channels
ingest (one transaction, listener on commit), then triaged and queued by the inbox."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

from beatdesk.agencies import actions as agency_actions
from beatdesk.agencies.models import Agency, Area, Team
from beatdesk.channels.contract import InboundItem, InboundKind
from beatdesk.channels.ingest import store_items
from beatdesk.channels.models import ConnectedAccount, InboundMessage
from beatdesk.inbox.models import Conversation
from beatdesk.inbox.process import process_messages
from beatdesk.inbox.routing import forget_cached_places
from tests.channels.factories import make_account

_ids = itertools.count(1)

SALFORD = {
    "type": "Polygon",
    "coordinates": [
        [[-2.35, 53.46], [-2.25, 53.46], [-2.25, 53.52], [-2.35, 53.52], [-2.35, 53.46]]
    ],
}
ECCLES = {
    "type": "Polygon",
    "coordinates": [
        [[-2.35, 53.47], [-2.31, 53.47], [-2.31, 53.50], [-2.35, 53.50], [-2.35, 53.47]]
    ],
}


def add_neighbourhood(agency: Agency) -> tuple[Area, Area, Team]:
    """A district (Salford) with one ward (Eccles) and the team that serves the district."""
    force = Area.objects.get(agency=agency, kind=Area.Kind.FORCE_AREA)
    district = agency_actions.create_area(
        actor=None,
        agency=agency,
        name="Salford",
        kind=Area.Kind.DISTRICT,
        parent=force,
        boundary=SALFORD,
    )
    ward = agency_actions.create_area(
        actor=None,
        agency=agency,
        name="Eccles",
        kind=Area.Kind.NEIGHBOURHOOD,
        parent=district,
        boundary=ECCLES,
    )
    team = agency_actions.save_team(
        actor=None,
        agency=agency,
        name="Salford Neighbourhood Team",
        kind=Team.Kind.NEIGHBOURHOOD,
        areas=[district],
        staffed_24_7=False,
    )
    for kind, name in [
        (Team.Kind.INTELLIGENCE, "Intelligence Bureau"),
        (Team.Kind.STANDARDS, "Professional Standards"),
    ]:
        agency_actions.save_team(
            actor=None, agency=agency, name=name, kind=kind, areas=[], staffed_24_7=True
        )
    forget_cached_places()
    return district, ward, team


def inbound_item(
    text: str,
    *,
    author: str = "member.of.public",
    location: str = "",
    thread_root_id: str = "",
    reply_to_id: str = "",
    platform_id: str = "",
    geo: tuple[float, float] | None = None,
) -> InboundItem:
    pid = platform_id or f"msg-{next(_ids)}"
    return InboundItem(
        platform_id=pid,
        kind=InboundKind.REPLY if reply_to_id else InboundKind.MENTION,
        author_id=f"id-{author}",
        author_handle=f"@{author}",
        author_display_name=author.replace(".", " ").title(),
        author_location=location,
        text=text,
        created_at=datetime.now(UTC),
        raw=json.dumps({"id": pid, "text": text}).encode(),
        reply_to_id=reply_to_id,
        thread_root_id=thread_root_id,
        geo=geo,
    )


def receive(account: ConnectedAccount, *items: InboundItem) -> list[InboundMessage]:
    """Store items as the channels loop does and queue them (as the listener does)."""
    store_items(account, list(items))
    messages = list(
        InboundMessage.objects.filter(
            account=account, platform_id__in=[i.platform_id for i in items]
        ).order_by("id")
    )
    # Under a test transaction on_commit listeners do not fire; queue them directly
    # (process_messages is idempotent, so this is also what the sweep does).
    process_messages([m.pk for m in messages])
    return messages


def make_conversation(agency: Agency, text: str = "Thanks for the help today") -> Conversation:
    account = make_account(agency)
    message = receive(account, inbound_item(text))[0]
    return Conversation.objects.get(triages__message=message)
