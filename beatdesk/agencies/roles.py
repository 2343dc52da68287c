"""Staff roles and what each may do, in one place."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    OFFICER = "officer", "Officer / PCSO"
    SUPERVISOR = "supervisor", "Supervisor"
    DESK_OPERATOR = "desk_operator", "Digital desk operator"
    COMMUNICATIONS = "communications", "Corporate communications"
    INTELLIGENCE_ANALYST = "intelligence_analyst", "Intelligence analyst"
    STANDARDS = "standards", "Standards & information management"
    AGENCY_ADMIN = "agency_admin", "Agency admin"
    LEADERSHIP = "leadership", "Chief officer / leadership"


ALL_ROLES: frozenset[str] = frozenset(Role.values)
# Who works the inbox (and so reads the public's messages): everyone but leadership,
# who see what the desk achieves through insights, not the conversations themselves.
DESK_ROLES: frozenset[str] = ALL_ROLES - {Role.LEADERSHIP}
# Who may read the audit trail of their agency.
AUDIT_READERS: frozenset[str] = frozenset({Role.STANDARDS, Role.AGENCY_ADMIN})
# Who may manage areas, teams and staff of their agency.
AGENCY_ADMINS: frozenset[str] = frozenset({Role.AGENCY_ADMIN})
