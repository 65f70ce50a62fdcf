"""`addon sync` watching a sync whose store stops being processed meanwhile (the app deactivated
or uninstalled in Saleor): no worker claims the installation's jobs any more, so the sync cannot
end while watched; the command stops watching, says why, and exits as a start refused for a
paused installation does."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from addon.ecommerce.channel_state import RunStatus
from addon.initial_sync.cli import EXIT_REFUSED
from addon.initial_sync.models import InitialSync
from addon.installations.models import Installation
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.initial_sync.test_cli import sync

DEACTIVATED = {"is_active": False}
UNINSTALLED = {"is_active": False, "uninstalled_at": datetime(2026, 1, 1, tzinfo=UTC)}


@pytest.fixture
def watched_shop(small: Shop) -> Shop:
    """The small-batch shop whose in-process worker polls often (test_cli.py's `cli_shop`)."""
    settings = small.services.settings
    small.services.settings = settings.model_copy(update={"worker_poll_interval_seconds": 0.01})
    return small


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (DEACTIVATED, "Processing is paused for"),
        (UNINSTALLED, "The app was uninstalled from"),
    ],
)
async def test_watching_ends_when_the_store_stops_being_processed_mid_sync(
    watched_shop: Shop, change: dict[str, object], said: str
) -> None:
    shop = watched_shop
    shop.saleor.generate_store(products=30, customers=5, orders=5, seed=8)
    shop.mailchimp.batches_paused = True  # the sync cannot end by itself while watched

    async def stop_processing_once_a_batch_is_in_flight() -> None:
        while True:
            response = await shop.api("GET", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
            if response.status_code == 200 and response.json()["batches_in_flight"]:
                async with shop.services.db.transaction() as session:
                    await session.execute(update(Installation).values(**change))
                shop.mailchimp.batches_paused = False  # Mailchimp would let it finish now
                return
            await asyncio.sleep(0.01)  # yields to the command; the sync's TIMEOUT bounds it

    changing = asyncio.create_task(stop_processing_once_a_batch_is_in_flight())
    run = await sync(shop, settle_seconds=1)
    await changing
    assert run.code == EXIT_REFUSED, run
    assert said in run.text
    assert "Traceback" not in run.text
    async with shop.services.db.session() as session:
        status = (await session.execute(select(InitialSync.status))).scalar_one()
    assert status is RunStatus.RUNNING  # it waits for the store: not failed
