from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "beatdesk.inbox"
    label = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        # New messages are triaged as soon as their ingest transaction commits, and the
        # channels loop sweeps up anything a crash left untriaged and checks targets.
        import os

        from beatdesk.channels import ingest, worker

        if os.environ.get("BEATDESK_INBOX_DISABLED") == "1":
            # Only for measuring the channels loop alone (bench/inbox_surge.py baseline).
            return

        from . import process

        if process.on_new_messages not in ingest.NEW_MESSAGE_LISTENERS:
            ingest.NEW_MESSAGE_LISTENERS.append(process.on_new_messages)
        if process.on_tick not in worker.TICK_LISTENERS:
            worker.TICK_LISTENERS.append(process.on_tick)
