"""Applying a finished batch's results and a record's own push meet on PostgreSQL, where they
run in parallel: the apply locks the batch's ledger records before it reads them (in id order,
as every other writer of many records), so a push that recorded newer content meanwhile is seen
(the record is overtaken: pushed once more), never written over with the batch's older
fingerprint. Before, the apply read the records unlocked, waited on the push's row lock only
when writing, and then wrote the batch's fingerprint over the push's: the ledger said Mailchimp
held content it did not (a change back to it would never be sent).

The push is a transaction of the test's own, holding the record's row as a push recording its
outcome does; it commits once the apply waits for it (seen in PostgreSQL's lock waits)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text, update

from addon.db.types import utcnow
from addon.ecommerce.burst_queue import BURST_JOB
from addon.ecommerce.models import PUSH_JOB, EntityKind, SyncRecord, SyncStatus
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import batch_calls, bursty, make_due, settle  # noqa: F401
from tests.worker_process import until

WAITING_ON_A_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def test_a_push_committed_while_the_batch_is_applied_is_not_written_over(
    bursty: Shop,  # noqa: F811
) -> None:
    shop = bursty
    if shop.services.db.is_sqlite:
        pytest.skip("parallel transactions: PostgreSQL only")
    products = [await shop.product(f"Thyme {i}", "2.00", "3.00") for i in range(5)]
    await settle(shop)
    for product in products:
        await shop.saleor.update_product(product, name=f"{product.name} v2")
    shop.mailchimp.batches_paused = True
    start = len(shop.mailchimp.requests)
    await Worker(shop.services).run_until_idle()  # read and submitted; Mailchimp holds it
    assert batch_calls(shop, start) == 1
    shop.mailchimp.batches_paused = False
    await shop.mailchimp.drain_batches()
    assert await make_due(shop, (BURST_JOB,)) == 1
    pushed = products[2]
    record = await shop.record(EntityKind.PRODUCT, pushed.global_id)
    assert record is not None

    async with shop.services.db.transaction() as push:
        # Its own push records newer content, and has not committed yet.
        await push.execute(
            update(SyncRecord)
            .where(SyncRecord.id == record.id)
            .values(content_hash="pushed-meanwhile", pushed_at=utcnow())
        )
        applying = asyncio.create_task(Worker(shop.services).run_once())

        async def waiting() -> bool:
            async with shop.services.db.session() as session:
                return bool(await session.scalar(WAITING_ON_A_LOCK))

        await until(waiting, "the apply to wait for the pushed record")
    assert await applying == 1

    kept = await shop.record(EntityKind.PRODUCT, pushed.global_id)
    assert kept is not None
    # Overtaken: not recorded synced with the batch's content; pushed once more from Saleor's
    # state.
    assert kept.status is SyncStatus.PENDING, (kept.status, kept.content_hash)
    async with shop.services.db.session() as session:
        queued = await session.scalar(
            select(Job.id).where(
                Job.kind == PUSH_JOB,
                Job.status == JobStatus.PENDING,
                Job.coalesce_key.contains(pushed.global_id),
            )
        )
    assert queued is not None
    for product in products:
        if product is not pushed:
            other = await shop.record(EntityKind.PRODUCT, product.global_id)
            assert other is not None and other.status is SyncStatus.SYNCED
