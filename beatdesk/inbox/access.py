"""Agency-scoped fetches for inbox objects (same 404 for missing and not-yours)."""

from __future__ import annotations

from typing import Any

from beatdesk.agencies.access import access_in_agency

from .models import Conversation, PublicContact


def access_conversation(user: Any, conversation_id: Any) -> Conversation:
    return access_in_agency(user, Conversation, conversation_id)


def access_contact(user: Any, contact_id: Any) -> PublicContact:
    return access_in_agency(user, PublicContact, contact_id)
