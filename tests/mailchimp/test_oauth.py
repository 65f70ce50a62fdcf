"""The OAuth 2 flow against the sandbox's login host."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from addon.mailchimp import (
    DEFAULT_SIGNUP_URL,
    InvalidCredentials,
    MailchimpClient,
    MailchimpHttp,
    MailchimpOAuth,
    OAuthError,
    OutcomeUnknown,
)
from sandboxes.mailchimp.models import SandboxAccount
from sandboxes.mailchimp.sandbox import MailchimpSandbox
from tests.mailchimp.conftest import MakeHttp
from tests.mailchimp.conftest import RecordingTransport as Recorder

CLIENT_ID = "app-client-1"
CLIENT_SECRET = "s3cr3t-client-secret-value"
REDIRECT = "https://app.test/oauth/callback"

Approve = Callable[[SandboxAccount, str, str], Awaitable[str]]


@pytest.fixture
def oauth(http: MailchimpHttp, sandbox: MailchimpSandbox) -> MailchimpOAuth:
    sandbox.register_oauth_client(CLIENT_ID, CLIENT_SECRET, REDIRECT)
    return MailchimpOAuth(http)


def test_authorize_url(oauth: MailchimpOAuth) -> None:
    url = httpx.URL(oauth.authorize_url(CLIENT_ID, REDIRECT, "xyz 1"))
    assert str(url).startswith("http://mailchimp.test/oauth2/authorize?")
    assert dict(url.params) == {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "state": "xyz 1",
    }
    assert oauth.signup_url == DEFAULT_SIGNUP_URL == "https://login.mailchimp.com/signup/"
    assert (
        MailchimpOAuth(oauth.http, signup_url="http://x/signup/").signup_url == "http://x/signup/"
    )


async def test_authorize_page_accepts_the_url(
    oauth: MailchimpOAuth, network: httpx.AsyncBaseTransport
) -> None:
    async with httpx.AsyncClient(transport=network) as browser:
        page = await browser.get(oauth.authorize_url(CLIENT_ID, REDIRECT, "s"))
    assert page.status_code == 200
    assert "authorize" in page.text.lower()


async def test_exchange_code_then_metadata_then_api(
    oauth: MailchimpOAuth, account: SandboxAccount, oauth_code: Approve, http: MailchimpHttp
) -> None:
    code = await oauth_code(account, CLIENT_ID, REDIRECT)
    token = await oauth.exchange_code(CLIENT_ID, CLIENT_SECRET, REDIRECT, code)
    secret = token.access_token.get_secret_value()
    assert secret and secret not in repr(token)
    assert token.expires_in == 0

    meta = await oauth.metadata(token.access_token)
    assert meta.dc == "us21"
    assert meta.accountname == "Chimp Shop"
    assert meta.login.email == "owner@chimp.test"
    assert meta.api_endpoint == "http://mailchimp.test/us21"
    assert meta.role == "owner"

    client = MailchimpClient(http, meta.credentials(token.access_token))
    assert client.credentials.authorization == f"Bearer {secret}"
    assert (await client.account()).account_id == account.id


async def test_replayed_code_is_rejected(
    oauth: MailchimpOAuth, account: SandboxAccount, oauth_code: Approve
) -> None:
    code = await oauth_code(account, CLIENT_ID, REDIRECT)
    await oauth.exchange_code(CLIENT_ID, CLIENT_SECRET, REDIRECT, code)
    with pytest.raises(OAuthError) as info:
        await oauth.exchange_code(CLIENT_ID, CLIENT_SECRET, REDIRECT, code)
    assert info.value.error == "invalid_grant"
    assert info.value.error_description == "Invalid authorization code."
    assert info.value.status == 400
    assert code not in str(info.value)


async def test_bad_client_secret_is_rejected(
    oauth: MailchimpOAuth, account: SandboxAccount, oauth_code: Approve, recorder: Recorder
) -> None:
    code = await oauth_code(account, CLIENT_ID, REDIRECT)
    with pytest.raises(OAuthError) as info:
        await oauth.exchange_code(CLIENT_ID, "wrong-secret", REDIRECT, code)
    assert info.value.error == "invalid_client"
    assert not isinstance(info.value, InvalidCredentials)
    assert "wrong-secret" not in str(info.value)
    # A rejected exchange is not retried.
    assert recorder.to("/oauth2/token") == [("POST", "/oauth2/token", 401)]


async def test_wrong_redirect_uri_is_rejected(
    oauth: MailchimpOAuth, account: SandboxAccount, oauth_code: Approve
) -> None:
    code = await oauth_code(account, CLIENT_ID, REDIRECT)
    with pytest.raises(OAuthError, match="invalid_grant"):
        await oauth.exchange_code(CLIENT_ID, CLIENT_SECRET, "https://evil.test/cb", code)


async def test_metadata_with_revoked_token_is_invalid_credentials(
    oauth: MailchimpOAuth,
    account: SandboxAccount,
    oauth_code: Approve,
    sandbox: MailchimpSandbox,
    http: MailchimpHttp,
) -> None:
    code = await oauth_code(account, CLIENT_ID, REDIRECT)
    token = await oauth.exchange_code(CLIENT_ID, CLIENT_SECRET, REDIRECT, code)
    meta = await oauth.metadata(token.access_token)
    client = MailchimpClient(http, meta.credentials(token.access_token))
    await client.ping()

    sandbox.revoke(token.access_token.get_secret_value())
    with pytest.raises(InvalidCredentials) as info:
        await oauth.metadata(token.access_token)
    assert info.value.title == "invalid_token"
    with pytest.raises(InvalidCredentials):
        await client.ping()


class AnswerLost(httpx.AsyncBaseTransport):
    """Delivers each request, then loses Mailchimp's answer (a read timeout)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.calls = inner, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        await self.inner.handle_async_request(request)
        raise httpx.ReadTimeout("simulated", request=request)


async def test_a_code_whose_answer_was_lost_is_not_sent_again(
    sandbox: MailchimpSandbox,
    account: SandboxAccount,
    oauth_code: Approve,
    make_http: MakeHttp,
    transport: httpx.AsyncBaseTransport,
) -> None:
    """Mailchimp may have redeemed the code: sent again it only earns `invalid_grant`."""
    sandbox.register_oauth_client(CLIENT_ID, CLIENT_SECRET, REDIRECT)
    lossy = AnswerLost(transport)
    oauth = MailchimpOAuth(make_http(transport=lossy))
    code = await oauth_code(account, CLIENT_ID, REDIRECT)
    with pytest.raises(OutcomeUnknown):
        await oauth.exchange_code(CLIENT_ID, CLIENT_SECRET, REDIRECT, code)
    assert lossy.calls == 1
