"""Load (or refresh) the demo agencies and print how to sign in."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from beatdesk.agencies.demo import load_demo
from beatdesk.agencies.models import Agency


class Command(BaseCommand):
    help = "Create or refresh the demo agencies (Greater Manchester) and demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        logins = load_demo()
        # Ten weeks of invented history, so the insights dashboard has periods to compare.
        from beatdesk.insights.demo import load_history

        gmp = Agency.objects.get(slug="gmp")
        if load_history(gmp):
            self.stdout.write("Demo history written: ten weeks of messages, posts and figures.")
        self.stdout.write(
            "\nDemo loaded: Greater Manchester Police (10 districts, 215 wards), "
            "Greater Manchester Fire and Rescue Service, North West Ambulance Service.\n"
            "\nEvery account needs a password AND a 6-digit code (MFA). Either add the "
            "secret below to an authenticator app (Google Authenticator, Aegis, 1Password…: "
            "'enter a setup key', time-based), or in another terminal run\n"
            "    .venv/bin/beatdesk demo-code USERNAME\n"
            "to print the current code. Passwords are new each time the demo is loaded.\n"
        )
        width = max(len(login.username) for login in logins)
        self.stdout.write(
            f"  {'username':<{width}}  {'password':<26} {'role':<44} authenticator secret"
        )
        for login in logins:
            self.stdout.write(
                f"  {login.username:<{width}}  {login.password:<26} "
                f"{login.agency + ' ' + login.role:<44} {login.totp_secret}"
            )
        self.stdout.write("")
