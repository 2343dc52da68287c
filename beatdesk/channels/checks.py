"""Deployment check: production must have channel credential keys configured."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

from . import crypto


@register(Tags.security, deploy=True)
def credential_keys_configured(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if not getattr(settings, "PRODUCTION", False):
        return []
    try:
        crypto.keyring()
    except (crypto.CredentialKeyError, OSError) as exc:
        return [
            Error(
                f"Channel credential keys: {exc}",
                hint="Set BEATDESK_CREDENTIAL_KEYS (or _FILE); `beatdesk channels new-key`.",
                id="beatdesk.channels.E001",
            )
        ]
    return []
