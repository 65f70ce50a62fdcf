"""Errors the app's HTTP API reports, in the shape Saleor shows to installers.

Every error answers `{"success": false, "error": {"code": …, "message": …}}` (`ErrorBody`); the
code is one of `ErrorCode`, the message a sentence a store admin understands. Routes declare the
statuses they can answer with `error_responses`, so the OpenAPI document lists them all.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ErrorCode(StrEnum):
    """Every code an error body can carry. Add a member before using a new code."""

    # Generic, one per status
    BAD_REQUEST = "BAD_REQUEST"
    UNAUTHORIZED = "UNAUTHORIZED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    CONFLICT = "CONFLICT"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    INVALID_INPUT = "INVALID_INPUT"
    RATE_LIMITED = "RATE_LIMITED"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"  # an unexpected exception: see addon/app.py
    # Requests from Saleor (register, webhooks)
    MISSING_SALEOR_API_URL = "MISSING_SALEOR_API_URL"
    INVALID_SALEOR_API_URL = "INVALID_SALEOR_API_URL"
    MISSING_HEADERS = "MISSING_HEADERS"
    INVALID_BODY = "INVALID_BODY"
    INVALID_PAYLOAD = "INVALID_PAYLOAD"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    WRONG_EVENT = "WRONG_EVENT"
    INVALID_DELIVERY_KEY = "INVALID_DELIVERY_KEY"
    UNKNOWN_WEBHOOK = "UNKNOWN_WEBHOOK"
    SALEOR_URL_PROHIBITED = "SALEOR_URL_PROHIBITED"
    INVALID_APP_TOKEN = "INVALID_APP_TOKEN"  # noqa: S105 (a code, not a secret)
    ANOTHER_APPS_TOKEN = "ANOTHER_APPS_TOKEN"  # noqa: S105 (a code, not a secret)
    INSTALLED_INACTIVE = "INSTALLED_INACTIVE"
    INSTALLATION_IN_USE = "INSTALLATION_IN_USE"
    SALEOR_UNREACHABLE = "SALEOR_UNREACHABLE"
    SALEOR_UNAVAILABLE = "SALEOR_UNAVAILABLE"
    SALEOR_ERROR = "SALEOR_ERROR"
    JWKS_UNAVAILABLE = "JWKS_UNAVAILABLE"
    # Authentication of dashboard users and storefront customers
    MISSING_AUTHENTICATION = "MISSING_AUTHENTICATION"
    UNKNOWN_INSTALLATION = "UNKNOWN_INSTALLATION"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"  # noqa: S105 (a code, not a secret)
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105 (a code, not a secret)
    MISSING_PERMISSIONS = "MISSING_PERMISSIONS"
    # Connection to Mailchimp
    INVALID_API_KEY_FORMAT = "INVALID_API_KEY_FORMAT"
    MAILCHIMP_NOT_CONNECTED = "MAILCHIMP_NOT_CONNECTED"
    MAILCHIMP_UNHEALTHY = "MAILCHIMP_UNHEALTHY"
    MAILCHIMP_REJECTED_CREDENTIALS = "MAILCHIMP_REJECTED_CREDENTIALS"
    MAILCHIMP_FORBIDDEN = "MAILCHIMP_FORBIDDEN"
    MAILCHIMP_UNAVAILABLE = "MAILCHIMP_UNAVAILABLE"
    OAUTH_NOT_CONFIGURED = "OAUTH_NOT_CONFIGURED"
    OAUTH_STATE_MISMATCH = "OAUTH_STATE_MISMATCH"
    OAUTH_STATE_EXPIRED = "OAUTH_STATE_EXPIRED"
    OAUTH_STATE_REPLAYED = "OAUTH_STATE_REPLAYED"
    OAUTH_OTHER_BROWSER = "OAUTH_OTHER_BROWSER"
    OAUTH_EXCHANGE_FAILED = "OAUTH_EXCHANGE_FAILED"
    OAUTH_ATTEMPT_NOT_FOUND = "OAUTH_ATTEMPT_NOT_FOUND"
    OAUTH_ABANDONED = "OAUTH_ABANDONED"
    OAUTH_DENIED = "OAUTH_DENIED"
    OAUTH_ERROR = "OAUTH_ERROR"
    OAUTH_INCOMPLETE = "OAUTH_INCOMPLETE"
    # Another account while erasures or unsubscribes wait for the connected one
    OWED_TO_PREVIOUS_ACCOUNT = "OWED_TO_PREVIOUS_ACCOUNT"
    # Audiences, subscriptions, the storefront
    UNKNOWN_AUDIENCE = "UNKNOWN_AUDIENCE"
    INVALID_DEFAULT_AUDIENCE = "INVALID_DEFAULT_AUDIENCE"
    INVALID_GROUPS = "INVALID_GROUPS"
    NO_GROUPS = "NO_GROUPS"
    UNKNOWN_CUSTOMER = "UNKNOWN_CUSTOMER"
    INVALID_EMAIL = "INVALID_EMAIL"
    CONSENT_REQUIRED = "CONSENT_REQUIRED"
    UNKNOWN_STORE = "UNKNOWN_STORE"
    ORIGIN_NOT_ALLOWED = "ORIGIN_NOT_ALLOWED"
    NEWSLETTER_UNAVAILABLE = "NEWSLETTER_UNAVAILABLE"
    INVALID_MAPPING = "INVALID_MAPPING"
    MERGE_FIELD_REFUSED = "MERGE_FIELD_REFUSED"
    # Activity, e-commerce, initial sync
    NOT_QUARANTINED = "NOT_QUARANTINED"
    UNKNOWN_CHANNEL = "UNKNOWN_CHANNEL"
    UNKNOWN_RECORD = "UNKNOWN_RECORD"
    AUDIENCE_REQUIRED = "AUDIENCE_REQUIRED"
    CURRENCY_NOT_ACCEPTED = "CURRENCY_NOT_ACCEPTED"
    CHANNEL_NOT_TRACKED = "CHANNEL_NOT_TRACKED"
    TRACKING_OFF = "TRACKING_OFF"
    INITIAL_SYNC_RUNNING = "INITIAL_SYNC_RUNNING"
    NO_INITIAL_SYNC = "NO_INITIAL_SYNC"
    STORE_MISSING = "STORE_MISSING"
    STORE_NOT_MISSING = "STORE_NOT_MISSING"
    CHANNEL_MISSING = "CHANNEL_MISSING"
    CHANNEL_NOT_RENAMED = "CHANNEL_NOT_RENAMED"
    RESTORE_LINK_INVALID = "RESTORE_LINK_INVALID"
    RESTORE_LINK_EXPIRED = "RESTORE_LINK_EXPIRED"
    CART_GONE = "CART_GONE"
    RESTORE_IN_PROGRESS = "RESTORE_IN_PROGRESS"
    NO_SITE_SCRIPT = "NO_SITE_SCRIPT"
    SITE_SCRIPT_NOT_FOUND = "SITE_SCRIPT_NOT_FOUND"


class ErrorDetail(BaseModel):
    model_config = ConfigDict(title="ErrorDetail")

    code: ErrorCode = Field(description="What went wrong, for programs.")
    message: str = Field(description="What went wrong and what to do, for people.")


class ErrorBody(BaseModel):
    """The body of every error answer."""

    model_config = ConfigDict(title="ErrorBody")

    success: Literal[False] = False
    error: ErrorDetail


def error_body(code: ErrorCode, message: str) -> dict[str, Any]:
    return ErrorBody(error=ErrorDetail(code=code, message=message)).model_dump(mode="json")


# What each error status means in this API, for the OpenAPI document.
ERROR_STATUSES: dict[int, str] = {
    400: "The request is malformed or names something the app cannot use.",
    401: "Authentication is missing, expired or invalid.",
    403: "The user lacks a permission, or the Saleor is not allowed.",
    404: "Nothing of that kind exists (or it is not yours).",
    409: "The request conflicts with the current state.",
    410: "Gone for good: whatever sent it should stop (Mailchimp disables a webhook answered 410).",
    413: "The request body is larger than the app accepts (MAX_REQUEST_BODY_BYTES; the "
    "storefront API's: MAX_STOREFRONT_BODY_BYTES).",
    422: "A parameter or the body does not match the schema.",
    429: "Too many requests; try again later.",
    500: "The app failed unexpectedly; the message names the request id (also answered in "
    "X-Request-ID) under which the app's log holds the failure.",
    502: "Saleor or Mailchimp did not answer as expected.",
}


def unexpected_problem(request_id: str) -> str:
    """The message of an `INTERNAL_ERROR`: nothing of the exception (it may hold a query, a URL,
    a secret), the request id the operator finds its traceback by."""
    return (
        "The app ran into an unexpected problem and did not finish this request. Try again; if "
        f"it keeps happening, give the app's operator this request id: {request_id}."
    )


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: each status answers an `ErrorBody`."""
    return {
        status: {"model": ErrorBody, "description": ERROR_STATUSES[status]} for status in statuses
    }


class AppError(Exception):
    status_code: int = 400
    code: ErrorCode = ErrorCode.BAD_REQUEST

    def __init__(
        self, message: str, *, code: ErrorCode | None = None, status_code: int | None = None
    ):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code

    @property
    def headers(self) -> dict[str, str]:
        """Headers the answer carries (a 429's `Retry-After`); none by default."""
        return {}


class BadRequest(AppError):
    status_code = 400
    code = ErrorCode.BAD_REQUEST


class Unauthorized(AppError):
    status_code = 401
    code = ErrorCode.UNAUTHORIZED


class Forbidden(AppError):
    status_code = 403
    code = ErrorCode.FORBIDDEN


class NotFound(AppError):
    status_code = 404
    code = ErrorCode.NOT_FOUND


class Conflict(AppError):
    status_code = 409
    code = ErrorCode.CONFLICT


class Gone(AppError):
    status_code = 410
    code = ErrorCode.NOT_FOUND


class Unprocessable(AppError):
    """Well-formed, but what it names cannot be used (e.g. an account's e-mail address)."""

    status_code = 422
    code = ErrorCode.INVALID_INPUT


class RateLimited(AppError):
    status_code = 429
    code = ErrorCode.RATE_LIMITED


class UpstreamUnavailable(AppError):
    status_code = 502
    code = ErrorCode.UPSTREAM_UNAVAILABLE
