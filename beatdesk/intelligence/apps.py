from django.apps import AppConfig


class IntelligenceConfig(AppConfig):
    name = "beatdesk.intelligence"
    label = "intelligence"
    verbose_name = "Intelligence and evidence"
