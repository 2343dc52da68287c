"""Invented history for the demo agency, so its insights dashboard has weeks to compare.

Ten weeks of messages (short texts written here, one per kind, never real people's
posts), their triage, conversations answered within or outside targets, outcomes,
published posts with platform figures, and daily audience snapshots. Everything is
closed and in the past, so the live inbox is not flooded. Made once (idempotent).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from beatdesk.agencies.models import Agency, Area, Staff, Team
from beatdesk.channels.keys import new_post_key
from beatdesk.channels.models import ConnectedAccount, Delivery, InboundMessage
from beatdesk.inbox.models import Conversation, MessageTriage, PublicContact
from beatdesk.publishing.models import POST_SOURCE, Post, Purpose

from .figures import local_day, refresh
from .models import AudienceSnapshot, PostMetrics

HISTORY_DAYS = 70
PREFIX = "demo-history-"
# (category, priority, share, text, target minutes)
KINDS = [
    ("question", "P4", 0.30, "Is the station front counter open on Sundays?", 1440),
    ("praise", "P4", 0.18, "Thanks to the officers at the school fair today, brilliant", 1440),
    ("crime_report", "P3", 0.14, "My bike was taken from outside the shop this morning", 240),
    ("complaint", "P3", 0.07, "Waited ages on 101 last night and nobody called back", 240),
    ("intelligence", "P2", 0.06, "Same car keeps dropping packages to the flats late at night", 30),
    ("emergency", "P1", 0.02, "Someone is on the bridge and looks in a bad way", 5),
    ("missing_person", "P2", 0.03, "I think I saw the missing lad near the retail park", 30),
    ("abuse", "P4", 0.08, "You lot are useless, absolute clowns", 1440),
    ("spam", "P4", 0.12, "Win a free phone, click my profile link", 1440),
]
OUTCOME = {
    "crime_report": Conversation.CloseReason.CRIME_RECORDED,
    "intelligence": Conversation.CloseReason.INTELLIGENCE,
    "complaint": Conversation.CloseReason.COMPLAINT,
    "emergency": Conversation.CloseReason.REFERRED_999,
    "spam": Conversation.CloseReason.SPAM,
    "abuse": Conversation.CloseReason.ABUSE,
}


def load_history(agency: Agency, now: datetime | None = None, seed: int = 7) -> bool:
    """Write the history once; False when it is there already or nothing to attach to."""
    now = now or timezone.now()
    if InboundMessage.objects.filter(agency=agency, platform_id__startswith=PREFIX).exists():
        return False
    accounts = list(ConnectedAccount.objects.filter(agency=agency).order_by("pk"))
    author = Staff.objects.filter(agency=agency, role="communications").first()
    neighbourhoods = list(
        Area.objects.filter(agency=agency, kind=Area.Kind.NEIGHBOURHOOD).values_list(
            "pk", flat=True
        )
    )
    desk = Team.objects.filter(agency=agency, kind=Team.Kind.DIGITAL_DESK).first()
    if not accounts or author is None:
        return False
    rng = random.Random(seed)
    with transaction.atomic():
        _messages(agency, accounts, neighbourhoods, desk, now, rng)
        _posts(agency, accounts, author, now, rng)
        _audience(agency, accounts, now, rng)
    refresh(agency, now=now, full=True)
    return True


def _messages(
    agency: Agency,
    accounts: list[ConnectedAccount],
    areas: list[int],
    desk: Team | None,
    now: datetime,
    rng: random.Random,
) -> None:
    weights = [k[2] for k in KINDS]
    n = 0
    for day in range(HISTORY_DAYS, 0, -1):
        base = now - timedelta(days=day)
        # Busier on Fridays and Saturdays, growing over the weeks (the desk got known).
        volume = int((25 + (HISTORY_DAYS - day) // 3) * (1.4 if base.weekday() in (4, 5) else 1))
        for _ in range(volume):
            n += 1
            category, priority, _share, text, target = rng.choices(KINDS, weights)[0]
            moment = base.replace(hour=rng.randint(7, 22), minute=rng.randint(0, 59))
            account = rng.choice(accounts)
            author_id = f"{PREFIX}person-{rng.randint(1, 900)}"
            contact, _ = PublicContact.objects.get_or_create(
                agency=agency,
                platform=account.kind,
                author_id=author_id,
                defaults={
                    "handle": f"@{author_id}",
                    "display_name": "Demo resident",
                    "first_seen_at": moment,
                    "last_seen_at": moment,
                },
            )
            platform_id = f"{PREFIX}{n}"
            message = InboundMessage.objects.create(
                agency=agency,
                account=account,
                platform=account.kind,
                platform_id=platform_id,
                kind="mention",
                author_id=author_id,
                author_handle=contact.handle,
                author_display_name=contact.display_name,
                text=text,
                created_at=moment,
                received_at=moment,
                raw_payload=json.dumps({"id": platform_id, "text": text}).encode(),
            )
            # Faster in later weeks; a few responses miss their target.
            speed = 0.35 + 0.65 * day / HISTORY_DAYS
            seconds = int(rng.expovariate(1 / (target * 60 * speed * 0.4)))
            area = rng.choice(areas) if areas and rng.random() < 0.7 else None
            conversation = Conversation.objects.create(
                agency=agency,
                account=account,
                platform=account.kind,
                thread_key=platform_id,
                author_id=author_id,
                contact=contact,
                priority=priority,
                category=category,
                team=desk,
                area_id=area,
                routing_reason="Demo history",
                status=Conversation.Status.CLOSED,
                close_reason=OUTCOME.get(category, Conversation.CloseReason.ANSWERED),
                first_response_at=moment + timedelta(seconds=seconds),
                first_response_seconds=seconds,
                first_response_met=seconds <= target * 60,
                closed_at=moment + timedelta(seconds=seconds),
                first_message_at=moment,
                last_message_at=moment,
                message_count=1,
                created_at=moment,
            )
            MessageTriage.objects.create(
                message=message,
                agency=agency,
                conversation=conversation,
                category=category,
                priority=priority,
                area_id=area,
                triaged_at=moment,
            )


def _posts(
    agency: Agency,
    accounts: list[ConnectedAccount],
    author: Staff,
    now: datetime,
    rng: random.Random,
) -> None:
    purposes = [p for p in Purpose.values if p != Purpose.INTERNAL]
    for day in range(HISTORY_DAYS, 0, -1):
        for _ in range(rng.randint(1, 4)):
            moment = (now - timedelta(days=day)).replace(hour=rng.randint(8, 20))
            purpose = rng.choice(purposes)
            post = Post.objects.create(
                agency=agency,
                author=author,
                text=f"Demo {purpose} post",
                purpose=purpose,
                state=Post.State.APPROVED,
                risk="green",
                created_at=moment,
                sent_at=moment,
            )
            chosen = rng.sample(accounts, k=min(len(accounts), 1 + (rng.random() < 0.3)))
            post.accounts.set(chosen)
            for account in chosen:
                delivery = Delivery.objects.create(
                    agency=agency,
                    account=account,
                    source_type=POST_SOURCE,
                    source_id=str(post.pk),
                    key=new_post_key(),
                    text=post.text,
                    state=Delivery.State.PUBLISHED,
                    platform_id=f"{PREFIX}post-{post.pk}-{account.pk}",
                    published_at=moment,
                    attempts=1,
                )
                likes = int(rng.paretovariate(1.6) * 6)
                PostMetrics.objects.create(
                    delivery=delivery,
                    agency=agency,
                    likes=likes,
                    reposts=likes // 4,
                    replies=likes // 6,
                    impressions=likes * rng.randint(30, 80),
                    engagers_sampled=min(100, likes + likes // 4),
                    engagers_located=min(100, likes + likes // 4) // 2,
                    engagers_local=min(100, likes + likes // 4) // 3,
                    fetched_at=now,
                    next_fetch_at=now + timedelta(days=1),
                )


def _audience(
    agency: Agency, accounts: list[ConnectedAccount], now: datetime, rng: random.Random
) -> None:
    for account in accounts:
        followers = rng.randint(800, 4000)
        for day in range(HISTORY_DAYS, 0, -1):
            followers += rng.randint(-3, 12)
            located = rng.randint(180, 220)
            AudienceSnapshot.objects.create(
                agency=agency,
                account=account,
                day=local_day(now - timedelta(days=day)),
                followers=followers,
                sampled=500,
                located=located,
                local=int(located * (0.55 + 0.1 * (HISTORY_DAYS - day) / HISTORY_DAYS)),
                taken_at=now - timedelta(days=day),
            )
