"""``beatdesk audit verify`` and ``beatdesk audit head``."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from beatdesk.audit.verify import chain_head, verify_chain


class Command(BaseCommand):
    help = "Check the audit trail's hash chain (verify) or print its head (head)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["verify", "head"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "head":
            head = chain_head()
            self.stdout.write("empty" if head is None else f"{head[0]} {head[1]}")
            return
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"audit chain BROKEN at seq {report.broken_seq} (row id {report.broken_id}): "
                f"{report.reason}; {report.rows_checked} row(s) read"
            )
        self.stdout.write(f"audit chain intact: {report.rows_checked} event(s) verified")
