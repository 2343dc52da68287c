"""Production settings pass Django's deployment checks; secrets come from env or files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in env.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_passes_with_production_settings(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("k" * 20 + "-Zq8#x2!pLm4$Rt7&Wv9*Yb3^Nc6@Hd1" + "j" * 20)
    env = {
        **os.environ,
        "BEATDESK_ENV": "production",
        "BEATDESK_SECRET_KEY_FILE": str(secret_file),
        "BEATDESK_ALLOWED_HOSTS": "desk.example.police.uk",
        "BEATDESK_VAR_DIR": str(tmp_path),
        "BEATDESK_CREDENTIAL_KEYS": "k1:" + "A" * 43,
        "BEATDESK_PUBLIC_URL": "https://desk.example.police.uk",
    }
    result = _check(env)
    assert result.returncode == 0, result.stdout + result.stderr
    # Without its public address, Instagram cannot fetch post images: a warning, which
    # the deploy check's WARNING level turns into a failure.
    del env["BEATDESK_PUBLIC_URL"]
    result = _check(env)
    assert result.returncode != 0 and "BEATDESK_PUBLIC_URL" in result.stdout + result.stderr


def test_production_check_fails_without_channel_credential_keys(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("k" * 20 + "-Zq8#x2!pLm4$Rt7&Wv9*Yb3^Nc6@Hd1" + "j" * 20)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEATDESK_CREDENTIAL")}
    env.update(
        {
            "BEATDESK_ENV": "production",
            "BEATDESK_SECRET_KEY_FILE": str(secret_file),
            "BEATDESK_ALLOWED_HOSTS": "desk.example.police.uk",
            "BEATDESK_VAR_DIR": str(tmp_path),
        }
    )
    result = _check(env)
    assert result.returncode != 0 and "beatdesk.channels.E001" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEATDESK_SECRET")}
    env.update(
        {
            "BEATDESK_ENV": "production",
            "BEATDESK_ALLOWED_HOSTS": "desk.example.police.uk",
            "BEATDESK_VAR_DIR": str(tmp_path),
        }
    )
    result = _check(env)
    assert result.returncode != 0 and "BEATDESK_SECRET_KEY" in result.stderr
