"""Connecting to Mailchimp through OAuth: the log-in and sign-up journeys in the pop-up, and the
callbacks refused (a state never issued, replayed or expired, a code replayed, Mailchimp's token
endpoint refusing, access denied), with the admin told what to configure when OAuth is off."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from addon.clock import ManualClock
from addon.connection.models import MailchimpConnection, OAuthState
from addon.connection.service import CALLBACK_PATH
from addon.db.types import utcnow
from addon.services import Services
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from tests.conftest import APP_URL, MAILCHIMP_URL, keep_browser_key
from tests.factories import connection_row, oauth


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
    mailchimp.register_oauth_client(
        "123456789012", "a-different-secret", APP_URL + CALLBACK_PATH
    )  # our secret is now wrong
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
