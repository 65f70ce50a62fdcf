"""Storefront rate limits kept in the database (issue 11, item 4).

The old limiter was one in-process dict: with 100,000 keys it pruned everything idle for the
*caller's* window, so 100,001 one-minute addresses erased a one-hour e-mail block, and each web
process counted on its own.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.util import await_only

from addon.app import create_app
from addon.capabilities import create_services
from addon.services import Services
from addon.subscriptions.ratelimit import Limit, RateLimiter, RateLimitRecord, Throttled
from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.transport import HostRoutingTransport
from tests.conftest import SALEOR_API_URL, RecordingTransport

EMAIL = Limit("email", 5, 3600.0)
ADDRESS = Limit("address", 30, 60.0)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def rows(services: Services) -> int:
    async with services.db.session() as session:
        count = await session.execute(select(func.count()).select_from(RateLimitRecord))
        return int(count.scalar_one())


async def test_an_address_flood_does_not_reset_a_blocked_email(services: Services) -> None:
    clock = Clock()
    limiter = RateLimiter(services.db, prune_batch_size=200, clock=clock)
    for _ in range(EMAIL.hits):
        assert await limiter.allow(EMAIL, "kim@example.com", None)
    assert not await limiter.allow(EMAIL, "kim@example.com", None)

    # The attack: 100,001 client addresses, each hit once (written in bulk, as the limiter
    # would write them; the last few through the limiter itself).
    stamp = clock.now.timestamp()
    flood = [
        {
            "key": f"{n:064x}",
            "installation_id": None,
            "hits": [stamp],
            "expires_at": clock.now + timedelta(seconds=ADDRESS.window_seconds),
        }
        for n in range(100_000)
    ]
    async with services.db.transaction() as session:
        await session.execute(insert(RateLimitRecord), flood)
    for n in range(3):
        assert await limiter.allow(ADDRESS, f"10.0.0.{n}")
    assert await rows(services) == 100_004

    # The addresses' window passes; the e-mail's does not.
    clock.advance(ADDRESS.window_seconds + 1)
    assert await limiter.allow(ADDRESS, "10.9.9.9")  # prunes a batch of expired rows
    assert await rows(services) == 100_004 + 1 - 200
    assert not await limiter.allow(EMAIL, "kim@example.com", None)

    # Storage stays bounded: expired rows go, a batch per check, never a live one.
    sweeper = RateLimiter(services.db, prune_batch_size=200_000, clock=clock)
    assert await sweeper.allow(ADDRESS, "10.9.9.10")
    assert await rows(services) == 3  # the e-mail, and the two live addresses
    assert not await limiter.allow(EMAIL, "kim@example.com", None)


async def test_each_key_keeps_its_own_sliding_window(services: Services) -> None:
    clock = Clock()
    limiter = RateLimiter(services.db, prune_batch_size=200, clock=clock)
    for _ in range(EMAIL.hits):
        assert await limiter.allow(EMAIL, "lee@example.com", None)
        clock.advance(600)  # hits at 0, 10, 20, 30, 40 minutes
    assert not await limiter.allow(EMAIL, "lee@example.com", None)  # at 50 minutes
    assert await limiter.allow(EMAIL, "other@example.com", None)
    clock.advance(600)  # 60 minutes: the first hit left the window
    assert await limiter.allow(EMAIL, "lee@example.com", None)
    assert not await limiter.allow(EMAIL, "lee@example.com", None)


async def test_a_refusal_says_when_the_window_has_room(services: Services) -> None:
    """`Retry-After` of a 429: until the oldest hit that must leave the window has left it."""
    clock = Clock()
    limiter = RateLimiter(services.db, prune_batch_size=200, clock=clock)
    for _ in range(EMAIL.hits):
        assert await limiter.hit(EMAIL, "ray@example.com") is None
        clock.advance(600)  # hits at 0, 10, 20, 30, 40 minutes
    assert await limiter.hit(EMAIL, "ray@example.com") == 600.0  # at 50: the first leaves at 60
    # A limit lowered since: two hits must leave before one more fits.
    assert await limiter.hit(Limit("email", 4, 3600.0), "ray@example.com") == 1200.0
    refusal = Throttled("Too many requests.", 0.2)
    assert (refusal.status_code, refusal.headers) == (429, {"Retry-After": "1"})


async def test_concurrent_checks_of_one_key_allow_exactly_the_limit(services: Services) -> None:
    limiter = RateLimiter(services.db, prune_batch_size=200)
    results = await asyncio.gather(*(limiter.allow(EMAIL, "max@example.com") for _ in range(12)))
    assert sum(results) == EMAIL.hits


async def test_two_app_instances_share_the_count(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    services: Services,
    app_client: httpx.AsyncClient,
    network: HostRoutingTransport,
    outbound: RecordingTransport,
) -> None:
    object.__setattr__(services.settings, "storefront_rate_limit_per_address", 6)
    # A second process's worth of services and app, on the same database.
    other_services = create_services(services.settings, transport=outbound)
    other_app = create_app(other_services, run_worker=False)
    network.add("app2.test", other_app)
    try:
        async with httpx.AsyncClient(transport=network, base_url="http://app2.test") as other:
            codes = []
            for n in range(8):
                client = app_client if n % 2 == 0 else other
                response = await client.get(
                    "/api/storefront/newsletter", params={"saleor_api_url": SALEOR_API_URL}
                )
                codes.append(response.status_code)
            assert codes == [200] * 6 + [429, 429]
            assert response.json()["error"]["code"] == "RATE_LIMITED"
    finally:
        await other_services.aclose()


async def test_a_hit_counts_even_when_the_request_then_fails(
    app_client: httpx.AsyncClient, services: Services
) -> None:
    object.__setattr__(services.settings, "storefront_rate_limit_per_address", 3)
    unknown = {"saleor_api_url": "http://nowhere.test/graphql/"}
    codes = [
        (await app_client.get("/api/storefront/newsletter", params=unknown)).status_code
        for _ in range(4)
    ]
    assert codes == [404, 404, 404, 429]


async def test_no_address_is_stored_in_clear(services: Services) -> None:
    limiter = RateLimiter(services.db, prune_batch_size=200)
    assert await limiter.allow(EMAIL, "secret.person@example.com", None)
    async with services.db.session() as session:
        keys = list((await session.execute(select(RateLimitRecord.key))).scalars())
    assert keys and all("example.com" not in key and len(key) == 64 for key in keys)


async def test_a_returning_client_whose_expired_row_another_check_prunes_is_counted(
    services: Services,
) -> None:
    """A client back after its window: its row has expired, and another client's check prunes
    expired rows. Right after this check has found (not created) the row, the other check runs
    to its end (PostgreSQL: another transaction; SQLite's writers take turns, no such moment).
    Before, the row was found by one statement and locked by the next, so the other check
    deleted it in between and the lock found nothing (a 500); now one statement finds and locks
    it, and the other check skips it (`SKIP LOCKED`)."""
    if services.db.is_sqlite:
        pytest.skip("concurrent checks in one moment: PostgreSQL only")
    clock = Clock()
    limiter = RateLimiter(services.db, prune_batch_size=200, clock=clock)
    assert await limiter.allow(ADDRESS, "203.0.113.7")
    clock.advance(ADDRESS.window_seconds + 1)  # its row has expired

    interleaved: list[bool] = []
    started: list[bool] = []

    def after_the_insert(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # The returning client's read of its row, once (the other check's statements pass).
        if started or not statement.lstrip().startswith("SELECT rate_limits."):
            return
        started.append(True)
        interleaved.append(await_only(limiter.allow(ADDRESS, "198.51.100.9")))

    event.listen(services.db.engine.sync_engine, "before_cursor_execute", after_the_insert)
    try:
        assert await limiter.allow(ADDRESS, "203.0.113.7")
    finally:
        event.remove(services.db.engine.sync_engine, "before_cursor_execute", after_the_insert)
    assert interleaved == [True]  # the other check ran in between, and was counted
    async with services.db.session() as session:
        keys = await session.scalars(select(RateLimitRecord.key))
        assert len(list(keys)) == 2  # neither row pruned: both are live again
