"""Telling a person how their action went, the same way on every page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest

from beatdesk.agencies.actions import ActionError


def run_with_message(request: HttpRequest, done: str, change: Callable[[], Any]) -> bool:
    """Run one action; show ``done`` when it worked, or the action's own refusal (an
    ``ActionError``, written for the person) when it did not. True when it worked."""
    try:
        change()
    except ActionError as error:
        messages.error(request, str(error))
        return False
    messages.success(request, done)
    return True
