"""Beatdesk settings: one module, driven by environment variables.

Every secret may be given directly (``BEATDESK_X``) or as a path to a file holding it
(``BEATDESK_X_FILE``, for container secrets). Nothing secret has a default in code: in
development the secret key is generated once into ``var/`` (git-ignored).

Environment:
- ``BEATDESK_ENV``: ``development`` (default) or ``production`` (secure cookies, HSTS,
  HTTPS redirect, no debug; ``BEATDESK_SECRET_KEY`` and ``BEATDESK_ALLOWED_HOSTS`` required).
- ``BEATDESK_DATABASE_URL``: e.g. ``postgres://user:pw@host:5432/beatdesk``; default an
  SQLite file ``var/beatdesk.sqlite3`` (the embedded default for the demo).
- ``BEATDESK_ALLOWED_HOSTS``: comma-separated host names.
- ``BEATDESK_DEBUG``: ``1`` to enable Django's debug pages in development.
- ``BEATDESK_PUBLIC_URL``: the site's public address (``https://desk.example.police.uk``);
  Instagram fetches post images from it. ``BEATDESK_MEDIA_ROOT``: uploads (``var/media``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("BEATDESK_VAR_DIR", BASE_DIR / "var"))


class ImproperlyConfiguredEnv(RuntimeError):
    """A required environment setting is missing or malformed."""


def env(name: str, default: str | None = None) -> str | None:
    """Return ``BEATDESK_<name>``, or the contents of the file named by ``..._FILE``."""
    key = f"BEATDESK_{name}"
    file_path = os.environ.get(f"{key}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(key, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


ENVIRONMENT = env("ENV", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfiguredEnv("BEATDESK_ENV must be 'development' or 'production'")
PRODUCTION = ENVIRONMENT == "production"


def _secret_key() -> str:
    configured = env("SECRET_KEY")
    if configured:
        return configured
    if PRODUCTION:
        raise ImproperlyConfiguredEnv("BEATDESK_SECRET_KEY (or _FILE) is required in production")
    # Development: one random key per checkout, kept out of git, so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(64), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG") and not PRODUCTION
ALLOWED_HOSTS = [h.strip() for h in (env("ALLOWED_HOSTS") or "").split(",") if h.strip()]
if not ALLOWED_HOSTS:
    if PRODUCTION:
        raise ImproperlyConfiguredEnv("BEATDESK_ALLOWED_HOSTS is required in production")
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "beatdesk.core",
    "beatdesk.audit",
    "beatdesk.agencies",
    "beatdesk.accounts",
    "beatdesk.channels",
    "beatdesk.inbox",
    "beatdesk.publishing",
    "beatdesk.intelligence",
    "beatdesk.records",
    "beatdesk.insights",
    "beatdesk.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "beatdesk.accounts.middleware.SessionLimitsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "beatdesk.core.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "beatdesk.web.context_processors.navigation",
            ],
        },
    },
]

_database_url = env("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'beatdesk.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the web process read while the worker writes; IMMEDIATE avoids the
    # "database is locked" upgrade deadlock between two writers.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
        ),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "agencies.Staff"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions: absolute lifetime 12 hours (cookie and server-side); the idle limit of
# 30 minutes is enforced by SessionLimitsMiddleware, which also kills sessions of
# disabled staff.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
BEATDESK_SESSION_IDLE_SECONDS = 30 * 60
BEATDESK_SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60
BEATDESK_LOCKOUT_ATTEMPTS = 5
BEATDESK_LOCKOUT_WINDOW_SECONDS = 15 * 60
BEATDESK_REAUTH_SECONDS = 5 * 60

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT") or (VAR_DIR / "static"))
# Uploaded files (images attached to posts) in the default storage. Never served from
# MEDIA_URL: a platform fetches one through a signed, short-lived link
# (``channels.media``), which needs the site's public address.
MEDIA_ROOT = Path(env("MEDIA_ROOT") or (VAR_DIR / "media"))
BEATDESK_PUBLIC_URL = (env("PUBLIC_URL") or "").rstrip("/")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Serve static files from the app folders without collectstatic outside production.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Mail (channel alerts to agency admins). Production sends through SMTP (default a
# local relay on localhost:25); development prints mail to the console. The alert itself
# is always on the channels page and in the admin banner, whatever happens to mail.
_smtp_host = env("SMTP_HOST") or ("localhost" if PRODUCTION else None)
MAILERS = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _smtp_host,
                "port": int(env("SMTP_PORT") or (587 if env("SMTP_HOST") else 25)),
                "username": env("SMTP_USER") or "",
                "password": env("SMTP_PASSWORD") or "",
                "use_tls": env_bool("SMTP_TLS", bool(env("SMTP_HOST"))),
                "timeout": 10,
            },
        }
        if _smtp_host
        else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    )
}
DEFAULT_FROM_EMAIL = env("MAIL_FROM") or "beatdesk@localhost"

# Channels: how long a sending worker owns a delivery before another may reconcile it
# (must exceed the HTTP client's worst case), and how long to wait before asking a
# platform whether a post whose outcome was unknown went out (read-side lag).
CHANNELS_LEASE_SECONDS = int(env("DELIVERY_LEASE_SECONDS") or 120)
CHANNELS_RECONCILE_DELAY_SECONDS = int(env("RECONCILE_DELAY_SECONDS") or 20)

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 63072000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
