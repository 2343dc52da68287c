from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "beatdesk.web"
    label = "web"
