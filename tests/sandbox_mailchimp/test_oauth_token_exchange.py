"""The token endpoint's refusals beyond those of test_oauth.py: a code redeemed twice also
loses the token it was exchanged for (RFC 6749 §4.1.2), and a client secret with characters
beyond ASCII is refused as any wrong secret is, not answered with a 500."""

from __future__ import annotations

import httpx

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from tests.sandbox_mailchimp.test_oauth import authorize, oauth_client, token_form

__all__ = ["oauth_client"]  # the fixture, used by name


async def test_a_code_redeemed_twice_revokes_the_token_it_gave(
    raw_client: httpx.AsyncClient, account: SandboxAccount, oauth_client: tuple[str, str]
) -> None:
    code = await authorize(raw_client, account)
    token = (await raw_client.post("/oauth2/token", data=token_form(code))).json()["access_token"]
    again = await raw_client.post("/oauth2/token", data=token_form(code))
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    meta = await raw_client.get("/oauth2/metadata", headers={"Authorization": f"OAuth {token}"})
    assert meta.status_code == 401
    api = await raw_client.get("/us21/3.0/", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401 and api.json()["title"] == "API Key Invalid"


async def test_a_code_refused_before_it_was_redeemed_revokes_nothing(
    sandbox: MailchimpSandbox,
    raw_client: httpx.AsyncClient,
    account: SandboxAccount,
    oauth_client: tuple[str, str],
) -> None:
    """Only a token given for the code is revoked: others of the account stay usable."""
    other = sandbox.issue_oauth_token(account)
    code = await authorize(raw_client, account)
    wrong = await raw_client.post("/oauth2/token", data=token_form(code, redirect_uri="x:/"))
    assert wrong.status_code == 400
    assert (await raw_client.post("/oauth2/token", data=token_form(code))).status_code == 400
    meta = await raw_client.get("/oauth2/metadata", headers={"Authorization": f"OAuth {other}"})
    assert meta.status_code == 200


async def test_a_secret_beyond_ascii_is_an_invalid_client(
    raw_client: httpx.AsyncClient, account: SandboxAccount, oauth_client: tuple[str, str]
) -> None:
    code = await authorize(raw_client, account)
    response = await raw_client.post("/oauth2/token", data=token_form(code, secret="s3crét"))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    # The code was not redeemed: the right secret still exchanges it.
    assert (await raw_client.post("/oauth2/token", data=token_form(code))).status_code == 200
