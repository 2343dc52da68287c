"""Meta Graph API plumbing shared by the Facebook Page and Instagram connectors.

References (developers.facebook.com, read November 2026):

* Versions: https://developers.facebook.com/docs/graph-api/changelog/versions/ (v26.0
  released 29 July 2026 is the newest; the version is pinned in ``GRAPH_VERSION``).
* Errors: https://developers.facebook.com/docs/graph-api/guides/error-handling
  (``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``).
* Rate limits: https://developers.facebook.com/docs/graph-api/overview/rate-limiting
  (``X-App-Usage`` for platform limits, ``X-Business-Use-Case-Usage`` for Pages with
  Page tokens and for Instagram, with ``estimated_time_to_regain_access`` in minutes).
* Facebook Login, manual flow: ``/dialog/oauth`` then ``/oauth/access_token`` (code
  exchange, then ``grant_type=fb_exchange_token`` for a long-lived token):
  https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow and
  https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived

Access tokens travel as the ``access_token`` query parameter, as the Graph reference
shows. ``HttpClient`` logs URLs through ``redact_url``; httpx itself logs every request
URL at INFO, so this module installs a filter on the ``httpx`` logger that redacts
the same parameters (see ``RedactGraphUrls``). Token exchanges are POSTed with the
secrets in the form body, never in a URL.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from beatdesk.channels.contract import ConnectorError, ErrorReason, RateLimitState
from beatdesk.core.http import HttpClient, error_for_status, redact_url

GRAPH_VERSION = "v26.0"
GRAPH_BASE_URL = "https://graph.facebook.com"
DIALOG_URL = f"https://www.facebook.com/{GRAPH_VERSION}/dialog/oauth"

#: Query parameters that carry secrets on Graph, beyond ``core.http.SECRET_PARAMS``.
GRAPH_SECRET_PARAMS = frozenset(
    {"access_token", "client_secret", "code", "fb_exchange_token", "input_token"}
)

#: Wait this long after a throttle that does not say how long (Graph windows are an hour).
DEFAULT_THROTTLE_WAIT = timedelta(minutes=5)
#: Instagram's publishing cap is a moving 24 hours; retry in an hour when it is hit.
POSTING_CAP_WAIT = timedelta(hours=1)

RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613})
PERMISSION_CODES = frozenset({3, 10})
TRANSIENT_CODES = frozenset({1, 2})
REVOKED_SUBCODES = frozenset({458, 459, 460, 464})  # app removed, checkpoint, password, unconfirmed
IG_PUBLISH_LIMIT_SUBCODE = 2207042


def redact_graph_url(url: str | httpx.URL) -> str:
    """``redact_url`` plus Graph's own secret parameters (``fb_exchange_token``...)."""
    parsed = httpx.URL(str(url))
    if not parsed.query:
        return redact_url(parsed)
    params = [
        (key, "[redacted]" if key.lower() in GRAPH_SECRET_PARAMS else value)
        for key, value in parsed.params.multi_items()
    ]
    return redact_url(parsed.copy_with(params=params))


class RedactGraphUrls(logging.Filter):
    """Redacts secrets in the URLs that httpx logs ("HTTP Request: GET https://...")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact_graph_url(arg)
                if isinstance(arg, httpx.URL) or (isinstance(arg, str) and "?" in arg)
                else arg
                for arg in record.args
            )
        return True


def install_log_redaction() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(existing, RedactGraphUrls) for existing in logger.filters):
        logger.addFilter(RedactGraphUrls())


install_log_redaction()


def parse_graph_time(value: Any) -> datetime | None:
    """Graph's ``2026-11-20T10:15:30+0000`` (and plain ISO 8601)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def text(mapping: Any, key: str) -> str:
    if not isinstance(mapping, dict):
        return ""
    value = mapping.get(key)
    return value if isinstance(value, str) else ""


def number(mapping: Any, *keys: str) -> int:
    """``mapping[k1][k2]...`` as an int (0 when absent)."""
    value: Any = mapping
    for key in keys:
        if not isinstance(value, dict):
            return 0
        value = value.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _usage(headers: httpx.Headers) -> tuple[int | None, int]:
    """(highest usage percentage, minutes until access returns) from usage headers."""
    percent: int | None = None
    minutes = 0
    entries: list[dict[str, Any]] = []
    for name in ("x-app-usage", "x-page-usage", "x-ad-account-usage"):
        raw = headers.get(name)
        if raw:
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            if isinstance(value, dict):
                entries.append(value)
    raw = headers.get("x-business-use-case-usage")
    if raw:
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if isinstance(value, dict):
            for usages in value.values():
                entries.extend(dicts(usages))
    for entry in entries:
        for key in ("call_count", "total_cputime", "total_time", "acc_id_util_pct"):
            value = entry.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                percent = max(percent or 0, int(value))
        regain = entry.get("estimated_time_to_regain_access")
        if isinstance(regain, int | float) and not isinstance(regain, bool):
            minutes = max(minutes, int(regain))
    return percent, minutes


def rate_limit_from_usage(
    headers: httpx.Headers, now: datetime | None = None
) -> RateLimitState | None:
    """Meta reports usage as percentages of the allowance: ``limit`` is 100 and
    ``remaining`` the percentage left; ``reset_at`` is when access returns."""
    percent, minutes = _usage(headers)
    if percent is None and not minutes:
        return None
    now = now or datetime.now(UTC)
    return RateLimitState(
        remaining=None if percent is None else max(0, 100 - percent),
        limit=100,
        reset_at=now + timedelta(minutes=minutes) if minutes else None,
    )


def throttle_retry_after(response: httpx.Response, now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    _, minutes = _usage(response.headers)
    if minutes:
        return now + timedelta(minutes=minutes)
    header = response.headers.get("retry-after", "")
    if header.isdigit():
        return now + timedelta(seconds=int(header))
    return now + DEFAULT_THROTTLE_WAIT


class GraphError(ConnectorError):
    """A ``ConnectorError`` that keeps Graph's error code and subcode."""

    def __init__(self, message: str, *, code: int, subcode: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.code = code
        self.subcode = subcode


def graph_error(response: httpx.Response, label: str) -> ConnectorError | None:
    """The ``ConnectorError`` for a Graph answer (None for success).

    The mapping follows Meta's error-handling guide: 190 (and 102) are token problems,
    expired or invalid unless the subcode says the user removed the app, changed the
    password or is checkpointed (revoked); 3, 10 and 200-299 are missing permissions;
    4, 17, 32, 341, 613 and 80001-80099 are throttles; 1, 2 and ``is_transient`` are
    temporary; 9/2207042 is Instagram's publishing cap; 100 is an invalid request
    (subcode 33: the object does not exist); 368 is a policy block; 506 a duplicate.
    """
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        if status < 400:
            return None
        return _status_error(response, label)
    code = number(error, "code")
    subcode = number(error, "error_subcode")
    message = text(error, "message")[:300]
    trace = text(error, "fbtrace_id")
    detail = f"{label}: {message} (code {code}"
    detail += f"/{subcode}" if subcode else ""
    detail += f", fbtrace_id {trace})" if trace else ")"

    def make(reason: ErrorReason, permanent: bool, when: datetime | None = None) -> GraphError:
        return GraphError(
            detail,
            code=code,
            subcode=subcode,
            permanent=permanent,
            reason=reason,
            retry_after=when,
            status=status,
        )

    if code in (190, 102):
        if subcode in REVOKED_SUBCODES:
            return make(ErrorReason.AUTH_REVOKED, True)
        return make(ErrorReason.AUTH_EXPIRED, True)
    if code in PERMISSION_CODES or 200 <= code <= 299:
        return make(ErrorReason.AUTH_REVOKED, True)
    if code == 9 and subcode == IG_PUBLISH_LIMIT_SUBCODE:
        return make(ErrorReason.POSTING_CAP, False, datetime.now(UTC) + POSTING_CAP_WAIT)
    if code in RATE_LIMIT_CODES or code == 9 or 80001 <= code <= 80099:
        return make(ErrorReason.RATE_LIMITED, False, throttle_retry_after(response))
    if code in TRANSIENT_CODES or error.get("is_transient") is True or status >= 500:
        return make(ErrorReason.SERVER, False)
    if code == 100 and subcode == 33:
        return make(ErrorReason.NOT_FOUND, True)
    if code in (100, 368, 506) or 400 <= status < 500:
        return make(ErrorReason.REJECTED, True)
    return make(ErrorReason.BAD_RESPONSE, False)


def _status_error(response: httpx.Response, label: str) -> ConnectorError:
    """An error status without Graph's error body: the generic HTTP meaning, except
    that a throttle waits as long as Meta's usage headers say, and a 5xx carries no
    wait of its own (the caller's backoff applies)."""
    error = error_for_status(response, label)
    assert error is not None  # only called for statuses >= 400
    if error.reason == ErrorReason.RATE_LIMITED:
        error.retry_after = throttle_retry_after(response)
    elif error.reason == ErrorReason.SERVER:
        error.retry_after = None
    return error


def scrub(error: ConnectorError, secret_values: Sequence[str]) -> ConnectorError:
    """Remove any credential a platform might have echoed into an error message."""
    message = error.message
    for value in secret_values:
        if value and len(value) >= 6 and value in message:
            message = message.replace(value, "[redacted]")
    if message != error.message:
        error.message = message
        error.args = (message,)
    return error


class GraphClient:
    """Calls one Graph API version with one access token."""

    def __init__(
        self,
        http: HttpClient,
        base_url: str,
        token: str,
        *,
        label: str,
        on_rate_limit: Callable[[RateLimitState], None] | None = None,
        secret_values: Sequence[str] = (),
    ) -> None:
        self.http = http
        self.root = f"{base_url.rstrip('/')}/{GRAPH_VERSION}"
        self.token = token
        self.label = label
        self.on_rate_limit = on_rate_limit
        self.secret_values = (*secret_values, token)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        if not self.token:
            raise ConnectorError(
                f"no {self.label} access token stored: connect the account",
                permanent=True,
                reason=ErrorReason.AUTH_EXPIRED,
            )
        query = dict(params or {})
        query["access_token"] = self.token
        response = self.http.request(
            method, f"{self.root}/{path.lstrip('/')}", params=query, data=data, files=files
        )
        state = rate_limit_from_usage(response.headers)
        if state is not None and self.on_rate_limit is not None:
            self.on_rate_limit(state)
        error = graph_error(response, self.label)
        if error is not None:
            raise scrub(error, self.secret_values)
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, bool):
            return {"success": body}
        if not isinstance(body, dict):
            raise ConnectorError(
                f"{self.label} answered {method} with something that is not a JSON object",
                permanent=False,
                reason=ErrorReason.BAD_RESPONSE,
                status=response.status_code,
            )
        return body

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self.request("GET", path, params=params)

    def post(
        self,
        path: str,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self.request("POST", path, data=data, files=files)

    def delete(self, path: str) -> dict[str, Any]:
        return self.request("DELETE", path)

    def pages(
        self, path: str, params: Mapping[str, Any], max_pages: int
    ) -> Iterator[list[dict[str, Any]]]:
        """The ``data`` of each page of an edge, following ``paging.next``."""
        query = dict(params)
        for _ in range(max_pages):
            body = self.get(path, query)
            yield dicts(body.get("data"))
            following = next_page_params(body.get("paging"))
            if following is None:
                return
            query.update(following)


def next_page_params(paging: Any) -> dict[str, str] | None:
    """The query parameters of ``paging.next`` (cursor or time based), without the token;
    None on the last page."""
    if not isinstance(paging, dict):
        return None
    following = paging.get("next")
    if not isinstance(following, str) or not following:
        return None
    params = {
        key: value
        for key, value in httpx.URL(following).params.multi_items()
        if key != "access_token"
    }
    after = text(paging.get("cursors"), "after")
    if after:
        params["after"] = after
    return params or None


def exchange_token(http: HttpClient, base_url: str, form: Mapping[str, str]) -> dict[str, Any]:
    """POST ``/oauth/access_token``; secrets stay in the form body."""
    secret_values = [form.get(key, "") for key in ("client_secret", "code", "fb_exchange_token")]
    try:
        response = http.request(
            "POST",
            f"{base_url.rstrip('/')}/{GRAPH_VERSION}/oauth/access_token",
            data=dict(form),
        )
    except ConnectorError as exc:
        exc.outcome_unknown = False  # nothing to reconcile: the exchange can be redone
        raise
    error = graph_error(response, "Facebook Login")
    if error is not None:
        raise scrub(error, secret_values)
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not text(body, "access_token"):
        raise ConnectorError(
            "Facebook Login answered without an access token",
            permanent=False,
            reason=ErrorReason.BAD_RESPONSE,
        )
    return body
