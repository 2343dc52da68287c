"""Channel credentials encrypted at rest (AES-256-GCM), keys outside the database.

Keys come from ``BEATDESK_CREDENTIAL_KEYS`` (or the file named by
``BEATDESK_CREDENTIAL_KEYS_FILE``): whitespace- or comma-separated ``id:base64key``
entries, the first being the key new ciphertexts use; older keys stay listed until
``beatdesk channels rotate-keys`` has re-encrypted everything under the first one.
In development, with neither set, a key file is created under ``var/`` (never in
git); production refuses to start without configured keys.

A ciphertext is bound to its row by authenticated data (the account's uuid), so a
ciphertext copied onto another account fails to decrypt rather than leaking one
account's token into another.

Wire format (text, so it fits any database column):
``v1.<key id>.<base64url(nonce 12 bytes || ciphertext+tag)>``
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

VERSION = "v1"


class CredentialKeyError(RuntimeError):
    """Keys are missing or malformed, or a ciphertext cannot be decrypted."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: Mapping[str, bytes]

    def __repr__(self) -> str:
        return f"Keyring(current={self.current_id!r}, ids={sorted(self.keys)!r})"


def parse_keyring(text: str) -> Keyring:
    entries = [part for part in text.replace(",", " ").split() if part]
    if not entries:
        raise CredentialKeyError("no credential keys configured")
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for entry in entries:
        key_id, sep, encoded = entry.partition(":")
        if not sep or not key_id.isalnum():
            raise CredentialKeyError("credential key entries must look like id:base64key")
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError as exc:
            raise CredentialKeyError(f"credential key {key_id!r} is not base64") from exc
        if len(raw) != 32:
            raise CredentialKeyError(f"credential key {key_id!r} must be 32 bytes (AES-256)")
        if key_id in keys:
            raise CredentialKeyError(f"credential key id {key_id!r} listed twice")
        keys[key_id] = raw
        order.append(key_id)
    return Keyring(current_id=order[0], keys=keys)


def generate_key_entry(key_id: str | None = None) -> str:
    key_id = key_id or secrets.token_hex(4)
    return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip('=')}"


def keyring() -> Keyring:
    """The configured keyring (read each call so rotation needs no code reload)."""
    value = os.environ.get("BEATDESK_CREDENTIAL_KEYS", "")
    path = os.environ.get("BEATDESK_CREDENTIAL_KEYS_FILE", "")
    if path:
        value = Path(path).read_text(encoding="utf-8")
    if value.strip():
        return parse_keyring(value)
    if getattr(settings, "PRODUCTION", False):
        raise CredentialKeyError("BEATDESK_CREDENTIAL_KEYS (or _FILE) is required in production")
    key_file = Path(settings.VAR_DIR) / "credential_keys"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(generate_key_entry("dev1") + "\n", encoding="utf-8")
        key_file.chmod(0o600)
    return parse_keyring(key_file.read_text(encoding="utf-8"))


def encrypt(secrets_map: Mapping[str, str], *, bound_to: str, ring: Keyring | None = None) -> str:
    ring = ring or keyring()
    nonce = os.urandom(12)
    plaintext = json.dumps(dict(secrets_map), sort_keys=True).encode()
    sealed = AESGCM(ring.keys[ring.current_id]).encrypt(nonce, plaintext, bound_to.encode())
    body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{VERSION}.{ring.current_id}.{body}"


def key_id_of(token: str) -> str:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        raise CredentialKeyError("not a Beatdesk credential ciphertext")
    return parts[1]


def decrypt(token: str, *, bound_to: str, ring: Keyring | None = None) -> dict[str, str]:
    ring = ring or keyring()
    key_id = key_id_of(token)
    if key_id not in ring.keys:
        raise CredentialKeyError(f"credential key {key_id!r} is not configured")
    body = token.split(".")[2]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    try:
        plaintext = AESGCM(ring.keys[key_id]).decrypt(raw[:12], raw[12:], bound_to.encode())
    except InvalidTag as exc:
        raise CredentialKeyError("credentials cannot be decrypted (wrong key or row)") from exc
    loaded = json.loads(plaintext)
    if not isinstance(loaded, dict):
        raise CredentialKeyError("credentials are not a mapping")
    return {str(k): str(v) for k, v in loaded.items()}
