from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "beatdesk.publishing"
    label = "publishing"
    verbose_name = "Publishing"

    def ready(self) -> None:
        # Scheduled posts fall due on the channels loop's tick: approved ones go out,
        # unapproved ones are held and their author and reviewers alerted.
        from beatdesk.channels import worker

        from . import schedule

        if schedule.on_tick not in worker.TICK_LISTENERS:
            worker.TICK_LISTENERS.append(schedule.on_tick)
