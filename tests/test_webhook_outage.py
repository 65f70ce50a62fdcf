"""A web process down longer than Saleor retries a delivery (about five minutes) has what
Saleor changed meanwhile replayed (addon/installations/outage.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import select

from addon.clock import ManualClock
from addon.installations.missed_queue import MISSED_JOB
from addon.installations.models import ReceiverHeartbeat
from addon.installations.outage import HEARTBEAT_SECONDS, RETRIES_END, beat, watch
from addon.jobs.models import Job
from addon.services import Services
from sandboxes.transport import HostRoutingTransport
from tests.ecommerce.conftest import Shop, shop  # noqa: F401
from tests.worker_process import until

OUTAGE = 240.0


@pytest.fixture(autouse=True)
def watching(services: Services) -> None:
    services.settings = services.settings.model_copy(update={"webhook_outage_seconds": OUTAGE})


async def _missed(services: Services) -> list[Job]:
    async with services.db.session() as session:
        return list((await session.execute(select(Job).where(Job.kind == MISSED_JOB))).scalars())


async def test_heartbeats_a_minute_apart_replay_nothing(
    shop: Shop,  # noqa: F811
    clock: ManualClock,
) -> None:
    assert await beat(shop.services) == 0  # the first one: nothing to compare with
    for _ in range(5):
        clock.advance(HEARTBEAT_SECONDS + 5)  # a busy machine is late, not down
        assert await beat(shop.services) == 0
    assert await _missed(shop.services) == []


async def test_changes_saleor_could_not_deliver_during_an_outage_are_replayed(
    shop: Shop,  # noqa: F811
    clock: ManualClock,
    network: HostRoutingTransport,
) -> None:
    product = await shop.product("Plum", "4.00")
    customer = await shop.saleor.create_customer("ann@example.com", "Ann")  # delivered
    await shop.drain()
    await beat(shop.services)
    async with shop.services.db.session() as session:
        alive_at = (await session.get(ReceiverHeartbeat, 1)).alive_at  # type: ignore[union-attr]

    # Every web process down: Saleor's deliveries fail until it gives up on them.
    app = network.remove("app.test")
    await shop.saleor.update_product(product, name="Damson")
    network.add("app.test", app)
    assert shop.products()[str(product.id)].title == "Plum"

    clock.advance(OUTAGE + 60)  # back up: the first heartbeat sees the gap
    assert await beat(shop.services) == 1
    [missed] = await _missed(shop.services)
    assert missed.payload["since"].startswith(alive_at.strftime("%Y-%m-%dT%H:%M:%S"))
    # Recorded now, as done jobs are pruned after a week: replayed, it is no new registration.
    assert ["CUSTOMER_CREATED", customer.global_id] in missed.payload["delivered"]
    await shop.drain()  # Saleor's last retries may still come: the replay waits for them
    assert shop.products()[str(product.id)].title == "Plum"
    for _ in range(int(RETRIES_END.total_seconds() // HEARTBEAT_SECONDS)):
        clock.advance(HEARTBEAT_SECONDS)
        assert await beat(shop.services) == 0  # up again, on time
    await shop.drain()
    assert shop.products()[str(product.id)].title == "Damson"


async def test_the_web_process_beats_each_minute_until_stopped(
    shop: Shop,  # noqa: F811
    clock: ManualClock,
) -> None:
    async def alive_at() -> datetime | None:
        async with shop.services.db.session() as session:
            row = await session.get(ReceiverHeartbeat, 1, populate_existing=True)
        return row.alive_at if row is not None else None

    async def asleep() -> bool:
        return clock.sleepers == 1

    stop = asyncio.Event()
    task = asyncio.create_task(watch(shop.services, stop))
    await until(asleep, "the first heartbeat")
    first = await alive_at()
    assert first is not None
    clock.advance(HEARTBEAT_SECONDS)

    async def beaten() -> bool:
        return (await alive_at() or first) > first and clock.sleepers == 1

    await until(beaten, "the next heartbeat")
    stop.set()
    await asyncio.wait_for(task, timeout=30)
    assert await _missed(shop.services) == []  # up throughout: nothing was missed


async def test_a_deactivated_installation_has_its_own_catch_up(
    shop: Shop,  # noqa: F811
    clock: ManualClock,
) -> None:
    await beat(shop.services)
    await shop.saleor.set_app_active(shop.app, False)  # paused: its resume replays the gap
    clock.advance(OUTAGE + 60)
    assert await beat(shop.services) == 0
    assert await _missed(shop.services) == []
