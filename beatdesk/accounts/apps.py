from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "beatdesk.accounts"
    label = "accounts"
