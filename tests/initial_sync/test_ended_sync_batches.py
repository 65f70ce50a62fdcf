"""An ended sync's batches still run at Mailchimp (it runs an account's batches one at a time,
in their turn): the sync watches them to their end before it lets go of `is_syncing`, applies
them so a live change made meanwhile wins, and hands to live sync what it cannot watch (a batch
Mailchimp no longer has)."""

from __future__ import annotations

from sqlalchemy import func, select

from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.initial_sync.models import BatchStatus, InitialSync, InitialSyncBatch, Phase
from addon.jobs.worker import Worker
from tests.conftest import RecordingTransport
from tests.ecommerce.batch_faults import BatchFaults
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.initial_sync.conftest import (
    _phase,
    finish,
    first_batch_held,
    hold_batches,
    is_syncing,
    make_due,
    run_jobs,
    start,
)


async def _cancel(shop: Shop) -> None:
    cancelled = await shop.api("DELETE", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"


def _first_names(shop: Shop) -> dict[str, str | None]:
    return {c.id: c.first_name for c in shop.mailchimp.customers(shop.account, shop.store_id)}


async def test_a_cancelled_syncs_batch_lands_under_a_live_change_made_meanwhile(
    small: Shop,
) -> None:
    shop = small
    shop.saleor.generate_store(products=5, customers=10, orders=0, seed=4)
    await start(shop)
    while await _phase(shop) is not Phase.CUSTOMERS:
        await run_jobs(shop, 1)
    hold_batches(shop)
    worker = Worker(shop.services)

    def held() -> list[str]:
        return [
            op.path.rsplit("/", 1)[-1]
            for batch in shop.mailchimp.batches(shop.account)
            if batch.status == "pending"
            for op in batch.operations
            if "/customers/" in op.path
        ]

    while not held():
        await make_due(shop)
        assert await worker.run_once()
    customer = shop.saleor.store.customers[int(held()[0])]
    await shop.saleor.update_customer(customer, first_name="Newest")
    while True:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        if record is not None and record.status is SyncStatus.SYNCED:
            break
        await make_due(shop)
        assert await worker.run_once()
    assert _first_names(shop)[str(customer.id)] == "Newest"  # pushed live

    await _cancel(shop)
    await make_due(shop)
    await worker.run_until_idle()
    # Mailchimp still holds the batch: the store's automations stay held back for it.
    assert is_syncing(shop)
    shop.mailchimp.batches_paused = False
    run = await finish(shop)
    assert run.status is RunStatus.CANCELLED and not is_syncing(shop)
    assert _first_names(shop)[str(customer.id)] == "Newest"
    record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED


async def test_a_product_deleted_while_a_cancelled_syncs_batch_waits_stays_hidden(
    small: Shop,
) -> None:
    shop = small
    shop.saleor.generate_store(products=5, customers=0, orders=0, seed=5)
    worker = await first_batch_held(shop)
    deleted = next(iter(shop.saleor.store.products.values()))
    await shop.saleor.delete_product(deleted)
    await make_due(shop)
    await worker.run_until_idle()
    await _cancel(shop)
    shop.mailchimp.batches_paused = False
    run = await finish(shop)
    assert run.status is RunStatus.CANCELLED and not is_syncing(shop)
    product = shop.products().get(str(deleted.id))
    assert product is None or all(v.visibility == "hidden" for v in product.variants)


async def test_a_batch_deleted_at_mailchimp_goes_to_live_sync_and_the_sync_succeeds(
    small: Shop,
) -> None:
    """`DELETE /batches/{batch_id}` (another tool, an admin) leaves a 404 where the batch was:
    its entities are pushed live, and the sync's other batches go on."""
    shop = small
    shop.saleor.generate_store(products=5, customers=3, orders=0, seed=5)
    worker = await first_batch_held(shop)
    batch = shop.mailchimp.batches(shop.account)[0]
    deleted = await shop.mailchimp.call(shop.account, "DELETE", f"/batches/{batch.id}")
    assert deleted.status == 204, deleted.body
    shop.mailchimp.batches_paused = False
    await make_due(shop)
    await worker.run_until_idle()
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert set(shop.products()) == {str(p.id) for p in shop.saleor.store.products.values()}


async def test_a_cancelled_syncs_lost_batch_goes_to_live_sync_once_it_can_no_longer_run(
    small: Shop, outbound: RecordingTransport
) -> None:
    """A batch whose `POST /batches` answer was lost may be at Mailchimp under an id never
    learnt: an ended sync waits until Mailchimp lists none it may be, then, its content in
    Mailchimp unknown, pushes its entities live (never sending it again), and lets go."""
    shop = small
    faults = BatchFaults.install(outbound, shop.mailchimp, shop.account)
    shop.saleor.generate_store(products=0, customers=4, orders=0, seed=4)
    await start(shop)
    await run_jobs(shop, 1)  # the store is flagged
    hold_batches(shop)
    faults.mode, faults.posts = "lose", 0
    worker = Worker(shop.services)
    await make_due(shop)
    assert await worker.run_once()
    faults.mode = "off"
    assert faults.posts == 1
    [sent] = [r for r in shop.mailchimp.batches(shop.account)]
    customer = shop.saleor.store.customers[int(sent.operations[0].path.rsplit("/", 1)[-1])]
    await shop.saleor.update_customer(customer, first_name="Newest")
    await _cancel(shop)
    await make_due(shop)
    await worker.run_until_idle()
    assert is_syncing(shop)  # the lost batch may still run
    shop.mailchimp.batches_paused = False
    run = await finish(shop)
    assert run.status is RunStatus.CANCELLED and not is_syncing(shop)
    assert faults.posts == 1  # never sent again
    assert _first_names(shop)[str(customer.id)] == "Newest"
    record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED


async def test_a_sync_settling_after_its_cancel_leaves_the_flag_to_a_new_one(
    small: Shop,
) -> None:
    """A sync may start while a cancelled one still watches its batches at Mailchimp: the
    last of them to let go clears `is_syncing`, never the first (the new sync's history went
    out with the store's automations on)."""
    shop = small
    shop.saleor.generate_store(products=5, customers=3, orders=0, seed=5)
    worker = await first_batch_held(shop)
    await _cancel(shop)
    await start(shop)
    await make_due(shop)
    await worker.run_until_idle()
    async with shop.services.db.session() as session:
        cancelled = await session.scalar(select(func.min(InitialSync.id)))
        held = await session.scalars(
            select(InitialSyncBatch.mailchimp_batch_id).where(
                InitialSyncBatch.sync_id == cancelled,
                InitialSyncBatch.status == BatchStatus.SUBMITTED,
            )
        )
        old = list(held)
    assert old
    for batch_id in old:  # gone at Mailchimp: the cancelled sync has nothing left to watch
        deleted = await shop.mailchimp.call(shop.account, "DELETE", f"/batches/{batch_id}")
        assert deleted.status == 204
    await make_due(shop)
    await worker.run_until_idle()
    async with shop.services.db.session() as session:
        runs = list(await session.scalars(select(InitialSync).order_by(InitialSync.id)))
    assert [(r.status, r.store_flagged) for r in runs] == [
        (RunStatus.CANCELLED, False),
        (RunStatus.RUNNING, True),
    ]
    assert is_syncing(shop)  # still the new sync's
    shop.mailchimp.batches_paused = False
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED and not is_syncing(shop)
