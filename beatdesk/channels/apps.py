from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "beatdesk.channels"
    label = "channels"
    verbose_name = "Channels"
