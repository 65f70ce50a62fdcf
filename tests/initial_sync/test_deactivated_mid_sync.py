"""A running initial sync does not fail when the app is deactivated for a moment before Saleor
3.23.5 (`addon.installations.token_doubt`): its step, refused by Saleor until the lifecycle
check confirms the refusal (60 s) and pauses processing, waits uncounted instead of giving up
after `INITIAL_SYNC_MAX_ATTEMPTS` runs, and the sync carries on once the app is active again."""

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


async def test_a_short_deactivation_does_not_fail_a_running_initial_sync(
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
    async with services.db.session() as session:
        run = (await session.execute(select(InitialSync))).scalar_one()
    assert run.status is RunStatus.RUNNING, run.error

    await shop.saleor.set_app_active(shop.app, True)
    for _ in range(3):
        clock.advance(3600)
        await _run_for(shop, clock, 20, worker)
    async with services.db.session() as session:
        run = (await session.execute(select(InitialSync))).scalar_one()
    assert run.status is RunStatus.SUCCEEDED, run.error
