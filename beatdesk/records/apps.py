from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "beatdesk.records"
    label = "records"
    verbose_name = "Records: retention, legal hold, subject access"

    def ready(self) -> None:
        # The disposal job runs once a day on the channels loop (and on demand with
        # ``beatdesk records dispose``).
        from beatdesk.channels import worker

        from . import schedule

        if schedule.on_tick not in worker.TICK_LISTENERS:
            worker.TICK_LISTENERS.append(schedule.on_tick)
