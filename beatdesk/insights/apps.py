from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "beatdesk.insights"
    label = "insights"
    verbose_name = "Insights: what the social media achieves"

    def ready(self) -> None:
        # Metrics are collected, daily figures refreshed and the weekly report made on
        # the channels loop's tick (and on demand with ``beatdesk insights ...``).
        from beatdesk.channels import worker

        from . import schedule

        if schedule.on_tick not in worker.TICK_LISTENERS:
            worker.TICK_LISTENERS.append(schedule.on_tick)
