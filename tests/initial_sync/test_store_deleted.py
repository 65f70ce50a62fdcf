"""A channel's Mailchimp store deleted in Mailchimp while its initial sync runs: the sync ends
with a message saying so (and what to do), and no job keeps asking Mailchimp to clear a flag
the store took with it (`addon/initial_sync/jobs.py`, `step.py`). Before, it ran on into the
dead store, failed with Mailchimp's raw 404, and its ended step retried the 404 for ever."""

from __future__ import annotations

from sqlalchemy import select

from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.stores_repository import StoreRepository
from addon.initial_sync.models import InitialSync
from addon.initial_sync.state import STEP_JOB
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.initial_sync.conftest import first_batch_held, make_due, progress, start

MESSAGE = (
    "The Mailchimp store for Default Channel was deleted in Mailchimp while the sync ran. "
    "Re-create it on the channel's card (Re-create the store), then start the initial sync "
    "again."
)


async def _latest(shop: Shop) -> InitialSync:
    async with shop.services.db.session() as session:
        run = await session.scalar(select(InitialSync).order_by(InitialSync.id.desc()))
    assert run is not None
    return run


async def _steps_left(shop: Shop) -> list[Job]:
    async with shop.services.db.session() as session:
        jobs = await session.scalars(
            select(Job).where(Job.kind == STEP_JOB, Job.status != JobStatus.DONE)
        )
        return list(jobs)


async def _delete_store(shop: Shop) -> None:
    deleted = await shop.mailchimp.call(
        shop.account, "DELETE", f"/ecommerce/stores/{shop.store_id}"
    )
    assert deleted.status == 204


async def _rounds(shop: Shop, worker: Worker, rounds: int) -> None:
    for _ in range(rounds):
        await shop.mailchimp.drain_batches()
        await make_due(shop)
        await worker.run_until_idle()


async def _flagged(shop: Shop) -> Worker:
    """A sync started on an empty channel, its first step run (`is_syncing` set)."""
    await start(shop)
    worker = Worker(shop.services)
    while not (await _latest(shop)).store_flagged:
        assert await worker.run_once()
    return worker


async def _settled(shop: Shop, worker: Worker) -> None:
    """The sync ended for good: its flag let go, no step left to retry, nothing more asked."""
    run = await _latest(shop)
    assert run.status is RunStatus.FAILED
    assert run.error == MESSAGE
    assert not run.store_flagged
    assert await _steps_left(shop) == []
    asked = len(shop.mailchimp.requests)
    await _rounds(shop, worker, 5)
    assert len(shop.mailchimp.requests) == asked
    assert (await progress(shop))["summary"] == f"Failed: {MESSAGE}"


async def test_the_sync_ends_once_live_sync_finds_the_store_deleted(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=30, customers=30, orders=60, seed=4)
    worker = await first_batch_held(shop)
    await _delete_store(shop)
    shop.mailchimp.batches_paused = False
    # The batch's operations are refused (404), handed to live sync, whose pushes find the
    # store gone and record it (`store_state.confirm_missing`): the sync's next step ends it.
    await _rounds(shop, worker, 20)
    installation_id = (await _latest(shop)).installation_id
    async with shop.services.db.session() as session:
        store = await StoreRepository(session).get(installation_id, CHANNEL)
    assert store is not None and store.missing_since is not None
    # Ended then: it read no further pages to send into the dead store (the orders, read once
    # every product batch is applied).
    assert "order" not in (await _latest(shop)).progress
    await _settled(shop, worker)


async def test_the_sync_ends_when_its_last_step_finds_the_store_deleted(shop: Shop) -> None:
    """Nothing was handed to live sync: clearing `is_syncing` is what finds the store gone."""
    worker = await _flagged(shop)
    await _delete_store(shop)
    await _rounds(shop, worker, 3)
    installation_id = (await _latest(shop)).installation_id
    async with shop.services.db.session() as session:
        store = await StoreRepository(session).get(installation_id, CHANNEL)
    assert store is not None and store.missing_since is not None  # the channel's card says so
    await _settled(shop, worker)


async def test_a_cancelled_sync_lets_go_of_a_store_deleted_in_mailchimp(shop: Shop) -> None:
    worker = await _flagged(shop)
    await _delete_store(shop)
    cancelled = await shop.api("DELETE", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
    assert cancelled.status_code == 200, cancelled.text
    await _rounds(shop, worker, 3)
    run = await _latest(shop)
    assert run.status is RunStatus.CANCELLED
    assert not run.store_flagged
    assert await _steps_left(shop) == []
