"""Connecting to Mailchimp (API key, OAuth login, OAuth sign-up), checking and resetting."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, text, update

from addon.clock import ManualClock
from addon.connection.models import MailchimpConnection, OAuthState
from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.ecommerce.models import MailchimpStore
from addon.ecommerce.stores_repository import StoreRepository, stable_store_id
from addon.installations.models import Installation
from addon.mailchimp import InvalidCredentials
from addon.services import Services
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.conftest import MAILCHIMP_URL, dashboard_headers, keep_browser_key


@pytest.fixture
def headers(saleor: SaleorSandbox, installed_app: SandboxApp) -> dict[str, str]:
    return dashboard_headers(saleor, installed_app)


@pytest.fixture
def account(mailchimp: MailchimpSandbox) -> SandboxAccount:
    return mailchimp.create_account("Green Grocer", "owner@grocer.example", dc="us21")


async def connect_key(
    client: httpx.AsyncClient, headers: dict[str, str], key: str
) -> httpx.Response:
    return await client.post("/api/connection/api-key", json={"api_key": key}, headers=headers)


async def oauth(
    client: httpx.AsyncClient, headers: dict[str, str], account: SandboxAccount, flow: str = "login"
) -> tuple[httpx.Response, str]:
    """Run the pop-up's journey: start, Mailchimp's authorize page, back to the callback."""
    start = await client.get(
        "/api/connection/oauth/start",
        params={"flow": flow},
        headers={**headers, "accept": "application/json"},
    )
    assert start.status_code == 200, start.text
    keep_browser_key(client, start.json())
    authorize_url = start.json()["authorize_url"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    page = await client.get(authorize_url)
    assert page.status_code == 200 and account.name in page.text
    allowed = await client.post(
        f"{MAILCHIMP_URL}/oauth2/authorize",
        data={**params, "account_id": account.id, "decision": "allow"},
    )
    assert allowed.status_code == 302
    callback = allowed.headers["location"]
    return await client.get(callback), callback


async def connection_row(services: Services) -> MailchimpConnection:
    async with services.db.session() as session:
        return (await session.execute(select(MailchimpConnection))).scalar_one()


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
        ("", "api_key"),
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


# --- OAuth -------------------------------------------------------------------------------


async def test_connect_with_oauth_login(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    services: Services,
) -> None:
    page, callback = await oauth(app_client, headers, account)
    assert page.status_code == 200, page.text
    assert "Mailchimp is connected" in page.text and "Green Grocer" in page.text
    assert '"ok": true' in page.text and "postMessage" in page.text
    row = await connection_row(services)
    assert row.method == "oauth_login" and row.status == "connected"
    token = row.credential.get_secret_value() if row.credential else ""
    assert token and token not in page.text and token not in callback
    status = (await app_client.get("/api/connection", headers=headers)).json()
    assert status["method"] == "oauth_login" and status["account_name"] == "Green Grocer"


async def test_signup_shows_the_steps_then_connects_the_new_account(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    mailchimp: MailchimpSandbox,
    services: Services,
) -> None:
    steps = await app_client.get(
        "/api/connection/oauth/start", params={"flow": "signup"}, headers=headers
    )
    assert steps.status_code == 200
    assert "Create your account" in steps.text and f"{MAILCHIMP_URL}/signup/" in steps.text
    assert "Log in with Mailchimp" in steps.text
    new = mailchimp.create_account("Fresh Start", "new@fresh.example")  # what sign-up creates
    page, _ = await oauth(app_client, headers, new, flow="signup")
    assert page.status_code == 200
    assert (await connection_row(services)).method == "oauth_signup"


@pytest.mark.parametrize(
    ("flow", "minutes", "connects"), [("signup", 90, True), ("login", 11, False)]
)
async def test_a_signup_has_time_to_create_the_account_a_login_ten_minutes(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    mailchimp: MailchimpSandbox,
    clock: ManualClock,
    flow: str,
    minutes: int,
    connects: bool,
) -> None:
    start = await app_client.get(
        "/api/connection/oauth/start",
        params={"flow": flow},
        headers={**headers, "accept": "application/json"},
    )
    keep_browser_key(app_client, start.json())
    clock.advance(minutes * 60)  # the account created meanwhile, its address confirmed
    new = mailchimp.create_account("Fresh Start", "new@fresh.example")
    params = {k: v[0] for k, v in parse_qs(urlsplit(start.json()["authorize_url"]).query).items()}
    allowed = await app_client.post(
        f"{MAILCHIMP_URL}/oauth2/authorize",
        data={**params, "account_id": new.id, "decision": "allow"},
    )
    page = await app_client.get(allowed.headers["location"])
    assert (page.status_code == 200) is connects, page.text
    assert connects or "expired" in page.text


async def test_a_plain_browser_start_is_redirected_to_mailchimp(
    app_client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await app_client.get("/api/connection/oauth/start", headers=headers)
    assert response.status_code == 307
    location = response.headers["location"]
    assert location.startswith(f"{MAILCHIMP_URL}/oauth2/authorize?response_type=code&client_id=")
    query = parse_qs(urlsplit(location).query)
    assert query["redirect_uri"] == ["http://app.test/api/connection/oauth/callback"]
    assert len(query["state"][0]) >= 40


async def test_oauth_start_needs_dashboard_authentication(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/api/connection/oauth/start")
    assert response.status_code == 401


async def test_a_state_that_was_never_issued_is_refused(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    services: Services,
) -> None:
    response = await app_client.get(
        "/api/connection/oauth/callback", params={"state": "forged-state", "code": "abc"}
    )
    assert response.status_code == 400
    assert "does not match a connection started from the dashboard" in response.text
    async with services.db.session() as session:
        assert (await session.execute(select(MailchimpConnection))).first() is None


async def test_a_replayed_state_is_refused(
    app_client: httpx.AsyncClient, headers: dict[str, str], account: SandboxAccount
) -> None:
    page, callback = await oauth(app_client, headers, account)
    assert page.status_code == 200
    replay = await app_client.get(callback)
    assert replay.status_code == 400 and "used already" in replay.text


async def test_an_expired_state_is_refused(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    services: Services,
) -> None:
    start = await app_client.get(
        "/api/connection/oauth/start", headers={**headers, "accept": "application/json"}
    )
    state = parse_qs(urlsplit(start.json()["authorize_url"]).query)["state"][0]
    async with services.db.transaction() as session:
        await session.execute(update(OAuthState).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = await app_client.get(
        "/api/connection/oauth/callback", params={"state": state, "code": "whatever"}
    )
    assert response.status_code == 400 and "expired" in response.text


async def test_a_replayed_code_is_refused_by_mailchimp(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    services: Services,
) -> None:
    _, callback = await oauth(app_client, headers, account)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    start = await app_client.get(
        "/api/connection/oauth/start", headers={**headers, "accept": "application/json"}
    )
    keep_browser_key(app_client, start.json())
    fresh_state = parse_qs(urlsplit(start.json()["authorize_url"]).query)["state"][0]
    response = await app_client.get(
        "/api/connection/oauth/callback", params={"state": fresh_state, "code": code}
    )
    assert response.status_code == 400
    assert "Mailchimp did not complete the sign-in (invalid_grant)" in response.text


async def test_token_endpoint_errors_are_explained(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    mailchimp: MailchimpSandbox,
) -> None:
    mailchimp.register_oauth_client("123456789012", "a-different-secret")  # our secret is now wrong
    page, _ = await oauth(app_client, headers, account)
    assert page.status_code == 400
    assert "Mailchimp did not complete the sign-in (invalid_client)" in page.text


async def test_denying_access_connects_nothing(
    app_client: httpx.AsyncClient, headers: dict[str, str], account: SandboxAccount
) -> None:
    start = await app_client.get(
        "/api/connection/oauth/start", headers={**headers, "accept": "application/json"}
    )
    params = {k: v[0] for k, v in parse_qs(urlsplit(start.json()["authorize_url"]).query).items()}
    denied = await app_client.post(
        f"{MAILCHIMP_URL}/oauth2/authorize", data={**params, "decision": "deny"}
    )
    page = await app_client.get(denied.headers["location"])
    assert page.status_code == 400 and "did not allow access" in page.text


async def test_without_oauth_settings_the_admin_is_told_what_to_configure(
    app_client: httpx.AsyncClient, headers: dict[str, str], services: Services
) -> None:
    object.__setattr__(services.settings, "mailchimp_client_id", None)
    status = (await app_client.get("/api/connection", headers=headers)).json()
    assert status["oauth_available"] is False
    assert "MAILCHIMP_CLIENT_ID" in status["oauth_unavailable_reason"]
    assert "/api/connection/oauth/callback" in status["oauth_unavailable_reason"]
    start = await app_client.get("/api/connection/oauth/start", headers=headers)
    assert start.status_code == 409 and "MAILCHIMP_CLIENT_ID" in start.json()["error"]["message"]


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
