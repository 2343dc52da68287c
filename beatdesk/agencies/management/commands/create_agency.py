"""Create an agency and its first admin from the command line (installation operators)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from beatdesk.agencies import actions
from beatdesk.agencies.models import Agency
from beatdesk.agencies.roles import Role


class Command(BaseCommand):
    help = "Create an agency with a first agency admin; prints the admin's first password once."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--name", required=True, help="e.g. 'Lancashire Constabulary'")
        parser.add_argument("--short-name", required=True, help="e.g. 'LANCS'")
        parser.add_argument("--kind", required=True, choices=Agency.Kind.values)
        parser.add_argument("--admin-username", required=True)
        parser.add_argument("--admin-email", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            agency = actions.create_agency(
                actor=None,
                name=options["name"],
                short_name=options["short_name"],
                kind=options["kind"],
            )
            admin, password = actions.create_staff(
                actor=None,
                agency=agency,
                username=options["admin_username"],
                first_name="",
                last_name="",
                email=options["admin_email"],
                role=Role.AGENCY_ADMIN,
            )
        except actions.ActionError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Created {agency.name}. First sign-in: {admin.username} / {password} "
            "(enrol an authenticator app at first sign-in; this password is not shown again)."
        )
