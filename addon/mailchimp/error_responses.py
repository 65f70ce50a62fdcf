"""Mailchimp's error answers read into :class:`~addon.mailchimp.errors.MailchimpError`s.

A problem document (``application/problem+json``), a bodiless answer or a proxy's HTML page
becomes the most specific class of `errors.py` (:func:`error_from_response`); the OAuth
endpoints' ``{"error": ..., "error_description": ...}`` bodies become :class:`OAuthError`
(:func:`oauth_error_from_response`). Both read the wait a ``Retry-After`` asks for.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from addon.clock import current_clock

from .errors import (
    LOOKS_FAKE,
    TOO_MANY_SIGNUPS,
    USER_DISABLED,
    AccountDisabled,
    AddressRefused,
    BadRequest,
    FieldError,
    Forbidden,
    ForgottenEmailNotSubscribed,
    InvalidCredentials,
    MailchimpError,
    MemberExists,
    MemberInComplianceState,
    NotFound,
    OAuthError,
    RateLimited,
    ResultsUnavailable,
    TransientError,
    ValidationFailed,
)

__all__ = [
    "RETRY_AFTER_MAX",
    "error_from_response",
    "oauth_error_from_response",
    "storage_error_from_response",
]

_TITLE_CLASSES: dict[str, type[BadRequest]] = {
    "member exists": MemberExists,
    "member in compliance state": MemberInComplianceState,
    "forgotten email not subscribed": ForgottenEmailNotSubscribed,
    "invalid resource": ValidationFailed,
}


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    if not response.content:
        return None
    try:
        data = json.loads(response.content)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


# The longest wait a `Retry-After` is taken at: each caller bounds it further by its own settings
# (the worker's longest backoff); this keeps a run of digits from overflowing a date.
RETRY_AFTER_MAX = 86_400.0
_DELAY_SECONDS = re.compile(r"[0-9]+")


def _retry_after(response: httpx.Response) -> float | None:
    """The wait `Retry-After` asks for, in seconds: RFC 9110 §10.2.3 allows delay-seconds
    (digits only) or an HTTP-date, the latter counted from the response's `Date` (the server's
    clock) when it has one. Anything else (`inf`, `-5`, `1e12`, a garbled date) is no answer."""
    value = response.headers.get("Retry-After", "").strip()
    if _DELAY_SECONDS.fullmatch(value):
        return min(float(value), RETRY_AFTER_MAX)
    until = _http_date(value)
    if until is None:
        return None
    sent = _http_date(response.headers.get("Date", "")) or current_clock().now()
    return min(max(0.0, (until - sent).total_seconds()), RETRY_AFTER_MAX)


def _http_date(value: str) -> datetime | None:
    """An HTTP-date (always GMT, RFC 9110 §5.6.7), or None."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # a year or offset past C's ints
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _field_errors(raw: object) -> tuple[FieldError, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(
        FieldError(field=str(e.get("field") or ""), message=str(e.get("message") or ""))
        for e in raw
        if isinstance(e, dict)
    )


def _error_class(
    status: int, title: str, has_body: bool, errors: bool, detail: str = ""
) -> type[MailchimpError]:
    if status == 429 or (status == 403 and not has_body):
        return RateLimited
    if status >= 500:
        return TransientError
    if status == 401:
        return InvalidCredentials
    if status == 403:
        return AccountDisabled if title.strip().lower() == USER_DISABLED else Forbidden
    if status == 404:
        return NotFound
    if status == 400:
        cls = _TITLE_CLASSES.get(title.strip().lower())
        lowered = detail.lower()
        if cls is ValidationFailed and (LOOKS_FAKE in lowered or TOO_MANY_SIGNUPS in lowered):
            return AddressRefused
        if cls is not None:
            return cls
        return ValidationFailed if errors else BadRequest
    return MailchimpError


def error_from_response(response: httpx.Response) -> MailchimpError:
    """Build the most specific :class:`MailchimpError` for an unsuccessful response."""
    status = response.status_code
    request = response.request
    body = _json_object(response)
    common: dict[str, Any] = {
        "status": status,
        "method": request.method,
        "path": request.url.path,
        "retry_after": _retry_after(response),
    }
    if body is None:
        has_body = bool(response.content.strip())
        cls = _error_class(status, "", has_body, False)
        if has_body and status >= 400 and cls is not RateLimited:
            # An HTML page from a proxy or load balancer: say so instead of dumping it.
            reason = response.reason_phrase or "error"
            content_type = response.headers.get("Content-Type", "unknown").split(";")[0]
            detail = f"Mailchimp answered with a non-JSON {content_type} page ({reason})."
        else:
            detail = "Mailchimp answered without an error description."
        return cls(detail, title=response.reason_phrase, **common)
    if "error" in body and "title" not in body:
        # OAuth-style body from the login host (e.g. metadata with a revoked token).
        body = {"title": body.get("error"), "detail": body.get("error_description")}
    title = str(body.get("title") or response.reason_phrase)
    errors = _field_errors(body.get("errors"))
    detail = str(body.get("detail") or "")
    cls = _error_class(status, title, True, bool(errors), detail)
    return cls(
        detail,
        title=title,
        instance=str(body.get("instance") or ""),
        type=str(body.get("type") or ""),
        errors=errors,
        **common,
    )


def oauth_error_from_response(response: httpx.Response) -> MailchimpError:
    """Map an OAuth endpoint failure; throttling and 5xx keep their retryable classes."""
    status = response.status_code
    request = response.request
    body = _json_object(response) or {}
    common: dict[str, Any] = {
        "status": status,
        "method": request.method,
        "path": request.url.path,
        "retry_after": _retry_after(response),
    }
    error = str(body.get("error") or body.get("title") or response.reason_phrase)
    description = str(body.get("error_description") or body.get("detail") or "")
    if status == 429 or status >= 500 or (status == 403 and not response.content.strip()):
        cls = RateLimited if status in (403, 429) else TransientError
        return cls(description, title=error, **common)
    return OAuthError(description, title=error, **common)


def storage_error_from_response(response: httpx.Response) -> MailchimpError:
    """Map a failed download of a batch's results archive from the storage host (S3, its XML
    errors): a 403 (``AccessDenied``, "Request has expired": the pre-signed URL's time is up)
    or a 404 (``NoSuchKey``: the results deleted) is :class:`ResultsUnavailable`, never the
    API's role/plan refusal or missing resource; anything else (a 5xx, a 429) as the API's."""
    if response.status_code not in (403, 404):
        return error_from_response(response)
    return ResultsUnavailable(
        f"The storage host answered {response.status_code} for the results archive.",
        status=response.status_code,
        title=response.reason_phrase,
        method=response.request.method,
        path=response.request.url.path,
    )
