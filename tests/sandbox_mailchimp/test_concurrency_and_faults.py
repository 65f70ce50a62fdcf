"""The 10-simultaneous-requests cap, peak concurrency, and fault injection."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from tests.held_mailchimp import Held, until

from .test_core import assert_problem


async def test_eleventh_simultaneous_request_is_rejected(
    sandbox: MailchimpSandbox,
    client: httpx.AsyncClient,
    account: SandboxAccount,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = Held(sandbox, monkeypatch)
    calls = [asyncio.create_task(client.get("/ping")) for _ in range(11)]
    await until(
        lambda: sandbox.in_flight(account) == 10 and any(c.done() for c in calls),
        "ten requests held and the eleventh answered",
    )
    held.go.set()
    responses = await asyncio.gather(*calls)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 10 + [429]
    rejected = next(r for r in responses if r.status_code == 429)
    doc = assert_problem(rejected, 429, "Too Many Requests")
    assert doc["detail"] == "You have exceeded the limit of 10 simultaneous connections."
    assert sandbox.peak_concurrency(account) == 10
    assert sandbox.in_flight(account) == 0


async def test_limit_is_per_account(
    sandbox: MailchimpSandbox,
    raw_client: httpx.AsyncClient,
    account: SandboxAccount,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = sandbox.create_account("Other", "o@x.test")
    held = Held(sandbox, monkeypatch)
    calls = [
        asyncio.create_task(raw_client.get("/us21/3.0/ping", auth=("u", key)))
        for key in [account.api_key] * 10 + [other.api_key] * 10
    ]
    await until(
        lambda: sandbox.in_flight(account) == 10 and sandbox.in_flight(other) == 10,
        "ten requests of each account held",
    )
    held.go.set()
    responses = await asyncio.gather(*calls)
    assert all(r.status_code == 200 for r in responses)
    assert sandbox.peak_concurrency(account) == 10
    assert sandbox.peak_concurrency(other) == 10


async def test_sequential_requests_have_peak_one(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    for _ in range(3):
        assert (await client.get("/ping")).status_code == 200
    assert sandbox.peak_concurrency(account) == 1


async def test_error_rate_is_seeded_and_varied(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient
) -> None:
    sandbox.faults.set(error_rate=1.0)
    responses = [await client.get("/ping") for _ in range(30)]
    statuses = {r.status_code for r in responses}
    assert statuses == {500, 502, 503}
    bad_gateway = next(r for r in responses if r.status_code == 502)
    assert bad_gateway.headers["content-type"].startswith("text/html")
    internal = next(r for r in responses if r.status_code == 500)
    assert_problem(internal, 500, "Internal Server Error")
    sandbox.faults.reset()
    assert (await client.get("/ping")).status_code == 200

    again = MailchimpSandbox(seed=1)
    again_account = again.create_account("A", "a@a.test")
    sequence = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=again.app),
        base_url="http://mailchimp.test/us21/3.0",
        auth=("u", again_account.api_key),
    ) as other_client:
        again.faults.set(error_rate=1.0)
        sequence = [(await other_client.get("/ping")).status_code for _ in range(30)]
    assert sequence == [r.status_code for r in responses]


async def test_forced_bodiless_statuses(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    sandbox.faults.set(account, force_status=429)
    response = await client.get("/ping")
    assert response.status_code == 429 and response.content == b""
    sandbox.faults.reset(account)
    sandbox.faults.set(force_status=403)
    response = await client.get("/ping")
    assert response.status_code == 403 and response.content == b""
    sandbox.faults.reset()
    assert (await client.get("/ping")).status_code == 200


async def test_fail_next(
    sandbox: MailchimpSandbox, raw_client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    other = sandbox.create_account("Other", "o@x.test")
    sandbox.faults.fail_next(2, 503, account=account)
    mine = [
        (await raw_client.get("/us21/3.0/ping", auth=("u", account.api_key))).status_code
        for _ in range(3)
    ]
    theirs = (await raw_client.get("/us21/3.0/ping", auth=("u", other.api_key))).status_code
    assert mine == [503, 503, 200]
    assert theirs == 200


async def test_outage_window(
    sandbox: MailchimpSandbox, raw_client: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    sandbox.faults.outage(60)
    assert_problem(await client.get("/ping"), 503, "Service Unavailable")
    # Everything, even unauthenticated requests.
    assert (await raw_client.get("/us21/3.0/ping")).status_code == 503
    sandbox.clock.advance(61)
    assert (await client.get("/ping")).status_code == 200


async def test_account_outage_and_reset(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    sandbox.faults.outage(account=account)
    assert (await client.get("/ping")).status_code == 503
    sandbox.faults.reset(account)
    assert (await client.get("/ping")).status_code == 200
