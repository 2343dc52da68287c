from django.apps import AppConfig


class AgenciesConfig(AppConfig):
    name = "beatdesk.agencies"
    label = "agencies"
