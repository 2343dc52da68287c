"""``beatdesk records dispose [--dry-run]``: erase what is past its retention."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from beatdesk.records.actions import run_disposal
from beatdesk.records.models import RecordType


class Command(BaseCommand):
    help = "Records management: run the disposal job (daily from a timer, or by hand)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["dispose"])
        parser.add_argument("--dry-run", action="store_true", help="only say what is due")

    def handle(self, *args: Any, **options: Any) -> None:
        report = run_disposal(dry_run=options["dry_run"])
        verb = "due" if options["dry_run"] else "erased"
        for kind in RecordType:
            self.stdout.write(f"{kind.label}: {report.count(kind.value)} {verb}")
