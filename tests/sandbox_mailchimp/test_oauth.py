"""OAuth2: authorize page, code exchange rules, metadata, sign-up."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount

REDIRECT = "https://app.test/oauth/callback"


@pytest.fixture
def oauth_client(sandbox: MailchimpSandbox) -> tuple[str, str]:
    sandbox.register_oauth_client("client-1", "s3cret", REDIRECT)
    return "client-1", "s3cret"


async def authorize(
    raw_client: httpx.AsyncClient, account: SandboxAccount, redirect_uri: str = REDIRECT
) -> str:
    response = await raw_client.post(
        "/oauth2/authorize",
        data={
            "response_type": "code",
            "client_id": "client-1",
            "redirect_uri": redirect_uri,
            "state": "xyz",
            "account_id": account.id,
            "decision": "allow",
        },
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def token_form(code: str, secret: str = "s3cret", redirect_uri: str = REDIRECT) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "client_id": "client-1",
        "client_secret": secret,
        "redirect_uri": redirect_uri,
        "code": code,
    }


async def test_authorize_page_lists_accounts(
    raw_client: httpx.AsyncClient, account: SandboxAccount, oauth_client: tuple[str, str]
) -> None:
    params = {"response_type": "code", "client_id": "client-1", "redirect_uri": REDIRECT}
    page = await raw_client.get("/oauth2/authorize", params=params)
    assert page.status_code == 200
    assert "<title>Login | Mailchimp</title>" in page.text
    assert account.name in page.text and "Allow" in page.text
    assert "http" not in page.text.split("<main>")[0].replace(REDIRECT, "")  # no external assets
    unknown = await raw_client.get("/oauth2/authorize", params={**params, "client_id": "nope"})
    assert unknown.status_code == 400


async def test_full_flow_and_metadata(
    sandbox: MailchimpSandbox,
    raw_client: httpx.AsyncClient,
    account: SandboxAccount,
    oauth_client: tuple[str, str],
) -> None:
    code = await authorize(raw_client, account)
    response = await raw_client.post("/oauth2/token", data=token_form(code))
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] == 0 and body["scope"] is None
    token = body["access_token"]
    meta = await raw_client.get("/oauth2/metadata", headers={"Authorization": f"OAuth {token}"})
    assert meta.status_code == 200
    info = meta.json()
    assert info["dc"] == "us21"
    assert info["accountname"] == "Acme Shop"
    assert info["login"]["login_email"] == "owner@acme.test"
    assert info["api_endpoint"] == "http://mailchimp.test/us21"
    api = await raw_client.get(
        f"{info['api_endpoint']}/3.0/", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.json()["account_id"] == account.id


async def test_code_is_single_use(
    raw_client: httpx.AsyncClient, account: SandboxAccount, oauth_client: tuple[str, str]
) -> None:
    code = await authorize(raw_client, account)
    assert (await raw_client.post("/oauth2/token", data=token_form(code))).status_code == 200
    again = await raw_client.post("/oauth2/token", data=token_form(code))
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


async def test_code_expires(
    sandbox: MailchimpSandbox,
    raw_client: httpx.AsyncClient,
    account: SandboxAccount,
    oauth_client: tuple[str, str],
) -> None:
    code = await authorize(raw_client, account)
    sandbox.clock.advance(sandbox.oauth_code_ttl + 1)
    response = await raw_client.post("/oauth2/token", data=token_form(code))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_redirect_uri_mismatch(
    raw_client: httpx.AsyncClient, account: SandboxAccount, oauth_client: tuple[str, str]
) -> None:
    code = await authorize(raw_client, account)
    response = await raw_client.post(
        "/oauth2/token", data=token_form(code, redirect_uri="https://evil.test/cb")
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "error_description" in response.json()


async def test_bad_client_secret(
    raw_client: httpx.AsyncClient, account: SandboxAccount, oauth_client: tuple[str, str]
) -> None:
    code = await authorize(raw_client, account)
    response = await raw_client.post("/oauth2/token", data=token_form(code, secret="wrong"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_denial(
    raw_client: httpx.AsyncClient, account: SandboxAccount, oauth_client: tuple[str, str]
) -> None:
    response = await raw_client.post(
        "/oauth2/authorize",
        data={
            "response_type": "code",
            "client_id": "client-1",
            "redirect_uri": REDIRECT,
            "state": "s",
            "decision": "deny",
        },
    )
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query == {"error": ["access_denied"], "state": ["s"]}


async def test_metadata_rejects_bad_token(raw_client: httpx.AsyncClient) -> None:
    response = await raw_client.get("/oauth2/metadata", headers={"Authorization": "OAuth nope"})
    assert response.status_code == 401


async def test_signup_then_authorize(
    sandbox: MailchimpSandbox, raw_client: httpx.AsyncClient, oauth_client: tuple[str, str]
) -> None:
    params = {"response_type": "code", "client_id": "client-1", "redirect_uri": REDIRECT}
    form_page = await raw_client.get("/signup/", params=params)
    assert form_page.status_code == 200 and "client-1" in form_page.text
    done = await raw_client.post(
        "/signup/", data={**params, "name": "New Shop", "login_email": "new@shop.test"}
    )
    assert done.status_code == 200
    assert "/oauth2/authorize?" in done.text and "client_id=client-1" in done.text
    assert [a.name for a in sandbox.accounts] == ["New Shop"]


async def test_authorize_needs_response_type_code(
    raw_client: httpx.AsyncClient, oauth_client: tuple[str, str]
) -> None:
    """RFC 6749 §4.1.1: `response_type` is required, and "code" the grant offered."""
    base = {"client_id": "client-1", "redirect_uri": REDIRECT}
    missing = await raw_client.get("/oauth2/authorize", params=base)
    assert missing.status_code == 400 and "Missing response_type" in missing.text
    other = await raw_client.get("/oauth2/authorize", params={**base, "response_type": "token"})
    assert other.status_code == 400 and "Unsupported response_type" in other.text


async def test_metadata_takes_the_token_as_mailchimp_documents_it(
    raw_client: httpx.AsyncClient, sandbox: MailchimpSandbox, account: SandboxAccount
) -> None:
    """`Authorization: OAuth <token>` (Mailchimp's OAuth guide); another scheme is refused."""
    token = sandbox.issue_oauth_token(account)
    ok = await raw_client.get("/oauth2/metadata", headers={"Authorization": f"OAuth {token}"})
    assert ok.status_code == 200
    bearer = await raw_client.get("/oauth2/metadata", headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 401


def test_an_app_is_registered_with_its_redirect_uri(sandbox: MailchimpSandbox) -> None:
    """Mailchimp's "Register An App" form asks for the app's Redirect URI: there is no app
    without one, nor one that is no absolute http(s) URL."""
    with pytest.raises(TypeError):
        sandbox.register_oauth_client("client-2", "s3cret")  # type: ignore[call-arg]
    for wrong in ("", "/oauth/callback", "app.test/oauth/callback", "ftp://app.test/cb"):
        with pytest.raises(ValueError):
            sandbox.register_oauth_client("client-2", "s3cret", wrong)


@pytest.mark.parametrize(
    "other",
    [
        "https://evil.test/oauth/callback",  # another host
        "https://app.test/oauth/callback/",  # a trailing slash
        "https://app.test/oauth/other",  # another path
        "https://app.test/oauth/callback?next=/x",  # a query added
        "http://app.test/oauth/callback",  # another scheme
    ],
)
async def test_authorize_refuses_a_redirect_uri_other_than_the_registered_one(
    raw_client: httpx.AsyncClient,
    account: SandboxAccount,
    oauth_client: tuple[str, str],
    other: str,
) -> None:
    """No code is sent to a URI the app did not register (an open redirector would hand it to
    whoever wrote the link)."""
    params = {"response_type": "code", "client_id": "client-1", "redirect_uri": other}
    page = await raw_client.get("/oauth2/authorize", params=params)
    assert page.status_code == 400 and "Invalid redirect_uri" in page.text
    allow = {**params, "account_id": account.id, "decision": "allow"}
    answer = await raw_client.post("/oauth2/authorize", data=allow)
    assert answer.status_code == 400 and "location" not in answer.headers
