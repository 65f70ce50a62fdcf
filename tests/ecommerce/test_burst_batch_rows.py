"""Burst absorption (tests/ecommerce/test_burst.py), the batch's row (`BurstBatch`): it keeps
the operations of the records in the batch only, written once when all of them go in; a burst
of records Mailchimp holds unchanged is recorded with no batch; a channel moved to another
store drops the old store's rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, select

from addon.ecommerce.models import BurstBatch, BurstStatus, EntityKind, SyncStatus
from addon.ecommerce.push_queue import enqueue_pushes
from addon.jobs.models import Job
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import assert_all_synced, batch_calls, bursty, settle
from tests.sandbox_mailchimp.helpers import list_body

__all__ = ["bursty"]  # the fixture, imported


async def test_a_channel_moved_to_another_store_drops_the_old_stores_batches(bursty: Shop) -> None:
    shop = bursty
    shop.mailchimp.batches_paused = True
    for i in range(5):
        await shop.saleor.create_customer(f"m{i}@example.com", f"M{i}", "Last")
    await Worker(shop.services).run_until_idle()  # the burst is at Mailchimp, for the old store
    created = await shop.mailchimp.call(shop.account, "POST", "/lists", body=list_body("Other"))
    response = await shop.api(
        "PUT",
        "/api/ecommerce/channels/default-channel",
        {"tracked": True, "list_id": created.body["id"]},
    )
    assert response.status_code == 200, response.text
    async with shop.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(BurstBatch)) == 0
    shop.mailchimp.batches_paused = False
    await settle(shop)  # the old batch's poll finds nothing to apply
    async with shop.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(BurstBatch)) == 0


async def test_a_batch_whose_records_all_go_in_writes_their_operations_once(
    bursty: Shop,
) -> None:
    """The batch's row keeps each record's operations (JSON, a few hundred records' worth)
    from when it is sent; recording its submission writes them again only when some record
    stayed out of it (unchanged, or handed to a push of its own)."""
    shop = bursty
    customers = [
        await shop.saleor.create_customer(f"w{i}@example.com", f"First{i}", "Last")
        for i in range(5)
    ]
    writes: list[str] = []

    def record(*args: Any) -> None:
        statement = str(args[2])
        if statement.startswith("UPDATE ecommerce_burst_batches") and "records=" in statement:
            writes.append(statement)

    engine = shop.services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        await settle(shop)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    await assert_all_synced(shop, customers)
    assert len(writes) == 1


async def test_a_batch_row_keeps_the_operations_of_the_records_in_the_batch_only(
    bursty: Shop,
) -> None:
    """A record left out of the batch (here: delivered again with nothing changed, so only
    the ledger catches up) is not in the row the batch's results are applied from."""
    shop = bursty
    customers = [
        await shop.saleor.create_customer(f"k{i}@example.com", f"First{i}", "Last")
        for i in range(5)
    ]
    await settle(shop)
    for customer in customers[:4]:
        await shop.saleor.update_customer(customer, last_name="Changed")
    # Delivered again with nothing changed (Saleor's customerUpdate sends nothing for no change
    # since 3.22.18 / 3.23.0: another event of the customer, or a retried delivery).
    await shop.saleor.emit("CUSTOMER_UPDATED", customers[4])
    await Worker(shop.services).run_until_idle()  # submitted; Mailchimp has not run it yet
    async with shop.services.db.session() as session:
        rows = list(await session.scalars(select(BurstBatch)))
    assert [row.status for row in rows] == [BurstStatus.SUBMITTED]
    assert set(rows[0].records) == {customer.global_id for customer in customers[:4]}
    await settle(shop)
    await assert_all_synced(shop, customers)


async def test_a_burst_of_unchanged_records_is_recorded(bursty: Shop) -> None:
    """Pushes of records whose content Mailchimp holds already (Saleor sent webhooks that
    changed nothing Mailchimp is sent): the burst records them synced, several at once, with
    no batch. (On PostgreSQL, recording more than one failed, every time, before.)"""
    shop = bursty
    products = [await shop.product(f"Dill {i}", "2.00", "3.00") for i in range(5)]
    await settle(shop)
    first = await shop.record(EntityKind.PRODUCT, products[0].global_id)
    assert first is not None
    async with shop.services.db.transaction() as session:
        pushes = [("default-channel", EntityKind.PRODUCT, p.global_id) for p in products]
        await enqueue_pushes(session, first.installation_id, pushes)
    start = len(shop.mailchimp.requests)

    await Worker(shop.services).run_until_idle()

    assert batch_calls(shop, start) == 0
    for product in products:
        record = await shop.record(EntityKind.PRODUCT, product.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED
        assert record.attempts == 0
    async with shop.services.db.session() as session:
        failed = select(Job.id).where(Job.last_error.is_not(None))
        assert list(await session.scalars(failed)) == []
