"""Time-based one-time passwords (RFC 6238) with replay protection."""

from __future__ import annotations

import time

import pyotp
import segno

ISSUER = "Beatdesk"
STEP_SECONDS = 30
# Accept the previous and next 30-second step too: phones drift.
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, account_name: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=ISSUER)


def qr_svg_data_uri(uri: str) -> str:
    """An SVG QR code of ``uri`` as a data: URI (allowed by our CSP for images)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, dark="#111", light="#fff"))


def matching_step(
    secret: str, code: str, last_used_step: int, now: float | None = None
) -> int | None:
    """Return the time step ``code`` is valid for, or ``None``.

    A step at or before ``last_used_step`` is refused, so one code works once.
    """
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    moment = time.time() if now is None else now
    totp = pyotp.TOTP(secret)
    current = int(moment // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if step <= last_used_step:
            continue
        if pyotp.utils.strings_equal(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def current_code(secret: str, now: float | None = None) -> str:
    """The code an authenticator app would show now (demo helper and tests)."""
    return pyotp.TOTP(secret).at(time.time() if now is None else now)
