from __future__ import annotations

from beatdesk.agencies.models import Agency, Staff
from beatdesk.agencies.roles import Role
from beatdesk.records import actions
from beatdesk.records.models import LegalHold
from tests.conftest import make_staff
from tests.inbox.factories import make_conversation


def make_hold(agency: Agency) -> LegalHold:
    conversation = make_conversation(agency)
    n = Staff.objects.count()
    standards = make_staff(agency, Role.STANDARDS, f"{agency.slug}-standards-{n}")
    return actions.place_hold(actor=standards, contact=conversation.contact, reason="Case 12/345")
