from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "beatdesk.core"
    label = "core"
    verbose_name = "Beatdesk core"
