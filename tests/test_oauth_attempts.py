"""OAuth log-in attempts: the Connection page learns allowed, denied, error, abandoned or
expired by polling the attempt the start returned (issue 13, problem 1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import update

from addon.connection.linking import Linking
from addon.connection.models import AttemptStatus, OAuthAttempt
from addon.connection.oauth_flow import _hash_state
from addon.connection.repository import ConnectionRepository
from addon.connection.service import CALLBACK_PATH
from addon.db.types import utcnow
from addon.services import Services
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.transport import HostRoutingTransport
from tests.conftest import APP_URL, MAILCHIMP_URL, dashboard_headers, keep_browser_key
from tests.factories import make_installation


@pytest.fixture
def headers(saleor: SaleorSandbox, installed_app: SandboxApp) -> dict[str, str]:
    return dashboard_headers(saleor, installed_app)


@pytest.fixture
def account(mailchimp: MailchimpSandbox) -> SandboxAccount:
    return mailchimp.create_account("Green Grocer", "owner@grocer.example", dc="us21")


async def start(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(
        "/api/connection/oauth/start", headers={**headers, "accept": "application/json"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["status_url"] == f"/api/connection/oauth/attempts/{body['attempt_id']}"
    keep_browser_key(client, body)
    return body


def authorize_params(started: dict[str, Any]) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(started["authorize_url"]).query).items()}


async def poll(
    client: httpx.AsyncClient, headers: dict[str, str], started: dict[str, Any]
) -> dict[str, Any]:
    response = await client.get(started["status_url"], headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def decide(
    client: httpx.AsyncClient, started: dict[str, Any], decision: str, account_id: str = ""
) -> httpx.Response:
    """Press Allow or Deny on Mailchimp's authorize page; follow the redirect to the callback."""
    answer = await client.post(
        f"{MAILCHIMP_URL}/oauth2/authorize",
        data={**authorize_params(started), "decision": decision, "account_id": account_id},
    )
    assert answer.status_code == 302
    return await client.get(answer.headers["location"])


async def test_a_new_attempt_is_pending(
    app_client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    started = await start(app_client, headers)
    attempt = await poll(app_client, headers, started)
    assert attempt["id"] == started["attempt_id"]
    assert attempt["status"] == "pending" and attempt["finished_at"] is None
    assert attempt["code"] is None and attempt["message"] is None


async def test_deny_redirects_with_access_denied_and_the_next_poll_says_denied(
    app_client: httpx.AsyncClient, headers: dict[str, str], account: SandboxAccount
) -> None:
    started = await start(app_client, headers)
    answer = await app_client.post(
        f"{MAILCHIMP_URL}/oauth2/authorize",
        data={**authorize_params(started), "decision": "deny"},
    )
    # RFC 6749 §4.1.2.1: back to redirect_uri with error=access_denied and the same state.
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["error"] == ["access_denied"] and "code" not in query
    assert query["state"] == [authorize_params(started)["state"]]
    page = await app_client.get(answer.headers["location"])
    assert page.status_code == 400
    attempt = await poll(app_client, headers, started)
    assert attempt["status"] == "denied" and attempt["code"] == "OAUTH_DENIED"
    assert attempt["message"] == "You did not allow access in Mailchimp, so nothing was connected."
    assert attempt["finished_at"] is not None
    status = (await app_client.get("/api/connection", headers=headers)).json()
    assert status["status"] == "disconnected"


async def test_a_denied_state_cannot_be_completed_afterwards(
    app_client: httpx.AsyncClient, headers: dict[str, str], account: SandboxAccount
) -> None:
    started = await start(app_client, headers)
    await decide(app_client, started, "deny")
    # Somebody replays the same state with a code: refused, and the outcome stays "denied".
    page = await decide(app_client, started, "allow", account.id)
    assert page.status_code == 400 and "used already" in page.text
    assert (await poll(app_client, headers, started))["status"] == "denied"


async def test_a_replay_while_the_first_callback_talks_to_mailchimp_leaves_it_the_attempt(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    services: Services,
) -> None:
    started = await start(app_client, headers)
    answer = await app_client.post(
        f"{MAILCHIMP_URL}/oauth2/authorize",
        data={**authorize_params(started), "decision": "allow", "account_id": account.id},
    )
    # The first callback has used the state up and is exchanging the code with Mailchimp
    # (it records the outcome afterwards) when the pop-up loads the callback again.
    state = authorize_params(started)["state"]
    async with services.db.transaction() as session:
        assert await ConnectionRepository(session).consume_state(_hash_state(state), utcnow())
    replay = await app_client.get(answer.headers["location"])
    # A neutral page that tells the dashboard nothing (`OAuthFlow.replayed`): the first
    # callback's outcome is the attempt's.
    assert replay.status_code == 200 and "postMessage" not in replay.text
    assert (await poll(app_client, headers, started))["status"] == "pending"


async def test_allow_connects_and_the_poll_says_allowed(
    app_client: httpx.AsyncClient, headers: dict[str, str], account: SandboxAccount
) -> None:
    started = await start(app_client, headers)
    page = await decide(app_client, started, "allow", account.id)
    assert page.status_code == 200
    attempt = await poll(app_client, headers, started)
    assert attempt["status"] == "allowed" and attempt["code"] == "CONNECTED"
    assert attempt["continuity"] == "new" and "Green Grocer" in attempt["message"]


async def test_an_exchange_error_ends_the_attempt_with_a_plain_message(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    mailchimp: MailchimpSandbox,
) -> None:
    mailchimp.register_oauth_client(
        "123456789012", "a-different-secret", APP_URL + CALLBACK_PATH
    )  # our secret is wrong
    started = await start(app_client, headers)
    await decide(app_client, started, "allow", account.id)
    attempt = await poll(app_client, headers, started)
    assert attempt["status"] == "error" and attempt["code"] == "OAUTH_EXCHANGE_FAILED"
    assert attempt["message"].startswith("Mailchimp did not complete the sign-in (invalid_client)")
    assert "/oauth2/token" not in attempt["message"]  # no request details in the sentence


async def test_an_oauth_error_from_mailchimp_ends_the_attempt(
    app_client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    started = await start(app_client, headers)
    state = authorize_params(started)["state"]
    page = await app_client.get(
        "/api/connection/oauth/callback",
        params={
            "state": state,
            "error": "temporarily_unavailable",
            "error_description": "Try again later",
        },
    )
    assert page.status_code == 400
    attempt = await poll(app_client, headers, started)
    assert attempt["status"] == "error" and attempt["code"] == "OAUTH_ERROR"
    assert attempt["message"] == "Mailchimp reported an error: Try again later."


async def test_closing_the_window_abandons_a_pending_attempt(
    app_client: httpx.AsyncClient, headers: dict[str, str], account: SandboxAccount
) -> None:
    started = await start(app_client, headers)
    closed = await app_client.post(f"{started['status_url']}/abandon", headers=headers)
    assert closed.status_code == 200
    assert closed.json()["status"] == "abandoned" and closed.json()["code"] == "OAUTH_ABANDONED"
    assert (await poll(app_client, headers, started))["status"] == "abandoned"
    # Allowed in a window the page had given up on (it was only hidden): what happened wins.
    await decide(app_client, started, "allow", account.id)
    assert (await poll(app_client, headers, started))["status"] == "allowed"


async def test_closing_after_the_answer_keeps_the_answer(
    app_client: httpx.AsyncClient, headers: dict[str, str], account: SandboxAccount
) -> None:
    started = await start(app_client, headers)
    await decide(app_client, started, "allow", account.id)
    closed = await app_client.post(f"{started['status_url']}/abandon", headers=headers)
    assert closed.status_code == 200 and closed.json()["status"] == "allowed"


async def test_an_unanswered_attempt_expires(
    app_client: httpx.AsyncClient, headers: dict[str, str], services: Services
) -> None:
    started = await start(app_client, headers)
    async with services.db.transaction() as session:
        await session.execute(
            update(OAuthAttempt).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    attempt = await poll(app_client, headers, started)
    assert attempt["status"] == "expired" and attempt["code"] == "OAUTH_STATE_EXPIRED"
    closed = await app_client.post(f"{started['status_url']}/abandon", headers=headers)
    assert closed.json()["status"] == "expired"


async def test_unknown_attempts_and_strangers_are_refused(
    app_client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    started = await start(app_client, headers)
    unknown = await app_client.get("/api/connection/oauth/attempts/nope", headers=headers)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "OAUTH_ATTEMPT_NOT_FOUND"
    bad = await app_client.get("/api/connection/oauth/attempts/a%2Fb", headers=headers)
    assert bad.status_code in (404, 422)
    assert (await app_client.get(started["status_url"])).status_code == 401
    assert (await app_client.post(f"{started['status_url']}/abandon")).status_code == 401


async def test_another_installations_attempt_is_not_found(
    app_client: httpx.AsyncClient, headers: dict[str, str], services: Services
) -> None:
    other = await make_installation(services, "http://other.test/graphql/")
    now = utcnow()
    async with services.db.transaction() as session:
        session.add(
            OAuthAttempt(
                id="someone-elses-attempt",
                installation_id=other,
                state_hash="0" * 64,
                status=AttemptStatus.PENDING,
                created_at=now,
                expires_at=now + timedelta(minutes=10),
            )
        )
    url = "/api/connection/oauth/attempts/someone-elses-attempt"
    assert (await app_client.get(url, headers=headers)).status_code == 404
    assert (await app_client.post(f"{url}/abandon", headers=headers)).status_code == 404
    async with services.db.session() as session:
        attempt = await session.get(OAuthAttempt, "someone-elses-attempt")
        assert attempt is not None and attempt.status is AttemptStatus.PENDING


async def test_an_unexpected_failure_answers_a_page_the_poll_sees_and_saves_nothing(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Saving the account fails after its first writes: they are undone, the pop-up shows a
    page naming the request id (nothing of the exception), and the polling page learns it."""
    save = Linking.save

    async def save_then_fail(self: Linking, *args: Any, **kwargs: Any) -> Any:
        await save(self, *args, **kwargs)
        raise RuntimeError("lost the database at postgresql://app:s3cret@db/app")

    monkeypatch.setattr(Linking, "save", save_then_fail)
    started = await start(app_client, headers)
    page = await decide(app_client, started, "allow", account.id)
    assert page.status_code == 500 and "text/html" in page.headers["content-type"]
    request_id = page.headers["x-request-id"]
    assert request_id in page.text and "s3cret" not in page.text
    attempt = await poll(app_client, headers, started)
    assert attempt["status"] == "error" and attempt["code"] == "INTERNAL_ERROR"
    assert request_id in attempt["message"] and "s3cret" not in attempt["message"]
    status = (await app_client.get("/api/connection", headers=headers)).json()
    assert status["status"] == "disconnected"
    [logged] = [r for r in caplog.records if r.exc_info and request_id in r.getMessage()]
    assert "s3cret" in str(logged.exc_info[1])  # the operator's log has the traceback


async def start_key(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.get(
        "/api/connection/oauth/start", headers={**headers, "accept": "application/json"}
    )
    key: str = response.json()["browser_key"]
    return key


# --- The browser the log-in started in ------------------------------------------------------


async def test_a_log_in_passed_on_to_another_browser_connects_nothing_there(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    mailchimp: MailchimpSandbox,
    network: HostRoutingTransport,
) -> None:
    """A link to Mailchimp's page (or the pop-up's) opened elsewhere: whoever allows access
    there connects nothing, and the log-in stays the admin's to finish."""
    started = await start(app_client, headers)
    assert started["browser_key"] not in started["authorize_url"]
    other = mailchimp.create_account("Someone Else", "someone@else.example", dc="us9")
    async with httpx.AsyncClient(transport=network, base_url=APP_URL) as elsewhere:
        page = await decide(elsewhere, started, "allow", other.id)
        assert page.status_code == 400
        assert "not started in this browser window" in page.text
        # Denying there does not end the admin's log-in either.
        assert (await decide(elsewhere, started, "deny")).status_code == 400
        # Nor does a key of another log-in of this installation.
        another_key = await start_key(app_client, headers)
        keep_browser_key(elsewhere, {**started, "browser_key": another_key})
        assert (await decide(elsewhere, started, "allow", other.id)).status_code == 400
    assert (await poll(app_client, headers, started))["status"] == "pending"
    assert (await app_client.get("/api/connection", headers=headers)).json()["status"] == (
        "disconnected"
    )
    # The admin's own window still connects their account.
    page = await decide(app_client, started, "allow", account.id)
    assert page.status_code == 200, page.text
    assert (await poll(app_client, headers, started))["status"] == "allowed"
    connection = (await app_client.get("/api/connection", headers=headers)).json()
    assert connection["account_name"] == "Green Grocer"


async def test_a_plain_browser_keeps_the_key_from_the_start_page_itself(
    app_client: httpx.AsyncClient, headers: dict[str, str], account: SandboxAccount
) -> None:
    response = await app_client.get("/api/connection/oauth/start", headers=headers)
    assert response.status_code == 307
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("mailchimp_oauth_")
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "path=/api/connection/oauth/callback" in cookie
    params = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}
    answer = await app_client.post(
        f"{MAILCHIMP_URL}/oauth2/authorize",
        data={**params, "decision": "allow", "account_id": account.id},
    )
    page = await app_client.get(answer.headers["location"])
    assert page.status_code == 200, page.text
    # The callback's page lets the key go.
    assert (
        "mailchimp_oauth_" in page.headers["set-cookie"]
        and "Max-Age=0" in page.headers["set-cookie"]
    )
