"""A running initial sync survives a deactivation longer than its stall time
(`INITIAL_SYNC_STALL_SECONDS`): while the installation's processing is paused none of its jobs
run, the watchdog included, so the time paused is no stall; once processing resumes the sync
carries on instead of being failed by its watchdog ("The sync stopped making progress.")."""

from __future__ import annotations

from sqlalchemy import select

from addon.clock import ManualClock
from addon.ecommerce.channel_state import RunStatus
from addon.initial_sync.models import InitialSync
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_refused_while_deactivating import (  # noqa: F401
    PRODUCTION_BACKOFF,
    _installation,
    _run_for,
    saleor,
)
from tests.initial_sync.conftest import start


async def _run(shop: Shop) -> InitialSync:
    async with shop.services.db.session() as session:
        return (await session.execute(select(InitialSync))).scalar_one()


async def test_a_deactivation_longer_than_the_stall_time_does_not_fail_the_sync(
    small: Shop, clock: ManualClock
) -> None:
    shop = small
    services = shop.services
    services.settings = services.settings.model_copy(update=PRODUCTION_BACKOFF)
    for i in range(5):
        await shop.product(f"Fruit{i}", "3.00")
    await Worker(services).run_until_idle()
    await start(shop)
    await shop.saleor.set_app_active(shop.app, False)  # mid-sync
    worker = Worker(services)
    await _run_for(shop, clock, 90, worker)
    assert (await _installation(services)).is_active is False
    assert (await _run(shop)).status is RunStatus.RUNNING

    # Deactivated for a day: far longer than the stall time.
    for _ in range(24):
        clock.advance(3600)
        await _run_for(shop, clock, 4, worker)
    assert (await _installation(services)).is_active is False
    assert (await _run(shop)).status is RunStatus.RUNNING, (await _run(shop)).error

    await shop.saleor.set_app_active(shop.app, True)
    for _ in range(3):
        clock.advance(3600)
        await _run_for(shop, clock, 20, worker)
    run = await _run(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
