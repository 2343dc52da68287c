"""Agency-scoped fetches for records objects (same 404 for missing and not-yours)."""

from __future__ import annotations

from typing import Any

from beatdesk.agencies.access import access_in_agency
from beatdesk.agencies.roles import Role

from .models import LegalHold

# Records management is standards and information management's, with the agency admin.
RECORDS_MANAGERS: frozenset[str] = frozenset({Role.STANDARDS, Role.AGENCY_ADMIN})


def access_hold(user: Any, hold_id: Any) -> LegalHold:
    return access_in_agency(user, LegalHold, hold_id)
