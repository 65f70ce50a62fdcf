"""Failed calls are logged at WARNING with what a person needs, and never with secrets."""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable

import pytest

from addon.mailchimp import (
    InvalidCredentials,
    MailchimpClient,
    MailchimpCredentials,
    MailchimpError,
    MailchimpHttp,
    MailchimpOAuth,
    NotFound,
    OAuthError,
    TransientError,
)
from sandboxes.mailchimp.models import SandboxAccount
from sandboxes.mailchimp.sandbox import MailchimpSandbox

CLIENT_SECRET = "client-secret-9f8e7d6c5b4a"


def _secret_forms(secret: str) -> list[str]:
    basic = base64.b64encode(f"anystring:{secret}".encode()).decode()
    return [secret, secret.rpartition("-")[0] or secret, basic]


async def test_failed_call_is_logged_with_method_path_status_title_instance(
    client: MailchimpClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="addon.mailchimp")
    with pytest.raises(NotFound) as info:
        await client.get_list("nope")
    [record] = [r for r in caplog.records if r.name == "addon.mailchimp"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "GET /us21/3.0/lists/nope" in message
    assert "status=404" in message
    assert "Resource Not Found" in message
    assert info.value.instance and info.value.instance in message


async def test_no_key_or_token_in_logs_even_on_errors(
    http: MailchimpHttp,
    sandbox: MailchimpSandbox,
    account: SandboxAccount,
    oauth_code: Callable[[SandboxAccount, str, str], Awaitable[str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # everything, httpx and httpcore included
    secrets = [*_secret_forms(account.api_key), CLIENT_SECRET]
    errors: list[MailchimpError] = []

    async def expect(error: type[MailchimpError], call: Awaitable[object]) -> None:
        with pytest.raises(error) as info:
            await call
        errors.append(info.value)

    client = MailchimpClient(http, MailchimpCredentials.from_api_key(account.api_key))
    sandbox.faults.fail_next(10, 500, account=account.id)
    await expect(TransientError, client.ping())
    sandbox.faults.reset()

    sandbox.register_oauth_client("cid", CLIENT_SECRET, "https://app.test/cb")
    oauth = MailchimpOAuth(http)
    code = await oauth_code(account, "cid", "https://app.test/cb")
    token = await oauth.exchange_code("cid", CLIENT_SECRET, "https://app.test/cb", code)
    token_value = token.access_token.get_secret_value()
    secrets += [token_value, code]
    await expect(OAuthError, oauth.exchange_code("cid", CLIENT_SECRET, "https://app.test/cb", code))
    await expect(OAuthError, oauth.exchange_code("cid", "bad" + CLIENT_SECRET, "x", "y"))

    oauth_client = MailchimpClient(http, MailchimpCredentials.from_oauth_token(token_value, "us21"))
    sandbox.revoke(account)
    await expect(InvalidCredentials, client.ping())
    await expect(InvalidCredentials, oauth_client.account())
    await expect(InvalidCredentials, oauth.metadata(token.access_token))

    assert caplog.records, "expected failures to be logged"
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) >= 9
    text = caplog.text + "".join(
        f"{r.getMessage()}{r.args!r}{r.exc_text or ''}" for r in caplog.records
    )
    text += "".join(f"{e}{e!r}{e.args!r}" for e in errors)
    for secret in secrets:
        assert secret not in text
    assert "Authorization" not in text and "Bearer" not in text and "Basic " not in text
