"""Mailchimp-style errors: ``application/problem+json`` documents worded like the real API.

Handlers raise :class:`MailchimpError`; the HTTP layer and the batch runner turn it into the
same problem document, so a rule broken in a batch operation reads exactly like a direct call.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

ERROR_DOC_URL = "https://mailchimp.com/developer/marketing/docs/errors/"
PROBLEM_JSON = "application/problem+json"
VALIDATION_DETAIL = (
    "The resource submitted could not be validated. "
    "For field-specific details, see the 'errors' array."
)


class FieldError(BaseModel):
    """One entry of a validation error's ``errors`` array."""

    field: str
    message: str


class MailchimpError(Exception):
    """An API error; rendered as a problem+json document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": ERROR_DOC_URL,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": str(uuid.uuid4()),
        }
        if self.errors is not None:
            doc["errors"] = [e.model_dump() for e in self.errors]
        return doc

    def response(self) -> Response:
        return problem_response(self.document(), headers=self.headers)


def problem_response(doc: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        doc, status_code=int(doc["status"]), media_type=PROBLEM_JSON, headers=headers
    )


# --- Constructors for the errors Mailchimp actually returns --------------------------------


def api_key_missing() -> MailchimpError:
    return MailchimpError(401, "API Key Missing", "Your request did not include an API key.")


def api_key_invalid() -> MailchimpError:
    return MailchimpError(
        401,
        "API Key Invalid",
        "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
    )


def user_disabled() -> MailchimpError:
    """Every call of a disabled (closed or suspended) account: Mailchimp's error glossary
    (mailchimp.com/developer/marketing/docs/errors/), 403 UserDisabled, "This account has been
    disabled."."""
    return MailchimpError(403, "User Disabled", "This account has been disabled.")


def forbidden(detail: str = "You don't have permission to access this resource.") -> MailchimpError:
    return MailchimpError(403, "Forbidden", detail)


def not_found(detail: str = "The requested resource could not be found.") -> MailchimpError:
    return MailchimpError(404, "Resource Not Found", detail)


def method_not_allowed() -> MailchimpError:
    return MailchimpError(
        405, "Method Not Allowed", "The requested method and resource are not compatible."
    )


def invalid_resource(
    detail: str = VALIDATION_DETAIL, errors: list[FieldError] | None = None
) -> MailchimpError:
    return MailchimpError(400, "Invalid Resource", detail, errors)


def field_invalid(field: str, message: str) -> MailchimpError:
    return invalid_resource(errors=[FieldError(field=field, message=message)])


def bad_request(detail: str) -> MailchimpError:
    return MailchimpError(400, "Bad Request", detail)


def json_parse_error() -> MailchimpError:
    return MailchimpError(
        400,
        "JSON Parse Error",
        "We encountered an unspecified JSON parsing error.",
    )


def too_many_requests(detail: str) -> MailchimpError:
    return MailchimpError(429, "Too Many Requests", detail)


def too_many_connections() -> MailchimpError:
    return too_many_requests("You have exceeded the limit of 10 simultaneous connections.")


def internal_error() -> MailchimpError:
    return MailchimpError(
        500,
        "Internal Server Error",
        "An unexpected internal error has occurred. Please contact Support for more information.",
    )


def service_unavailable() -> MailchimpError:
    return MailchimpError(
        503,
        "Service Unavailable",
        "This service is temporarily unavailable. Please try again later.",
    )


def member_exists(email: str) -> MailchimpError:
    return MailchimpError(
        400,
        "Member Exists",
        f"{email} is already a list member. Use PUT to insert or update list members.",
    )


def member_in_compliance_state(email: str) -> MailchimpError:
    # Mailchimp's own words, as quoted in ibericode/mailchimp-for-wordpress#798 and
    # tbar0970/jethro-pmm#656: "… is in a compliance state due to unsubscribe, bounce, or
    # compliance review and cannot be subscribed." (no "already a list member": a client telling
    # errors apart by that phrase must not take it for Member Exists).
    return MailchimpError(
        400,
        "Member In Compliance State",
        f"{email} is in a compliance state due to unsubscribe, bounce, or compliance review "
        "and cannot be subscribed.",
    )


def looks_fake(email: str) -> MailchimpError:
    """Quoted in verbb/formie#2276 and JustFixNYC/tenants2#1554: a detail, no field error."""
    return invalid_resource(f"{email} looks fake or invalid, please enter a real email address.")


def too_many_signups(email: str) -> MailchimpError:
    """Quoted in verbb/formie#2276 (Mailchimp's guard against signup abuse)."""
    return invalid_resource(
        f"{email} has signed up to a lot of lists very recently; we're not allowing more "
        "signups for now"
    )


def forgotten_email(email: str) -> MailchimpError:
    return MailchimpError(
        400,
        "Forgotten Email Not Subscribed",
        f"{email} was permanently deleted and cannot be re-imported. "
        "The contact must re-subscribe to get back on the list.",
    )
