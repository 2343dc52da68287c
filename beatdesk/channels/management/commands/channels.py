"""``beatdesk channels run|once|rotate-keys|new-key``."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from beatdesk.channels import actions, crypto, worker


class Command(BaseCommand):
    help = "Run the channels loop, or manage channel credential keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["run", "once", "rotate-keys", "new-key"])
        parser.add_argument("--tick", type=float, default=1.0, help="seconds between ticks")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "run":
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
            worker.run_forever(tick_seconds=options["tick"])
        elif action == "once":
            report = worker.run_once()
            self.stdout.write(
                f"polled {report.polled}, new {report.new_messages}, "
                f"sent {report.sent}, reconciled {report.reconciled}"
            )
        elif action == "rotate-keys":
            changed = actions.rotate_credential_keys()
            current = crypto.keyring().current_id
            self.stdout.write(f"re-encrypted {changed} credentials under key {current}")
        else:
            self.stdout.write(crypto.generate_key_entry())
