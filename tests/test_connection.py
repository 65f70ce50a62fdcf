"""Connecting to Mailchimp with an API key, checking and resetting the connection (a revoked key
or token noticed, the same account resumed, another started clean), and no secret in the logs
or the database. Connecting through OAuth (log-in, sign-up): tests/test_connection_oauth.py."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from addon.connection.models import MailchimpConnection
from addon.connection.service import NotConnected, mailchimp_for
from addon.ecommerce.models import MailchimpStore
from addon.ecommerce.stores_repository import StoreRepository, stable_store_id
from addon.installations.models import Installation
from addon.mailchimp import InvalidCredentials
from addon.services import Services
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from tests.factories import connection_row, oauth


async def connect_key(
    client: httpx.AsyncClient, headers: dict[str, str], key: str
) -> httpx.Response:
    return await client.post("/api/connection/api-key", json={"api_key": key}, headers=headers)


# --- API key -----------------------------------------------------------------------------


async def test_connect_with_an_api_key(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    services: Services,
) -> None:
    response = await connect_key(app_client, headers, f"  {account.api_key}\n")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["continuity"] == "new"
    connection = body["connection"]
    assert connection["status"] == "connected" and connection["method"] == "api_key"
    assert connection["account_name"] == "Green Grocer"
    assert connection["login_email"] == "owner@grocer.example"
    assert connection["role"] == "owner" and connection["dc"] == "us21"
    assert account.api_key not in response.text
    status = await app_client.get("/api/connection", headers=headers)
    assert status.json()["status"] == "connected" and account.api_key not in status.text


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("", "API key"),
        ("0123456789abcdef0123456789abcdef", "data cent"),
        ("0123456789abcdef0123456789abcdef-", "data cent"),
        ("0123456789abcdef-us21", "32"),
        ("0123456789ABCDEF0123456789ABCDEF-us21", "lowercase"),
        ("0123456789abcdef0123456789abcdeg-us21", "hex"),
        ("0123456789abcdef0123456789abcdef-21us", "data cent"),
    ],
)
async def test_a_malformed_key_gets_a_clear_message(
    app_client: httpx.AsyncClient, headers: dict[str, str], key: str, fragment: str
) -> None:
    response = await connect_key(app_client, headers, key)
    assert 400 <= response.status_code < 500
    error = response.json()["error"]
    assert fragment.lower() in error["message"].lower(), error
    assert "Traceback" not in error["message"]


async def test_a_wrong_key_is_refused_and_nothing_is_stored(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    services: Services,
) -> None:
    wrong = "f" * 32 + "-us21"
    response = await connect_key(app_client, headers, wrong)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MAILCHIMP_REJECTED_CREDENTIALS"
    assert "API keys" in response.json()["error"]["message"]
    async with services.db.session() as session:
        assert (await session.execute(select(MailchimpConnection))).first() is None


async def test_a_key_for_another_data_centre_is_refused(
    app_client: httpx.AsyncClient, headers: dict[str, str], account: SandboxAccount
) -> None:
    other_dc = account.api_key.rsplit("-", 1)[0] + "-us5"
    response = await connect_key(app_client, headers, other_dc)
    assert response.json()["error"]["code"] == "MAILCHIMP_REJECTED_CREDENTIALS"


# --- check, revoke, reset ----------------------------------------------------------------


async def test_check_reports_chimpy_and_the_account(
    app_client: httpx.AsyncClient, headers: dict[str, str], account: SandboxAccount
) -> None:
    await connect_key(app_client, headers, account.api_key)
    check = await app_client.post("/api/connection/check", headers=headers)
    assert check.status_code == 200
    body = check.json()
    assert body["ok"] is True and body["health_status"] == "Everything's Chimpy!"
    assert body["connection"]["account_name"] == "Green Grocer" and body["checked_at"]


async def test_a_401_after_connecting_marks_the_connection_revoked(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    mailchimp: MailchimpSandbox,
    services: Services,
) -> None:
    await connect_key(app_client, headers, account.api_key)
    mailchimp.revoke(account)
    check = (await app_client.post("/api/connection/check", headers=headers)).json()
    assert check["ok"] is False
    assert check["connection"]["status"] == "revoked"
    assert "Reconnect" in check["message"]


async def test_a_401_during_background_work_marks_the_connection_revoked(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    mailchimp: MailchimpSandbox,
    services: Services,
) -> None:
    await connect_key(app_client, headers, account.api_key)
    row = await connection_row(services)
    async with mailchimp_for(services, row.installation_id) as client:
        assert (await client.ping()).health_status == "Everything's Chimpy!"
    mailchimp.revoke(account)
    with pytest.raises(InvalidCredentials):
        async with mailchimp_for(services, row.installation_id) as client:
            await client.ping()
    assert (await connection_row(services)).status == "revoked"
    with pytest.raises(NotConnected):
        async with mailchimp_for(services, row.installation_id):
            pass


async def test_a_401_for_a_key_replaced_meanwhile_leaves_the_new_key_connected(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    mailchimp: MailchimpSandbox,
    services: Services,
) -> None:
    await connect_key(app_client, headers, account.api_key)
    row = await connection_row(services)
    other = mailchimp.create_account("Other Grocer", "owner@other.example", dc="us21")
    mailchimp.revoke(account)
    with pytest.raises(InvalidCredentials):
        async with mailchimp_for(services, row.installation_id) as client:
            # While the old key's call is out, the admin connects another key.
            await connect_key(app_client, headers, other.api_key)
            await client.ping()
    assert (await connection_row(services)).status == "connected"


async def _add_store(services: Services, channel: str) -> str:
    async with services.db.transaction() as session:
        installation = (await session.execute(select(Installation))).scalar_one()
        store_id = stable_store_id(installation.saleor_api_url, channel)
        await StoreRepository(session).add(
            MailchimpStore(
                installation_id=installation.id,
                channel_slug=channel,
                store_id=store_id,
                list_id="abc123",
                currency_code="USD",
            )
        )
        return store_id


async def _store_ids(services: Services) -> list[str]:
    async with services.db.session() as session:
        return list((await session.execute(select(MailchimpStore.store_id))).scalars())


async def test_reset_then_reconnect_to_the_same_account_keeps_the_store_ids(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    services: Services,
) -> None:
    await connect_key(app_client, headers, account.api_key)
    store_id = await _add_store(services, "default-channel")
    reset = await app_client.post("/api/connection/reset", json={}, headers=headers)
    assert reset.status_code == 200
    assert (
        "kept" in reset.json()["message"]
        and "Nothing was deleted in Mailchimp" in reset.json()["message"]
    )
    assert reset.json()["connection"]["status"] == "disconnected"
    assert (await connection_row(services)).credential is None
    assert await _store_ids(services) == [store_id]
    # The same account, this time through OAuth: it resumes.
    page, _ = await oauth(app_client, headers, account)
    assert "were kept" in page.text
    assert await _store_ids(services) == [store_id]


async def test_connecting_another_account_starts_it_clean(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    mailchimp: MailchimpSandbox,
    services: Services,
) -> None:
    await connect_key(app_client, headers, account.api_key)
    await _add_store(services, "default-channel")
    await app_client.post("/api/connection/reset", json={}, headers=headers)
    other = mailchimp.create_account("Other Shop", "boss@other.example", dc="us5")
    response = await connect_key(app_client, headers, other.api_key)
    assert response.json()["continuity"] == "started_clean"
    assert "starts clean" in response.json()["message"]
    assert await _store_ids(services) == []
    assert len(mailchimp.accounts) == 2  # nothing deleted remotely


async def test_reset_can_forget_the_account_data_too(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    services: Services,
) -> None:
    await connect_key(app_client, headers, account.api_key)
    await _add_store(services, "default-channel")
    reset = await app_client.post(
        "/api/connection/reset", json={"forget_account_data": True}, headers=headers
    )
    assert reset.status_code == 200 and await _store_ids(services) == []
    again = await connect_key(app_client, headers, account.api_key)
    assert again.json()["continuity"] == "new"


async def test_reset_and_check_when_not_connected_explain_themselves(
    app_client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    for path in ("/api/connection/reset", "/api/connection/check"):
        response = await app_client.post(path, json={}, headers=headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "MAILCHIMP_NOT_CONNECTED"


async def test_no_key_or_token_in_logs_or_in_the_database(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    mailchimp: MailchimpSandbox,
    services: Services,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await connect_key(app_client, headers, account.api_key)
    mailchimp.revoke(account.api_key)
    await app_client.post("/api/connection/check", headers=headers)
    await app_client.post("/api/connection/reset", json={}, headers=headers)
    _, _ = await oauth(app_client, headers, account)
    token = (await connection_row(services)).credential
    assert token is not None
    secrets = [account.api_key, account.api_key.split("-")[0], token.get_secret_value()]
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in secrets:
        assert secret not in logged
    if services.db.is_sqlite:
        path = Path(services.db.engine.url.database or "")
        stored = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert b"Green Grocer" in stored
        for secret in secrets:
            assert secret.encode() not in stored
    else:
        async with services.db.session() as session:
            rows = await session.execute(
                text("SELECT row_to_json(c)::text FROM mailchimp_connections c")
            )
            dumped = " ".join(r[0] for r in rows)
        assert "Green Grocer" in dumped
        assert not any(secret in dumped for secret in secrets)
    assert re.search(r"connected to Mailchimp account", caplog.text)
