"""One exception hierarchy for everything that can go wrong talking to Mailchimp.

Mailchimp reports errors as ``application/problem+json`` documents::

    {"type": "...", "title": "Member Exists", "status": 400,
     "detail": "a@example.com is already a list member.", "instance": "995c5cb0-...",
     "errors": [{"field": "email_address", "message": "..."}]}

:func:`~addon.mailchimp.error_responses.error_from_response` turns such a response (or a
bodiless one, or an HTML page from a proxy) into the most specific class below. The OAuth
endpoints on the login host answer with ``{"error": ..., "error_description": ...}`` instead;
those become :class:`OAuthError`.

::

    MailchimpError
    ├── InvalidCredentials        401: the API key is wrong or the OAuth connection was revoked
    ├── Forbidden                 403: the user's role or plan does not allow the call
    │   └── AccountDisabled       403 "User Disabled": the account is disabled (closed,
    │                             suspended); every call is refused
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
    ├── ResultsUnavailable        a finished batch's results archive is gone from the storage
    │                             host (its signed URL expired, the results deleted): 403/404
    ├── OutcomeUnknown            a request never sent twice (``POST /batches``) failed after it
    │                             may have reached Mailchimp: whether Mailchimp acted is unknown
    └── OAuthError                the OAuth token endpoint refused (``error``/``error_description``)

    InvalidApiKeyFormat(ValueError)   a pasted API key does not look like one
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from addon.redaction import redact

__all__ = [
    "AccountDisabled",
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
    "ResultsUnavailable",
    "TransientError",
    "Unreachable",
    "ValidationFailed",
    "redact",
]


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

    def conceal(self, secret: str) -> None:
        """Cut `secret`, which the request carried (a webhook URL's last segment), out of what
        Mailchimp answered: its messages may quote the request."""
        if not secret:
            return
        self.title = self.title.replace(secret, "[redacted]")
        self.detail = self.detail.replace(secret, "[redacted]")
        self.errors = tuple(
            FieldError(e.field, e.message.replace(secret, "[redacted]")) for e in self.errors
        )
        self.args = (str(self),)

    @classmethod
    def after(cls, error: MailchimpError) -> Self:
        """This class's error for a call that ended with `error` (an `OutcomeUnknown` for a
        send that may have acted), keeping what Mailchimp answered."""
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


class AccountDisabled(Forbidden):
    """403 titled "User Disabled" (Mailchimp's error glossary, UserDisabled: "This account has
    been disabled."): not this call's role or plan but the whole account, closed or suspended;
    every call is refused until Mailchimp enables it again."""

    summary = "Mailchimp refused the call: this account has been disabled"


# The title of Mailchimp's 403 for a disabled account (https://mailchimp.com/developer/
# marketing/docs/errors/).
USER_DISABLED = "user disabled"


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
        return TOO_MANY_SIGNUPS in self.detail.lower()


# What Mailchimp's refusals of an address say (their title is "Invalid Resource", as for any
# invalid body, so the detail tells them apart).
LOOKS_FAKE = "looks fake or invalid"
TOO_MANY_SIGNUPS = "signed up to a lot of lists very recently"


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


class ResultsUnavailable(MailchimpError):
    """A finished batch's results archive (``response_body_url``) could not be downloaded: the
    storage host answered 403 (the pre-signed URL expired) or 404 (Mailchimp deleted old
    results), even after the batch was asked for again. Not the account's role or plan: the
    batch ran, but what each operation did will not be known."""

    summary = "Mailchimp no longer has the batch's results (link expired, or deleted)"


class OutcomeUnknown(MailchimpError):
    """A request that is never sent twice (``POST /batches``: each send creates a batch; a
    merge field's or a webhook's create, whose second send makes a twin or is refused) failed
    after it may have reached Mailchimp: a timeout or a dropped connection once it was sent, a
    5xx (Mailchimp may have accepted it first), an answer that cannot be read. Mailchimp may
    have acted on it, under an id the caller never learns; a definite refusal (4xx, a 429, a
    connection never made) is raised as itself instead."""

    summary = "Mailchimp may or may not have accepted the request"


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
