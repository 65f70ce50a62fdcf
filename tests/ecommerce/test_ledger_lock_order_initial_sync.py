"""An initial sync batch's apply locks the ledger records before it reads them
(`ledger_statements.locking`), as the other writers of many records do
(tests/ecommerce/test_ledger_lock_order.py): a live push that records newer content meanwhile,
or creates a record the batch holds, is pushed again rather than written over with the batch's
older content. PostgreSQL only."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select, update

from addon.db.types import utcnow
from addon.ecommerce.models import (
    EntityKind,
    Fingerprint,
    SyncRecord,
    SyncStatus,
)
from addon.ecommerce.record_states import settled
from addon.ecommerce.repository import LedgerRepository
from addon.initial_sync.models import BatchStatus, InitialSyncBatch
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import bursty, settle
from tests.ecommerce.test_ledger_lock_order import (
    WAITING_ON_A_LOCK,
    postgresql_only,
    push_queued,
)
from tests.initial_sync.conftest import first_batch_held
from tests.initial_sync.conftest import make_due as make_steps_due
from tests.worker_process import until

__all__ = ["bursty", "postgresql_only"]  # the fixtures, imported


async def steps_until_applied(shop: Shop, worker: Worker) -> None:
    """Initial sync steps run until every batch's results are in the ledger (the pushes the
    apply queues are left waiting)."""
    while True:
        async with shop.services.db.session() as session:
            statuses = set(await session.scalars(select(InitialSyncBatch.status)))
        if statuses == {BatchStatus.APPLIED}:
            return
        await make_steps_due(shop)
        assert await worker.run_once()


async def test_an_initial_sync_batch_applied_sees_a_push_committed_meanwhile(
    bursty: Shop,
) -> None:
    """The records are locked before they are read: a live push that recorded newer content
    while the batch's results were applied is pushed again, not written over with the batch's
    older content (before, the apply read the records unlocked and wrote after the push)."""
    shop = bursty
    shop.services.settings = shop.services.settings.model_copy(
        update={"ecommerce_batch_threshold": 1000, "initial_sync_poll_base_seconds": 0.0}
    )
    products = [await shop.product(f"Basil {i}", "2.00", "3.00") for i in range(3)]
    await settle(shop)  # each pushed: its record exists
    async with shop.services.db.transaction() as session:
        # Records Mailchimp holds nothing of (their pushes were quarantined, say): the
        # initial sync batches them.
        await session.execute(
            update(SyncRecord)
            .where(SyncRecord.kind == EntityKind.PRODUCT)
            .values(status=SyncStatus.QUARANTINED, mailchimp_id=None, content_hash=None)
        )
    worker = await first_batch_held(shop)
    shop.mailchimp.batches_paused = False
    await shop.mailchimp.drain_batches()
    await make_steps_due(shop)
    pushed = await shop.record(EntityKind.PRODUCT, products[1].global_id)
    assert pushed is not None

    async with shop.services.db.transaction() as push:
        # A live push records newer content, and has not committed yet.
        await push.execute(
            update(SyncRecord)
            .where(SyncRecord.id == pushed.id)
            .values(
                status=SyncStatus.SYNCED,
                mailchimp_id=str(products[1].id),
                content_hash="pushed-meanwhile",
                pushed_at=utcnow(),
                updated_at=utcnow(),
            )
        )
        applying = asyncio.ensure_future(steps_until_applied(shop, worker))

        async def waiting() -> bool:
            async with shop.services.db.session() as session:
                return bool(await session.scalar(WAITING_ON_A_LOCK))

        await until(waiting, "the apply to wait for the pushed record")
    await applying

    kept = await shop.record(EntityKind.PRODUCT, products[1].global_id)
    assert kept is not None
    # Overtaken: pushed again from Saleor's state, not recorded synced with the batch's.
    assert kept.status is SyncStatus.PENDING, (kept.status, kept.content_hash)
    assert await push_queued(shop, products[1].global_id)
    for product in (products[0], products[2]):
        other = await shop.record(EntityKind.PRODUCT, product.global_id)
        assert other is not None and other.status is SyncStatus.SYNCED


async def test_a_record_created_while_an_initial_sync_batch_is_applied_is_overtaken(
    bursty: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """None of the batch's records existed when the apply locked them; a live push creates
    and records one before the apply inserts them: the apply finds it, locked, and pushes it
    again rather than write the batch's older content over it (before, it settled it)."""
    shop = bursty
    shop.services.settings = shop.services.settings.model_copy(
        update={"ecommerce_batch_threshold": 1000, "initial_sync_poll_base_seconds": 0.0}
    )
    shop.saleor.generate_store(products=3, customers=0, orders=0, seed=9)
    raced = next(iter(shop.saleor.store.products.values()))
    worker = await first_batch_held(shop)
    shop.mailchimp.batches_paused = False
    await shop.mailchimp.drain_batches()
    inserting = LedgerRepository.labels_inserting
    pushed: list[int] = []

    async def live_push_first(self: LedgerRepository, *args: Any, **kwargs: Any) -> Any:
        if not pushed:
            async with shop.services.db.transaction() as session:
                installation_id = int(args[0])  # labels_inserting(installation_id, …)
                record = await LedgerRepository(session).get_or_create(
                    installation_id, "default-channel", EntityKind.PRODUCT, raced.global_id
                )
                settled(record, SyncStatus.SYNCED, str(raced.id), Fingerprint("live"), utcnow())
                await session.flush()
                pushed.append(record.id)
        return await inserting(self, *args, **kwargs)

    monkeypatch.setattr(LedgerRepository, "labels_inserting", live_push_first)

    await steps_until_applied(shop, worker)

    assert pushed
    kept = await shop.record(EntityKind.PRODUCT, raced.global_id)
    assert kept is not None
    assert kept.status is SyncStatus.PENDING, (kept.status, kept.content_hash)
    assert await push_queued(shop, raced.global_id)
