"""Connecting another Mailchimp account through the OAuth log-in while work owed to the connected
one waits: the account is known only at the callback, so the admin's confirmation is given at
the start (`drop_owed_to_previous_account`) and kept with the log-in's state."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from addon.connection.models import MailchimpConnection
from addon.erasure.jobs import ERASE_JOB
from addon.jobs.repository import JobRepository
from addon.services import Services
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.conftest import MAILCHIMP_URL, dashboard_headers, keep_browser_key


@pytest.fixture
def headers(saleor: SaleorSandbox, installed_app: SandboxApp) -> dict[str, str]:
    return dashboard_headers(saleor, installed_app)


async def _log_in(
    client: httpx.AsyncClient, headers: dict[str, str], account: SandboxAccount, **params: str
) -> tuple[httpx.Response, dict[str, str]]:
    """The pop-up's journey (start, allow at Mailchimp, callback); the callback page and the
    attempt the Connection page polls."""
    start = await client.get(
        "/api/connection/oauth/start",
        params={"flow": "login", **params},
        headers={**headers, "accept": "application/json"},
    )
    assert start.status_code == 200, start.text
    keep_browser_key(client, start.json())
    query = parse_qs(urlsplit(start.json()["authorize_url"]).query)
    allowed = await client.post(
        f"{MAILCHIMP_URL}/oauth2/authorize",
        data={**{k: v[0] for k, v in query.items()}, "account_id": account.id, "decision": "allow"},
    )
    page = await client.get(allowed.headers["location"])
    attempt = await client.get(start.json()["status_url"], headers=headers)
    return page, attempt.json()


async def test_another_account_by_oauth_needs_the_confirmation_given_at_the_start(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    mailchimp: MailchimpSandbox,
    services: Services,
) -> None:
    first = mailchimp.create_account("Green Grocer", "owner@grocer.example", dc="us21")
    connected = await app_client.post(
        "/api/connection/api-key", json={"api_key": first.api_key}, headers=headers
    )
    assert connected.status_code == 200
    async with services.db.transaction() as session:
        row = (await session.execute(select(MailchimpConnection))).scalar_one()
        await JobRepository(session).enqueue(
            row.installation_id,
            ERASE_JOB,
            {"email": "ann@example.com", "source": "panel"},
        )
    other = mailchimp.create_account("Other Co", "boss@other.example", dc="us5")

    page, attempt = await _log_in(app_client, headers, other)
    assert page.status_code == 400
    assert attempt["status"] == "error" and attempt["code"] == "OWED_TO_PREVIOUS_ACCOUNT"
    assert attempt["message"].startswith("1 erasure still waits for Green Grocer")
    async with services.db.session() as session:
        row = (await session.execute(select(MailchimpConnection))).scalar_one()
    assert row.account_id == first.id and row.account_switched_at is None

    page, attempt = await _log_in(app_client, headers, other, drop_owed_to_previous_account="true")
    assert page.status_code == 200, page.text
    assert attempt["status"] == "allowed" and attempt["continuity"] == "started_clean"
    assert "1 erasure owed to the previous account ends not done" in attempt["message"]
    async with services.db.session() as session:
        row = (await session.execute(select(MailchimpConnection))).scalar_one()
    assert row.account_id == other.id and row.account_switched_at is not None
