"""Each error class, built from real sandbox responses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from email.utils import format_datetime

import httpx
import pytest

from addon.clock import ManualClock
from addon.mailchimp import (
    BadRequest,
    Forbidden,
    ForgottenEmailNotSubscribed,
    InvalidCredentials,
    MailchimpClient,
    MailchimpCredentials,
    MailchimpError,
    MailchimpHttp,
    MemberExists,
    MemberInComplianceState,
    NotFound,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from addon.mailchimp.error_responses import RETRY_AFTER_MAX, error_from_response
from sandboxes.mailchimp.models import SandboxAccount


def test_hierarchy() -> None:
    for cls in (InvalidCredentials, Forbidden, NotFound, BadRequest, RateLimited, TransientError):
        assert issubclass(cls, MailchimpError)
    for cls in (
        ValidationFailed,
        MemberExists,
        MemberInComplianceState,
        ForgottenEmailNotSubscribed,
    ):
        assert issubclass(cls, BadRequest)
    assert RateLimited.retryable and TransientError.retryable
    assert not any(
        c.retryable for c in (InvalidCredentials, Forbidden, NotFound, BadRequest, MailchimpError)
    )


async def test_not_found(client: MailchimpClient) -> None:
    with pytest.raises(NotFound) as info:
        await client.get_list("missing")
    error = info.value
    assert (error.status, error.title) == (404, "Resource Not Found")
    assert error.instance
    assert error.type.startswith("https://mailchimp.com/developer/")
    assert str(error) == (
        "Mailchimp could not find the resource (404 Resource Not Found): "
        f"{error.detail.rstrip('.')}. "
        "Request: GET /us21/3.0/lists/missing. "
        f"Mailchimp error id: {error.instance}."
    )


async def test_method_not_allowed_is_a_plain_mailchimp_error(
    client: MailchimpClient, off_contract: Callable[[str], None]
) -> None:
    with pytest.raises(MailchimpError) as info:
        await client.request("DELETE", "/ping")
    off_contract("DELETE /ping")
    assert type(info.value) is MailchimpError
    assert info.value.status == 405
    assert "Method Not Allowed" in str(info.value)


async def test_missing_credentials_are_invalid_credentials(
    http: MailchimpHttp, account: SandboxAccount
) -> None:
    creds = MailchimpCredentials.from_oauth_token("not-a-token", "us21")
    with pytest.raises(InvalidCredentials) as info:
        await MailchimpClient(http, creds).ping()
    assert info.value.status == 401


def _response(status: int, body: object = None, **headers: str) -> httpx.Response:
    request = httpx.Request("GET", "https://us21.api.mailchimp.com/3.0/lists")
    if body is None:
        return httpx.Response(status, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def test_forbidden_with_a_problem_document() -> None:
    """The sandbox has no role/plan restrictions yet, so this maps Mailchimp's documented 403."""
    error = error_from_response(
        _response(
            403,
            {
                "type": "https://mailchimp.com/developer/marketing/docs/errors/",
                "title": "Forbidden",
                "status": 403,
                "detail": "You don't have permission to access this resource.",
                "instance": "abc-123",
            },
        )
    )
    assert type(error) is Forbidden
    assert "role or plan" in str(error)


def test_bodiless_403_and_429_are_rate_limited_and_retry_after_is_read() -> None:
    assert type(error_from_response(_response(403))) is RateLimited
    limited = error_from_response(_response(429, **{"Retry-After": "7"}))
    assert type(limited) is RateLimited and limited.retry_after == 7.0


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("99999999999999999999", RETRY_AFTER_MAX),  # digits, but no wait anyone means
        ("inf", None),  # float() reads these; RFC 9110 allows digits only
        ("nan", None),
        ("-5", None),
        ("1e12", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_is_read_as_rfc_9110_writes_delay_seconds(
    header: str, wait: float | None
) -> None:
    """Before, `float()` read it: `inf` or `1e12` reached the worker, whose retry date then
    overflowed (the job failed without an outcome, its lease lapsing again and again)."""
    assert error_from_response(_response(429, **{"Retry-After": header})).retry_after == wait


def test_a_retry_after_date_counts_from_the_answer_s_date_else_the_clock(
    clock: ManualClock,
) -> None:
    start = clock.now().replace(microsecond=0) + timedelta(hours=1)
    date, later = (
        format_datetime(start, usegmt=True),
        format_datetime(start + timedelta(seconds=90), usegmt=True),
    )
    answered = _response(429, **{"Retry-After": later, "Date": date})
    assert error_from_response(answered).retry_after == 90.0
    clock.set(start + timedelta(seconds=60))  # no Date: this process's clock
    assert error_from_response(_response(429, **{"Retry-After": later})).retry_after == 30.0
    past = _response(429, **{"Retry-After": date, "Date": later})
    assert error_from_response(past).retry_after == 0.0
    for garbled in (
        "Wed, 99 Foo 2026 10:00:00 GMT",
        "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",  # OverflowError in the parser
        "Mon, 01 Jan 2027 00:00:00 +99999999999999999999",
    ):
        refused = error_from_response(_response(429, **{"Retry-After": garbled}))
        assert type(refused) is RateLimited and refused.retry_after is None
    zoneless = format_datetime(start + timedelta(seconds=90)).rsplit(" ", 1)[0]  # read as GMT
    assert error_from_response(_response(429, **{"Retry-After": zoneless})).retry_after == 30.0


def test_error_text_never_contains_a_key() -> None:
    key = "0123456789abcdef0123456789abcdef-us21"
    error = error_from_response(
        _response(400, {"title": "Bad Request", "status": 400, "detail": f"bad key {key}"})
    )
    assert key not in str(error) and key not in repr(error) and key not in error.detail
