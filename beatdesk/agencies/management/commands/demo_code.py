"""Print the current authenticator code of a demo account (demo agencies only)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from beatdesk.accounts.totp import current_code
from beatdesk.agencies.models import Staff


class Command(BaseCommand):
    help = "Print the current 6-digit code for a demo account (refused for real agencies)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        staff = Staff.objects.filter(username=options["username"].strip().lower()).first()
        if staff is None or staff.agency is None or not staff.agency.is_demo:
            raise CommandError("No such demo account (codes are only printed for demo agencies).")
        if not staff.totp_secret:
            raise CommandError("That account has no authenticator enrolled yet.")
        self.stdout.write(current_code(staff.totp_secret))
