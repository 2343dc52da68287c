"""Deployment checks: channel credential keys (required) and the public address that
Instagram fetches post images from (recommended)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

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


@register(Tags.security, deploy=True)
def public_url_configured(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if not getattr(settings, "PRODUCTION", False) or settings.BEATDESK_PUBLIC_URL:
        return []
    return [
        Warning(
            "BEATDESK_PUBLIC_URL is not set: Instagram posts cannot carry images (Instagram "
            "fetches each image from a signed link to this site).",
            hint="Set BEATDESK_PUBLIC_URL to the site's public https:// address.",
            id="beatdesk.channels.W001",
        )
    ]
