"""The log-in window reloaded (or the callback reached twice) while the first callback still
talks to Mailchimp. Before, the second page said "This sign-in link was used already" and posted
`ok: false` to the dashboard, which stopped waiting and said nothing was connected, and the
first callback then connected the account. Now the second page says the log-in is finishing and
posts nothing (the dashboard learns the outcome from the attempt); reached again once it
connected, in the browser it started in, it says connected."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from addon.services import Services
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from tests.conftest import MAILCHIMP_URL, keep_browser_key
from tests.factories import connection_row
from tests.held_mailchimp import until


async def _allowed(
    client: httpx.AsyncClient, headers: dict[str, str], account: SandboxAccount
) -> tuple[str, dict[str, Any]]:
    """Start a log-in and allow it at Mailchimp: the callback's URL and the start's answer."""
    start = await client.get(
        "/api/connection/oauth/start", headers={**headers, "accept": "application/json"}
    )
    keep_browser_key(client, start.json())
    params = {k: v[0] for k, v in parse_qs(urlsplit(start.json()["authorize_url"]).query).items()}
    allowed = await client.post(
        f"{MAILCHIMP_URL}/oauth2/authorize",
        data={**params, "account_id": account.id, "decision": "allow"},
    )
    return allowed.headers["location"], start.json()


async def test_a_callback_reloaded_while_the_first_connects_posts_no_failure(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    mailchimp: MailchimpSandbox,
    account: SandboxAccount,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    callback, started = await _allowed(app_client, headers, account)
    status_url = started["status_url"]
    # The Marketing API (the token's check after the exchange) answers slowly.
    go, arrived = asyncio.Event(), []
    call = mailchimp.router.call

    async def held(request: Any) -> Any:
        arrived.append(request.path)
        await go.wait()
        return await call(request)

    monkeypatch.setattr(mailchimp.router, "call", held)
    first = asyncio.create_task(app_client.get(callback))
    await until(lambda: bool(arrived), "the first callback checking the token")
    reloaded = await app_client.get(callback)
    assert reloaded.status_code == 200
    assert "finishing" in reloaded.text and "postMessage" not in reloaded.text
    assert "used already" not in reloaded.text
    # The attempt the dashboard polls is left to the first callback.
    assert (await app_client.get(status_url, headers=headers)).json()["status"] == "pending"
    go.set()
    assert (await first).status_code == 200
    assert (await connection_row(services)).status == "connected"
    assert (await app_client.get(status_url, headers=headers)).json()["status"] == "allowed"


async def test_a_callback_reached_again_once_connected_says_connected(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
) -> None:
    callback, started = await _allowed(app_client, headers, account)
    first = await app_client.get(callback)
    assert first.status_code == 200
    # The window reloaded before the first page reached it: its key was never cleared.
    keep_browser_key(app_client, started)
    again = await app_client.get(callback)
    # Refused (it connects nothing itself), yet it tells the dashboard the log-in connected.
    assert again.status_code == 400 and "used already" in again.text
    assert "Mailchimp is connected" in again.text and '"ok": true' in again.text


async def test_a_callback_reached_again_in_another_browser_is_refused_as_before(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
) -> None:
    callback, _ = await _allowed(app_client, headers, account)
    assert (await app_client.get(callback)).status_code == 200
    app_client.cookies.clear()  # another browser: no key of this log-in
    again = await app_client.get(callback)
    assert again.status_code == 400 and "used already" in again.text
    assert "Green Grocer" not in again.text and '"ok": false' in again.text
