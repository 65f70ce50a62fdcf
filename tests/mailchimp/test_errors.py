"""Each error class, built from real sandbox responses."""

from __future__ import annotations

from collections.abc import Callable

import pytest

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
from addon.sandbox.mailchimp.models import SandboxAccount


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
