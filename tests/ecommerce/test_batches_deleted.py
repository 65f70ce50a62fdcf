"""A batch deleted at Mailchimp (`DELETE /batches/{batch_id}`: by another tool or an admin; it
stops the batch, and its results "will not be available after this call", Mailchimp's spec)
answers 404 where it was. Nothing of it can run or be known any more: what it carried is sent
again at once, not given up after every look at it has failed. (An initial sync's batch:
tests/initial_sync/test_ended_sync_batches.py.)"""

from __future__ import annotations

from sqlalchemy import func, select

from addon.ecommerce.burst_queue import BURST_JOB
from addon.ecommerce.models import BurstBatch, EntityKind, SyncStatus
from addon.jobs.models import Job
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import CHANNEL, Shop, choose, codes, run_all
from tests.ecommerce.test_burst import bursty, make_due

__all__ = ["bursty"]  # the fixture, imported


async def _delete(shop: Shop, batch_id: str) -> None:
    deleted = await shop.mailchimp.call(shop.account, "DELETE", f"/batches/{batch_id}")
    assert deleted.status == 204, deleted.body


async def test_a_bursts_records_are_pushed_one_each(
    bursty: Shop,
) -> None:
    shop = bursty
    shop.mailchimp.batches_paused = True
    products = [await shop.product(f"Herb {i}", "2.00") for i in range(5)]
    worker = Worker(shop.services)
    await worker.run_until_idle()  # the burst is read and submitted; Mailchimp holds it
    [held] = shop.mailchimp.batches(shop.account)
    await _delete(shop, held.id)
    shop.mailchimp.batches_paused = False
    await make_due(shop)
    await worker.run_until_idle()
    assert set(shop.products()) == {str(p.id) for p in products}
    for product in products:
        record = await shop.record(EntityKind.PRODUCT, product.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED
    async with shop.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(BurstBatch)) == 0
        failed = await session.scalars(select(Job.last_error).where(Job.kind == BURST_JOB))
        assert [error for error in failed if error] == []


async def test_a_vouchers_codes_are_sent_again(shop: Shop) -> None:
    await choose(shop, "all")
    shop.mailchimp.batches_paused = True
    names = [f"GONE{i:03}" for i in range(60)]
    voucher = await shop.saleor.vouchers.create("Gone", names, channels={CHANNEL: 3})
    await Worker(shop.services).run_until_idle()
    [held] = [b for b in shop.mailchimp.batches(shop.account) if b.status == "pending"]
    await _delete(shop, held.id)
    shop.mailchimp.batches_paused = False
    await run_all(shop)
    assert set(await codes(shop, voucher)) == set(names)
    record = await shop.record(EntityKind.PROMO_RULE, voucher.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED


async def test_a_vouchers_codes_are_sent_again_when_the_results_expired(shop: Shop) -> None:
    """The code batch ran, but its results archive expired before the poll read it (the
    worker away over ten minutes): as a deleted batch's, its codes are sent again, not the
    poll failed as a Mailchimp refusal of the account's role or plan."""
    await choose(shop, "all")
    shop.mailchimp.batches_paused = True
    names = [f"LATE{i:03}" for i in range(60)]
    voucher = await shop.saleor.vouchers.create("Late", names, channels={CHANNEL: 3})
    await Worker(shop.services).run_until_idle()
    shop.mailchimp.batches_paused = False
    await shop.mailchimp.drain_batches()
    shop.mailchimp.clock.advance(shop.mailchimp.batch_result_ttl + 1)
    await run_all(shop)
    assert set(await codes(shop, voucher)) == set(names)
    record = await shop.record(EntityKind.PROMO_RULE, voucher.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED
    async with shop.services.db.session() as session:
        errors = list(
            await session.scalars(select(Job.last_error).where(Job.last_error.is_not(None)))
        )
    assert not [e for e in errors if "403" in e], errors
