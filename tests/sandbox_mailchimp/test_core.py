"""Authentication, problem+json errors, ping and account info."""

from __future__ import annotations

import re

import httpx

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount

INVALID_DETAIL = "Your API key may be invalid, or you've attempted to access the wrong datacenter."


def assert_problem(response: httpx.Response, status: int, title: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    doc = response.json()
    assert doc["status"] == status
    assert doc["title"] == title
    assert doc["type"].startswith("https://mailchimp.com/developer/")
    assert isinstance(doc["detail"], str) and doc["detail"]
    assert re.fullmatch(r"[0-9a-f-]{36}", doc["instance"])
    return doc


def test_api_key_format(account: SandboxAccount) -> None:
    assert re.fullmatch(r"[0-9a-f]{32}-us21", account.api_key)
    assert account.id


async def test_ping_and_root(client: httpx.AsyncClient, account: SandboxAccount) -> None:
    ping = await client.get("/ping")
    assert ping.status_code == 200
    assert ping.json() == {"health_status": "Everything's Chimpy!"}
    root = (await client.get("/")).json()
    assert root["account_id"] == account.id
    assert root["account_name"] == "Acme Shop"
    assert root["email"] == "owner@acme.test"
    assert root["role"] == "owner"
    for key in ("login_id", "first_name", "last_name", "username", "contact", "pro_enabled"):
        assert key in root
    assert root["total_subscribers"] == 0


async def test_missing_and_wrong_credentials(
    raw_client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    assert_problem(await raw_client.get("/us21/3.0/ping"), 401, "API Key Missing")
    wrong_key = "0" * 32 + "-us21"
    doc = assert_problem(
        await raw_client.get("/us21/3.0/ping", auth=("u", wrong_key)), 401, "API Key Invalid"
    )
    assert doc["detail"] == INVALID_DETAIL


async def test_wrong_datacenter(raw_client: httpx.AsyncClient, account: SandboxAccount) -> None:
    response = await raw_client.get("/us6/3.0/ping", auth=("u", account.api_key))
    assert_problem(response, 401, "API Key Invalid")


async def test_revoked_key_and_account(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    second = sandbox.add_api_key(account)
    sandbox.revoke(account.api_key)
    assert_problem(await client.get("/ping"), 401, "API Key Invalid")
    ok = await client.get("/ping", auth=("u", second))
    assert ok.status_code == 200
    sandbox.revoke(account)
    assert_problem(await client.get("/ping", auth=("u", second)), 401, "API Key Invalid")


async def test_a_disabled_account_refuses_every_call_until_enabled(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    """A disabled account (closed, or suspended) refuses every call whatever its credentials:
    403 UserDisabled, "This account has been disabled." (Mailchimp's error glossary,
    https://mailchimp.com/developer/marketing/docs/errors/)."""
    sandbox.disable(account)
    doc = assert_problem(await client.get("/lists"), 403, "User Disabled")
    assert doc["detail"] == "This account has been disabled."
    assert_problem(
        await client.get("/ping", auth=("u", sandbox.add_api_key(account))), 403, "User Disabled"
    )
    sandbox.disable(account, disabled=False)
    assert (await client.get("/ping")).status_code == 200


async def test_oauth_token_auth(
    sandbox: MailchimpSandbox, raw_client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    token = sandbox.issue_oauth_token(account)
    for scheme in ("Bearer", "OAuth"):
        headers = {"Authorization": f"{scheme} {token}"}
        response = await raw_client.get("/us21/3.0/", headers=headers)
        assert response.status_code == 200
        assert response.json()["account_id"] == account.id
    wrong_dc = await raw_client.get("/us1/3.0/", headers={"Authorization": f"Bearer {token}"})
    assert_problem(wrong_dc, 401, "API Key Invalid")
    sandbox.revoke(token)
    revoked = await raw_client.get("/us21/3.0/", headers={"Authorization": f"Bearer {token}"})
    assert_problem(revoked, 401, "API Key Invalid")


async def test_unknown_path_and_method(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/does-not-exist"), 404, "Resource Not Found")
    assert_problem(await client.delete("/ping"), 405, "Method Not Allowed")


async def test_request_log(sandbox: MailchimpSandbox, client: httpx.AsyncClient) -> None:
    await client.get("/ping", params={"fields": "health_status"})
    entry = sandbox.requests[-1]
    assert (entry.method, entry.path, entry.status, entry.via) == ("GET", "/ping", 200, "http")
    assert entry.query == {"fields": "health_status"}


async def test_accounts_are_isolated(
    sandbox: MailchimpSandbox, raw_client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    other = sandbox.create_account("Other", "other@x.test", dc="us6")
    response = await raw_client.get("/us6/3.0/", auth=("u", other.api_key))
    assert response.json()["account_id"] == other.id
    assert sandbox.account(other.id).dc == "us6"
