"""One exception hierarchy for everything that can go wrong talking to Mailchimp.

Mailchimp reports errors as ``application/problem+json`` documents::

    {"type": "...", "title": "Member Exists", "status": 400,
     "detail": "a@example.com is already a list member.", "instance": "995c5cb0-...",
     "errors": [{"field": "email_address", "message": "..."}]}

:func:`error_from_response` turns such a response (or a bodiless one, or an HTML page from a
proxy) into the most specific class below. The OAuth endpoints on the login host answer with
``{"error": ..., "error_description": ...}`` instead; those become :class:`OAuthError`.

::

    MailchimpError
    ├── InvalidCredentials        401: the API key is wrong or the OAuth connection was revoked
    ├── Forbidden                 403: the user's role or plan does not allow the call
    ├── NotFound                  404
    ├── BadRequest                400 not recognised more precisely
    │   ├── ValidationFailed      400 with field errors ("Invalid Resource")
    │   │   └── AddressRefused    the address itself: "looks fake or invalid", too many signups
    │   ├── MemberExists
    │   ├── MemberInComplianceState
    │   └── ForgottenEmailNotSubscribed
    ├── RateLimited               429, or a bodiless 403/429 (retryable)
    ├── TransientError            5xx, HTML error pages, timeouts, connection errors (retryable)
    │   └── Unreachable           no connection was made: the request was never sent
    ├── OutcomeUnknown            a request never sent twice (``POST /batches``) failed after it
    │                             may have reached Mailchimp: whether Mailchimp acted is unknown
    └── OAuthError                the OAuth token endpoint refused (``error``/``error_description``)

    InvalidApiKeyFormat(ValueError)   a pasted API key does not look like one
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import httpx

from addon.clock import current_clock

__all__ = [
    "AddressRefused",
    "BadRequest",
    "FieldError",
    "Forbidden",
    "ForgottenEmailNotSubscribed",
    "InvalidApiKeyFormat",
    "InvalidCredentials",
    "MailchimpError",
    "MemberExists",
    "MemberInComplianceState",
    "NotFound",
    "OAuthError",
    "OutcomeUnknown",
    "RateLimited",
    "TransientError",
    "Unreachable",
    "ValidationFailed",
    "error_from_response",
    "oauth_error_from_response",
    "redact",
]

# Anything that looks like an API key (32 hex + "-" + data centre) or a long bearer token.
_SECRET_PATTERNS = (
    re.compile(r"\b[0-9a-f]{32}-[a-z]+[0-9]+\b", re.IGNORECASE),
    re.compile(r"\b(Bearer|Basic|OAuth)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
)


def redact(text: str) -> str:
    """Remove anything shaped like an API key or an ``Authorization`` value from ``text``."""
    text = _SECRET_PATTERNS[0].sub("[redacted api key]", text)
    return _SECRET_PATTERNS[1].sub(r"\1 [redacted]", text)


class InvalidApiKeyFormat(ValueError):
    """A Mailchimp API key was malformed; the message says what is wrong (never the key)."""


@dataclass(frozen=True)
class FieldError:
    """One entry of a problem document's ``errors`` array."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class MailchimpError(Exception):
    """Base class: a Mailchimp call failed.

    ``status`` is the HTTP status (``None`` when no response arrived), ``title``/``detail``/
    ``instance`` come from the problem document and ``errors`` holds per-field errors.
    ``method`` and ``path`` name the call (the path never carries credentials).
    """

    retryable: ClassVar[bool] = False
    summary: ClassVar[str] = "Mailchimp rejected the request"

    def __init__(
        self,
        detail: str = "",
        *,
        status: int | None = None,
        title: str = "",
        instance: str = "",
        type: str = "",  # mirrors the problem document
        errors: tuple[FieldError, ...] = (),
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.title = redact(title)
        self.detail = redact(detail)
        self.instance = instance
        self.type = type
        self.errors = errors
        self.method = method
        self.path = path
        self.retry_after = retry_after
        super().__init__(str(self))

    @property
    def field_errors(self) -> dict[str, str]:
        """``{field: message}`` for the problem document's ``errors`` array."""
        return {e.field: e.message for e in self.errors}

    def __str__(self) -> str:
        head = self.summary
        label = " ".join(p for p in (str(self.status or ""), self.title) if p)
        if label:
            head += f" ({label})"
        parts = [head + (f": {self.detail}" if self.detail else "")]
        if self.errors:
            parts.append("Problems: " + "; ".join(str(e) for e in self.errors) + ".")
        if self.method or self.path:
            parts.append(f"Request: {self.method} {self.path}".rstrip() + ".")
        if self.instance:
            parts.append(f"Mailchimp error id: {self.instance}.")
        text = " ".join(p if p.endswith((".", "!", "?")) else p + "." for p in parts)
        return redact(text)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, title={self.title!r})"


class InvalidCredentials(MailchimpError):
    """401: the API key is wrong or the OAuth connection was revoked; reconnect the account."""

    summary = (
        "Mailchimp did not accept the credentials; the connection was revoked or the key is wrong"
    )


class Forbidden(MailchimpError):
    """403: the account's role or plan does not allow this call."""

    summary = "Mailchimp refused the call for this account's role or plan"


class NotFound(MailchimpError):
    """404: the resource does not exist (or is not visible to this account)."""

    summary = "Mailchimp could not find the resource"


class BadRequest(MailchimpError):
    """400: Mailchimp rejected the request body or parameters."""


class ValidationFailed(BadRequest):
    """400 with per-field errors (``errors``/``field_errors``)."""

    summary = "Mailchimp rejected the data"


class AddressRefused(ValidationFailed):
    """Mailchimp refuses the address itself as a new contact: it "looks fake or invalid", or it
    "has signed up to a lot of lists very recently" (its guard against signup abuse). A detail,
    no field error (bodies quoted in verbb/formie#2276). The first is refused again whenever
    sent; the second "for now" (`too_many_signups`)."""

    summary = "Mailchimp refused the e-mail address"

    @property
    def too_many_signups(self) -> bool:
        return _TOO_MANY_SIGNUPS in self.detail.lower()


# What Mailchimp's refusals of an address say (their title is "Invalid Resource", as for any
# invalid body, so the detail tells them apart).
_LOOKS_FAKE = "looks fake or invalid"
_TOO_MANY_SIGNUPS = "signed up to a lot of lists very recently"


class MemberExists(BadRequest):
    """The e-mail address is already a member of the audience."""

    summary = "The contact is already a member of the audience"


class MemberInComplianceState(BadRequest):
    """The contact unsubscribed or was cleaned and cannot be re-subscribed through the API."""

    summary = "The contact is in a compliance state and cannot be subscribed through the API"


class ForgottenEmailNotSubscribed(BadRequest):
    """The contact was permanently deleted ("forgotten") and must re-subscribe through a form."""

    summary = "The contact was permanently deleted and must re-subscribe through a signup form"


class RateLimited(MailchimpError):
    """429 (or a bodiless 403/429): too many requests or connections; retry later."""

    retryable = True
    summary = "Mailchimp is throttling requests for this account"


class TransientError(MailchimpError):
    """5xx, an HTML error page, a timeout or a connection error; retrying may succeed."""

    retryable = True
    summary = "Mailchimp is temporarily unavailable"


class Unreachable(TransientError):
    """No connection to Mailchimp was made (refused, not resolved, timed out connecting): the
    request was never sent, so sending it again cannot do anything twice."""


class OutcomeUnknown(MailchimpError):
    """A request that is never sent twice (``POST /batches``: each send creates a batch) failed
    after it may have reached Mailchimp: a timeout or a dropped connection once it was sent, a
    5xx (Mailchimp may have accepted it first), an answer that cannot be read. Mailchimp may
    have acted on it, under an id the caller never learns; a definite refusal (4xx, a 429, a
    connection never made) is raised as itself instead."""

    summary = "Mailchimp may or may not have accepted the request"

    @classmethod
    def after(cls, error: MailchimpError) -> OutcomeUnknown:
        """The unknown outcome of a send that ended with `error`."""
        return cls(
            error.detail or str(error),
            status=error.status,
            title=error.title,
            instance=error.instance,
            type=error.type,
            errors=error.errors,
            method=error.method,
            path=error.path,
        )


class OAuthError(MailchimpError):
    """The OAuth endpoints refused, e.g. ``invalid_grant`` for a used or expired code."""

    summary = "Mailchimp refused the OAuth request"

    @property
    def error(self) -> str:
        """The OAuth ``error`` code, e.g. ``invalid_grant``."""
        return self.title

    @property
    def error_description(self) -> str:
        return self.detail


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
        return Forbidden
    if status == 404:
        return NotFound
    if status == 400:
        cls = _TITLE_CLASSES.get(title.strip().lower())
        lowered = detail.lower()
        if cls is ValidationFailed and (_LOOKS_FAKE in lowered or _TOO_MANY_SIGNUPS in lowered):
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
