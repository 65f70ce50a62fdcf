"""Retries, backoff and the per-account concurrency cap, against sandbox faults."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal

import httpx
import pytest

from addon.clock import ManualClock
from addon.mailchimp import (
    InvalidCredentials,
    MailchimpClient,
    MailchimpCredentials,
    MailchimpHttp,
    NotFound,
    RateLimited,
    TransientError,
)
from sandboxes.mailchimp.models import SandboxAccount
from sandboxes.mailchimp.sandbox import MailchimpSandbox
from tests.held_mailchimp import Held, until
from tests.mailchimp.conftest import MakeHttp, MaxJitter

Log = Callable[[str], list[Any]]


@pytest.mark.parametrize("status", [500, 502, 503, 429, 403])
async def test_storm_is_retried_until_success(
    client: MailchimpClient,
    sandbox: MailchimpSandbox,
    account: SandboxAccount,
    requests_to: Log,
    status: int,
) -> None:
    sandbox.faults.fail_next(3, status, account=account.id)
    assert (await client.ping()).health_status
    assert [r.status for r in requests_to("/ping")] == [status, status, status, 200]


async def test_5xx_storm_outlasting_max_attempts_raises_transient_error(
    client: MailchimpClient, sandbox: MailchimpSandbox, account: SandboxAccount, requests_to: Log
) -> None:
    sandbox.faults.fail_next(10, 503, account=account.id)
    with pytest.raises(TransientError) as info:
        await client.ping()
    assert info.value.status == 503
    assert info.value.title == "Service Unavailable"
    assert info.value.instance
    assert len(requests_to("/ping")) == client.http.max_attempts == 4


async def test_html_502_storm_raises_transient_error(
    client: MailchimpClient, sandbox: MailchimpSandbox, account: SandboxAccount
) -> None:
    sandbox.faults.fail_next(10, 502, account=account.id)
    with pytest.raises(TransientError) as info:
        await client.account()
    assert info.value.status == 502
    assert "non-JSON text/html page" in str(info.value)
    assert "<html>" not in str(info.value)


@pytest.mark.parametrize("status", [429, 403])
async def test_throttling_outlasting_max_attempts_raises_rate_limited(
    client: MailchimpClient,
    sandbox: MailchimpSandbox,
    account: SandboxAccount,
    requests_to: Log,
    status: Literal[429, 403],
) -> None:
    sandbox.faults.set(account.id, force_status=status)
    with pytest.raises(RateLimited) as info:
        await client.ping()
    assert info.value.status == status
    assert len(requests_to("/ping")) == 4


async def test_random_error_rate_is_absorbed(
    client: MailchimpClient,
    sandbox: MailchimpSandbox,
    make_http: MakeHttp,
    credentials: MailchimpCredentials,
) -> None:
    sandbox.faults.set(error_rate=0.3)
    patient = MailchimpClient(make_http(max_attempts=10), credentials)
    results = await asyncio.gather(*(patient.ping() for _ in range(20)))
    assert len(results) == 20
    assert any(r.status >= 500 for r in sandbox.requests)


async def backed_off(clock: ManualClock) -> None:
    """Until a call failed and sleeps on the clock for its backoff (a bound only a hang
    reaches)."""
    give_up = asyncio.get_running_loop().time() + 60
    while not clock.sleepers:
        assert asyncio.get_running_loop().time() < give_up, "the call never backed off"
        await asyncio.sleep(0.001)


async def test_outage_then_recovery(
    make_http: MakeHttp,
    credentials: MailchimpCredentials,
    sandbox: MailchimpSandbox,
    clock: ManualClock,
) -> None:
    # Neither the outage nor the backoffs pass with the machine's time (an outage of 50 ms
    # could end before the first request on a loaded machine): the test ends the outage
    # after three failed attempts, and moves the clock the backoffs wait on.
    outage = 3600.0
    sandbox.faults.outage(outage)
    client = MailchimpClient(
        make_http(max_attempts=10, backoff_base=0.02, backoff_max=0.03, rng=MaxJitter()),
        credentials,
    )
    ping = asyncio.create_task(client.ping())
    for _ in range(3):
        await backed_off(clock)
        if len(sandbox.requests) == 3:
            sandbox.clock.advance(outage)  # Mailchimp is back for the fourth attempt
        clock.advance(0.03)
    assert (await ping).health_status
    assert [r.status for r in sandbox.requests] == [503, 503, 503, 200]


@pytest.mark.parametrize(
    ("call", "error", "path"),
    [
        (lambda c: c.get_list("missing"), NotFound, "/lists/missing"),
        (lambda c: c.get_batch("missing"), NotFound, "/batches/missing"),
    ],
)
async def test_non_retryable_errors_are_sent_once(
    client: MailchimpClient, requests_to: Log, call: Any, error: type[Exception], path: str
) -> None:
    with pytest.raises(error):
        await call(client)
    assert len(requests_to(path)) == 1


async def test_invalid_credentials_are_sent_once(
    http: MailchimpHttp, sandbox: MailchimpSandbox, account: SandboxAccount, requests_to: Log
) -> None:
    sandbox.revoke(account)
    with pytest.raises(InvalidCredentials):
        await MailchimpClient(http, MailchimpCredentials.from_api_key(account.api_key)).ping()
    assert len(requests_to("/ping")) == 1


async def test_connection_errors_are_retried_then_transient(make_http: MakeHttp) -> None:
    http = make_http(api_url_template="http://nowhere.test/{dc}/3.0")
    creds = MailchimpCredentials.from_api_key("a" * 32 + "-us21")
    with pytest.raises(TransientError, match="Could not reach Mailchimp"):
        await MailchimpClient(http, creds).ping()


class FlakyTransport(httpx.AsyncBaseTransport):
    """Raises ``exc`` for the first ``failures`` requests, then passes them on."""

    def __init__(self, inner: httpx.AsyncBaseTransport, failures: int, exc: type[Exception]):
        self.inner, self.failures, self.exc, self.calls = inner, failures, exc, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc("simulated", request=request)  # type: ignore[call-arg]
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize("exc", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ConnectError])
async def test_timeouts_and_connection_errors_are_retried(
    make_http: MakeHttp,
    transport: httpx.AsyncBaseTransport,
    credentials: MailchimpCredentials,
    exc: type[Exception],
) -> None:
    flaky = FlakyTransport(transport, 2, exc)
    client = MailchimpClient(make_http(transport=flaky), credentials)
    assert (await client.ping()).health_status
    assert flaky.calls == 3
    flaky.calls, flaky.failures = 0, 99
    with pytest.raises(TransientError, match="timed out" if "Timeout" in exc.__name__ else "reach"):
        await client.ping()
    assert flaky.calls == 4


async def test_concurrency_never_exceeds_the_cap(
    client: MailchimpClient,
    sandbox: MailchimpSandbox,
    account: SandboxAccount,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = Held(sandbox, monkeypatch)
    pings = asyncio.gather(*(client.ping() for _ in range(40)))
    await until(lambda: sandbox.in_flight(account) >= 5, "the cap's requests held")
    held.go.set()
    await pings
    assert sandbox.peak_concurrency(account) == 5
    assert all(r.status == 200 for r in sandbox.requests)


async def test_cap_is_shared_by_all_clients_of_an_account(
    http: MailchimpHttp,
    sandbox: MailchimpSandbox,
    account: SandboxAccount,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = Held(sandbox, monkeypatch)
    second_key = sandbox.add_api_key(account)
    clients = [
        MailchimpClient(
            http, MailchimpCredentials.from_api_key(account.api_key, account_id=account.id)
        ),
        MailchimpClient(http, MailchimpCredentials.from_api_key(second_key, account_id=account.id)),
        MailchimpClient(
            http, MailchimpCredentials.from_api_key(account.api_key, account_id=account.id)
        ),
    ]
    pings = asyncio.gather(*(clients[i % 3].ping() for i in range(30)))
    await until(lambda: sandbox.in_flight(account) >= 5, "the cap's requests held")
    held.go.set()
    await pings
    assert sandbox.peak_concurrency(account) == 5


async def test_accounts_do_not_share_a_cap(
    http: MailchimpHttp,
    sandbox: MailchimpSandbox,
    account: SandboxAccount,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = sandbox.create_account("Other", "o@other.test")
    held = Held(sandbox, monkeypatch)
    a = MailchimpClient(http, MailchimpCredentials.from_api_key(account.api_key))
    b = MailchimpClient(http, MailchimpCredentials.from_api_key(other.api_key))
    pings = asyncio.gather(*(c.ping() for c in [a, b] * 10))
    await until(
        lambda: sandbox.in_flight(account) >= 5 and sandbox.in_flight(other) >= 5,
        "each account's cap of requests held",
    )
    held.go.set()
    await pings
    assert sandbox.peak_concurrency(account) == 5
    assert sandbox.peak_concurrency(other) == 5


async def test_cap_of_ten_never_hits_the_connection_limit(
    make_http: MakeHttp,
    credentials: MailchimpCredentials,
    sandbox: MailchimpSandbox,
    account: SandboxAccount,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = Held(sandbox, monkeypatch)
    client = MailchimpClient(make_http(max_concurrency_per_account=10, max_attempts=1), credentials)
    pings = asyncio.gather(*(client.ping() for _ in range(40)))
    await until(lambda: sandbox.in_flight(account) >= 10, "the cap's requests held")
    held.go.set()
    await pings
    assert sandbox.peak_concurrency(account) == 10
    assert not [r for r in sandbox.requests if r.status == 429]


async def test_without_the_cap_mailchimp_would_throttle(
    make_http: MakeHttp,
    credentials: MailchimpCredentials,
    sandbox: MailchimpSandbox,
    account: SandboxAccount,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sanity check of the test set-up: the sandbox enforces Mailchimp's 10-connection limit."""
    held = Held(sandbox, monkeypatch)
    client = MailchimpClient(make_http(max_concurrency_per_account=40, max_attempts=1), credentials)
    pings = [asyncio.create_task(client.ping()) for _ in range(40)]
    await until(
        lambda: sandbox.in_flight(account) == 10 and sum(p.done() for p in pings) == 30,
        "ten requests held and the others answered",
    )
    held.go.set()
    results = await asyncio.gather(*pings, return_exceptions=True)
    assert any(isinstance(r, RateLimited) for r in results)


async def test_semaphore_is_released_while_backing_off(
    make_http: MakeHttp,
    credentials: MailchimpCredentials,
    sandbox: MailchimpSandbox,
    account: SandboxAccount,
    clock: ManualClock,
) -> None:
    http = make_http(
        max_concurrency_per_account=1, backoff_base=0.3, backoff_max=0.3, rng=MaxJitter()
    )
    client = MailchimpClient(http, credentials)
    sandbox.faults.fail_next(1, 503, account=account.id)
    finished: list[str] = []

    async def run(name: str) -> None:
        await client.ping()
        finished.append(name)

    first = asyncio.create_task(run("retrying"))
    give_up = asyncio.get_running_loop().time() + 60  # only a hang gets there
    while not clock.sleepers:  # until the first call has failed and sleeps on the clock
        assert asyncio.get_running_loop().time() < give_up, "the first call never backed off"
        await asyncio.sleep(0.001)
    # The clock stands still, so the first call backs off for as long as this takes: the
    # second call gets the account's only slot meanwhile.
    await run("second")
    assert finished == ["second"] and not first.done()
    clock.advance(0.3)
    await first
    assert finished == ["second", "retrying"]


async def test_backoff_is_exponential_with_full_jitter_and_honours_retry_after() -> None:
    async with MailchimpHttp(backoff_base=0.5, backoff_max=4.0, rng=MaxJitter()) as http:
        assert [http.backoff_delay(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
        assert http.backoff_delay(1, retry_after=3.0) == 3.0
        assert http.backoff_delay(1, retry_after=60.0) == 4.0
    async with MailchimpHttp(backoff_base=0.5, backoff_max=4.0) as jittered:
        delays = {jittered.backoff_delay(3) for _ in range(50)}
    assert all(0.0 <= d <= 2.0 for d in delays) and len(delays) > 1
    assert jittered.is_closed
