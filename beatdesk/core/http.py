"""The one outbound HTTP client. Every connector talks to the outside world here.

One chokepoint means one place for timeouts, a user agent, logging that never
carries a credential, rate-limit header parsing, and the rule that decides whether a
failed write might still have reached the platform (``outcome_unknown``). Tests
pass an ``httpx`` transport (recorded payloads) or point ``base_url`` at a local
server; nothing else is patched.
"""

from __future__ import annotations

import email.utils
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from beatdesk.channels.contract import ConnectorError, ErrorReason, RateLimitState

logger = logging.getLogger("beatdesk.http")
# httpx logs every request URL at INFO, and the Graph API carries tokens in the query
# string: only our own redacted log lines may mention URLs.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

USER_AGENT = "Beatdesk/0.1 (+https://github.com/beatdesk/beatdesk)"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class HttpClient:
    """A thin, typed wrapper over ``httpx.Client``.

    ``request`` returns the response for any HTTP status (callers map statuses with
    ``error_for_status``) and raises ``ConnectorError(NETWORK)`` for transport
    failures. A non-idempotent request that failed after it was sent raises with
    ``outcome_unknown=True``.
    """

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        method = method.upper()
        try:
            response = self._client.request(
                method,
                url,
                headers=headers,
                params=params,
                json=json,
                data=data,
                content=content,
                files=files,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Never reached the server: safe to retry whatever the method.
            logger.info("%s %s: cannot connect (%s)", method, redact_url(url), type(exc).__name__)
            raise ConnectorError(
                f"cannot connect to {httpx.URL(url).host}",
                permanent=False,
                reason=ErrorReason.NETWORK,
            ) from exc
        except httpx.TransportError as exc:
            # The request may have been sent: a write's outcome is now unknown.
            unknown = method not in IDEMPOTENT_METHODS
            logger.warning(
                "%s %s: connection lost (%s), outcome %s",
                method,
                redact_url(url),
                type(exc).__name__,
                "unknown" if unknown else "not applied",
            )
            raise ConnectorError(
                f"connection to {httpx.URL(url).host} lost during the request",
                permanent=False,
                reason=ErrorReason.NETWORK,
                outcome_unknown=unknown,
            ) from exc
        logger.debug("%s %s -> %s", method, redact_url(url), response.status_code)
        return response


SECRET_PARAMS = frozenset(
    {
        "access_token",
        "token",
        "client_secret",
        "code",
        "refresh_token",
        "password",
        "fb_exchange_token",
        "input_token",
    }
)


def redact_url(url: str | httpx.URL) -> str:
    """The URL without query values that could be credentials (Graph API puts tokens there)."""
    parsed = httpx.URL(str(url))
    if not parsed.query:
        return str(parsed)
    params = [
        (key, "[redacted]" if key.lower() in SECRET_PARAMS else value)
        for key, value in parsed.params.multi_items()
    ]
    return str(parsed.copy_with(params=params))


def _parse_reset(value: str, now: datetime) -> datetime | None:
    """A reset header: epoch seconds (X, Bluesky), ISO 8601 (Mastodon) or HTTP date."""
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        # Small numbers are "seconds from now" (Retry-After style), large ones epoch.
        if number < 10_000_000:
            return now + timedelta(seconds=number)
        return datetime.fromtimestamp(number, tz=UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int_header(headers: httpx.Headers, *names: str) -> int | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            try:
                return int(float(value))
            except ValueError:
                return None
    return None


def rate_limit_from_headers(
    headers: httpx.Headers, now: datetime | None = None
) -> RateLimitState | None:
    """Rate-limit state from the headers Mastodon, Bluesky, X and Meta send, if any."""
    now = now or datetime.now(UTC)
    remaining = _int_header(
        headers, "x-ratelimit-remaining", "ratelimit-remaining", "x-rate-limit-remaining"
    )
    limit = _int_header(headers, "x-ratelimit-limit", "ratelimit-limit", "x-rate-limit-limit")
    reset_raw = (
        headers.get("x-ratelimit-reset")
        or headers.get("ratelimit-reset")
        or headers.get("x-rate-limit-reset")
    )
    if remaining is None and limit is None and reset_raw is None:
        return None
    return RateLimitState(
        remaining=remaining,
        limit=limit,
        reset_at=_parse_reset(reset_raw, now) if reset_raw else None,
    )


def retry_after(response: httpx.Response, now: datetime | None = None) -> datetime:
    """When a 429/503 may be retried: Retry-After, else the rate-limit reset, else 60 s."""
    now = now or datetime.now(UTC)
    header = response.headers.get("retry-after")
    if header:
        parsed = _parse_reset(header, now)
        if parsed:
            return parsed
    state = rate_limit_from_headers(response.headers, now)
    if state and state.reset_at and state.reset_at > now:
        return state.reset_at
    return now + timedelta(seconds=60)


def error_for_status(response: httpx.Response, platform: str) -> ConnectorError | None:
    """The generic meaning of an HTTP status; connectors refine it from the body.

    401 expired/invalid credentials and 403 withdrawn permission are permanent and
    break the account; 429 and 5xx are transient; other 4xx are permanent refusals
    of this request. Returns None for success.
    """
    status = response.status_code
    if status < 400:
        return None
    if status == 401:
        return ConnectorError(
            f"{platform} rejected the credentials (401)",
            permanent=True,
            reason=ErrorReason.AUTH_EXPIRED,
            status=status,
        )
    if status == 403:
        return ConnectorError(
            f"{platform} refused permission (403)",
            permanent=True,
            reason=ErrorReason.AUTH_REVOKED,
            status=status,
        )
    if status == 404:
        return ConnectorError(
            f"{platform}: not found (404)", permanent=True, reason=ErrorReason.NOT_FOUND, status=404
        )
    if status == 429:
        return ConnectorError(
            f"{platform} rate limit reached (429)",
            permanent=False,
            reason=ErrorReason.RATE_LIMITED,
            retry_after=retry_after(response),
            status=status,
        )
    if status >= 500:
        return ConnectorError(
            f"{platform} server error ({status})",
            permanent=False,
            reason=ErrorReason.SERVER,
            retry_after=retry_after(response) if status == 503 else None,
            status=status,
        )
    return ConnectorError(
        f"{platform} refused the request ({status})",
        permanent=True,
        reason=ErrorReason.REJECTED,
        status=status,
    )
