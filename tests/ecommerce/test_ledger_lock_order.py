"""Writers of many ledger records on PostgreSQL lock them in id order, and before they write any
(`ledger_statements.locking`), as marking records pending and a burst's apply do: a writer
holding one record while it waits for another of a lower id could deadlock with one of those,
and PostgreSQL would fail one of the two. Here: a burst's batch recorded, orphaned bursts
handed back, a live order push, a resync, a store recreated and a burst's leader quarantined;
an initial sync batch's apply is in tests/ecommerce/test_ledger_lock_order_initial_sync.py.

Each test holds a record's row in a transaction of its own (as a push recording its outcome
does), lets the writer run into it, and looks at which of the other rows it holds meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest
from sqlalchemy import func, select, text, update

from addon.db.types import utcnow
from addon.ecommerce.burst_release import release_unsent
from addon.ecommerce.models import (
    PUSH_JOB,
    BurstBatch,
    EntityKind,
    SyncRecord,
    SyncStatus,
)
from addon.ecommerce.push_queue import enqueue_push
from addon.ecommerce.push_request import PushRequest
from addon.jobs.models import Job, JobStatus
from addon.jobs.schemas import ClaimedJob
from addon.jobs.worker import Worker
from sandboxes.saleor.models import Product as SaleorProduct
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import batch_calls, bursty, reading_batch, settle
from tests.ecommerce.test_burst_rerun import led_by, out_of_lapses
from tests.ecommerce.test_store_state import delete_store_in_mailchimp
from tests.worker_process import until

__all__ = ["bursty"]  # the fixture, imported

PRODUCT_WEBHOOKS = "webhook.ecommerce-products"
WAITING_ON_A_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


@pytest.fixture(autouse=True)
def postgresql_only(shop: Shop) -> None:
    if shop.services.db.is_sqlite:
        pytest.skip("row locks: PostgreSQL only")


async def free(shop: Shop, record_ids: list[int]) -> list[int]:
    """Those of the records no transaction holds now."""
    async with shop.services.db.transaction() as session:
        taken = await session.scalars(
            select(SyncRecord.id)
            .where(SyncRecord.id.in_(record_ids))
            .with_for_update(skip_locked=True)
        )
        return sorted(taken)


async def pending(shop: Shop, kind: str) -> int:
    """Jobs of `kind` (a LIKE pattern) waiting."""
    async with shop.services.db.session() as session:
        waiting = select(func.count()).where(Job.kind.like(kind), Job.status == JobStatus.PENDING)
        return int(await session.scalar(waiting) or 0)


async def push_queued(shop: Shop, saleor_id: str) -> bool:
    """A push of the entity's record waits."""
    async with shop.services.db.session() as session:
        queued = await session.scalar(
            select(Job.id).where(
                Job.kind == PUSH_JOB,
                Job.status == JobStatus.PENDING,
                Job.coalesce_key.contains(saleor_id),
            )
        )
    return queued is not None


async def synced_products(shop: Shop, name: str, count: int) -> dict[int, SaleorProduct]:
    """`count` products pushed to Mailchimp, by their ledger record's id."""
    products = [await shop.product(f"{name} {i}", "2.00", "3.00") for i in range(count)]
    await settle(shop)
    records = {}
    for product in products:
        record = await shop.record(EntityKind.PRODUCT, product.global_id)
        assert record is not None
        records[record.id] = product
    return records


async def holding(
    shop: Shop, record_id: int, write: Awaitable[object], watched: list[int]
) -> list[int]:
    """Run `write` while a transaction of the test's holds the record `record_id`; answer
    those of the `watched` records that stayed free while `write` waited for it."""
    async with shop.services.db.transaction() as holder:
        await holder.execute(
            update(SyncRecord).where(SyncRecord.id == record_id).values(updated_at=utcnow())
        )
        writing = asyncio.ensure_future(write)

        async def waiting() -> bool:
            async with shop.services.db.session() as session:
                return bool(await session.scalar(WAITING_ON_A_LOCK))

        await until(waiting, "the write to wait for the held record")
        still_free = await free(shop, watched)
    await writing
    return still_free


async def test_recording_a_submitted_batch_locks_its_records_in_id_order(bursty: Shop) -> None:
    """A batch planned from the highest record down: while its recording waits for the highest
    one, it holds every other already (before, it wrote them in the batch's order: it held
    none, and would have taken them after the highest)."""
    shop = bursty
    records = await synced_products(shop, "Sage", 5)
    # Changed highest record first: the burst's leader, the others taken over after it.
    for record_id in sorted(records, reverse=True):
        product = records[record_id]
        await shop.saleor.update_product(product, name=f"{product.name} v2")
    worker = Worker(shop.services)
    while await pending(shop, PRODUCT_WEBHOOKS):
        assert await worker.run_once()  # marked pending, their pushes queued
    start = len(shop.mailchimp.requests)
    shop.mailchimp.batches_paused = True

    highest, *others = sorted(records, reverse=True)
    still_free = await holding(shop, highest, worker.run_once(), others)

    assert still_free == []
    assert batch_calls(shop, start) == 1
    async with shop.services.db.session() as session:
        row = await session.scalar(select(BurstBatch))
        assert row is not None and row.mailchimp_batch_id is not None  # recorded


async def test_orphaned_bursts_are_handed_back_each_in_a_transaction_of_its_own(
    bursty: Shop,
) -> None:
    """Two orphaned bursts, the first with the higher records: while the second's hand-back
    waits for one of its records, the first's are free (handed back and committed). Before,
    both went back in one transaction: it held the first's records while it waited."""
    shop = bursty
    customers = [
        await shop.saleor.create_customer(f"orphan{i}@example.com", f"Orphan{i}", "Last")
        for i in range(4)
    ]
    await settle(shop)
    by_id = {}
    for customer in customers:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None
        by_id[record.id] = customer.global_id
    lower, higher = sorted(by_id)[:2], sorted(by_id)[2:]
    installation_id = record.installation_id
    async with shop.services.db.transaction() as session:
        await enqueue_push(session, installation_id, "default-channel", EntityKind.PRODUCT, "P")
        leader = await session.scalar(select(Job).where(Job.kind == PUSH_JOB))
        assert leader is not None
        # Their leader is done: it will not run again (orphans).
        await session.execute(update(Job).values(status=JobStatus.DONE, coalesce_key=None))
        for ids in (higher, lower):  # the first burst's row has the lower id
            saleor_ids = [by_id[i] for i in ids]
            row = reading_batch(
                installation_id, EntityKind.CUSTOMER, leader.id, saleor_ids, utcnow()
            )
            session.add(row)
            await session.flush()
    job = ClaimedJob(
        id=leader.id + 1000,
        installation_id=installation_id,
        kind=PUSH_JOB,
        payload={},
        attempts=1,
    )
    keep = PushRequest(channel="default-channel", kind=EntityKind.PRODUCT, saleor_id="P")

    waited_for = max(lower)
    watched = [i for i in by_id if i != waited_for]
    still_free = await holding(
        shop, waited_for, release_unsent(shop.services, job, keep=keep), watched
    )

    assert still_free == higher
    async with shop.services.db.session() as session:
        assert list(await session.scalars(select(BurstBatch))) == []
    for record_id, saleor_id in by_id.items():
        record = await shop.record(EntityKind.CUSTOMER, saleor_id)
        assert record is not None and record.status is SyncStatus.PENDING, record_id


async def test_a_live_order_push_queues_its_products_in_id_order(bursty: Shop) -> None:
    """An order whose lines list its products from the highest record down: while its push's
    last transaction waits for the highest product, it holds the lower one already (before,
    it marked them pending in the lines' order: one at a time, the highest first), as a burst
    of orders does."""
    shop = bursty
    records = await synced_products(shop, "Mint", 2)
    highest, lowest = sorted(records, reverse=True)
    lines = [shop.saleor.order_line(records[i].variants[0], 1) for i in (highest, lowest)]
    await shop.saleor.create_order(lines=lines, email="mint@example.com", paid=False)
    worker = Worker(shop.services)
    while await pending(shop, "webhook.%"):
        # The order's webhooks handled: its push queued, alone (below the burst threshold).
        assert await worker.run_once()

    still_free = await holding(shop, highest, worker.run_once(), [lowest])

    assert still_free == []
    assert len(shop.orders()) == 1  # the push went on once let through


async def channel_out_of_order(
    shop: Shop, name: str
) -> tuple[dict[int, SaleorProduct], int, list[int]]:
    """Ten products synced, their records' ids sorted otherwise by Saleor id and in the table
    (the lower ones written since): the products by record id, the highest record's id, and
    the others'."""
    records = await synced_products(shop, name, 10)
    highest, *others = sorted(records, reverse=True)
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(SyncRecord).where(SyncRecord.id.in_(others)).values(updated_at=utcnow())
        )
    return records, highest, others


async def test_a_resync_locks_the_channels_records_in_id_order(bursty: Shop) -> None:
    """The admin's resync marks every record of the channel pending: while it waits for the
    highest, it holds the others already (before, one UPDATE took them in its scan's order,
    not the ids': ten products' Saleor ids sort otherwise, "UHJvZHVjdDoxMA==" second, and the
    lower records, written since, lie after the highest in the table)."""
    shop = bursty
    records, highest, others = await channel_out_of_order(shop, "Rye")
    answers: list[int] = []

    async def resync() -> None:
        url = "/api/ecommerce/channels/default-channel/resync"
        answers.append((await shop.api("POST", url, {"kind": "product"})).status_code)

    still_free = await holding(shop, highest, resync(), others)

    assert still_free == []
    assert answers == [200]
    for saleor_id in (product.global_id for product in records.values()):
        assert await push_queued(shop, saleor_id)


async def test_a_quarantined_leader_locks_its_record_with_those_it_hands_back(
    bursty: Shop,
) -> None:
    """A burst's leader given up hands the records it took over back in the transaction that
    quarantines its own: while that waits for the lowest, it holds none above, its own (the
    highest) included (before, its own was written first, then the others in id order)."""
    shop = bursty
    customers, _, leader = await led_by(shop, "thyme", leader_index=2)
    await out_of_lapses(shop, leader.id)
    lowest, middle, own = [await shop.record(EntityKind.CUSTOMER, c.global_id) for c in customers]
    assert lowest is not None and middle is not None and own is not None
    assert lowest.id < middle.id < own.id

    still_free = await holding(shop, lowest.id, Worker(shop.services).run_once(), [own.id])

    assert still_free == [own.id]
    quarantined = await shop.record(EntityKind.CUSTOMER, customers[2].global_id)
    assert quarantined is not None and quarantined.status is SyncStatus.QUARANTINED
    for customer in customers[:2]:
        assert await push_queued(shop, customer.global_id)


async def test_recreating_a_store_locks_the_channels_records_in_id_order(bursty: Shop) -> None:
    """Recreating a store Mailchimp lost forgets what it held of every record, then queues them
    all: while it waits for the highest, it holds the others (as a resync)."""
    shop = bursty
    _, highest, others = await channel_out_of_order(shop, "Oat")
    await delete_store_in_mailchimp(shop)
    assert (await shop.api("POST", "/api/ecommerce/stores/check")).status_code == 200
    answers: list[int] = []

    async def recreate() -> None:
        url = "/api/ecommerce/channels/default-channel/store/recreate"
        answers.append((await shop.api("POST", url)).status_code)

    still_free = await holding(shop, highest, recreate(), others)

    assert still_free == []
    assert answers == [200]
