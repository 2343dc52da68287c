from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "beatdesk.channels"
    label = "channels"
    verbose_name = "Channels"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deployment check)
