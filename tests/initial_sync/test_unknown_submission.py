"""An initial-sync batch whose `POST /batches` has an unknown outcome: sent once, held `unknown`
until Mailchimp lists no unfinished batch it may be, then sent again by the normal resend; a
lost batch running late cannot leave older content behind."""

from __future__ import annotations

from sqlalchemy import select

from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.initial_sync.models import BatchStatus, InitialSyncBatch
from addon.jobs.models import Job
from addon.jobs.worker import Worker
from tests.conftest import RecordingTransport
from tests.ecommerce.batch_faults import BatchFaults
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import (
    assert_equal_to_saleor,
    creations,
    finish,
    make_due,
    progress,
    run_jobs,
    start,
)


async def batches(shop: Shop) -> list[InitialSyncBatch]:
    async with shop.services.db.session() as session:
        return list(await session.scalars(select(InitialSyncBatch).order_by(InitialSyncBatch.id)))


async def test_a_503_to_post_batches_is_sent_once_and_sent_again_when_none_can_run(
    small: Shop, outbound: RecordingTransport
) -> None:
    shop = small
    faults = BatchFaults.install(outbound, shop.mailchimp, shop.account)
    shop.saleor.generate_store(products=5, customers=0, orders=0, seed=3)
    await start(shop)
    await run_jobs(shop, 1)  # the store is flagged
    faults.mode, faults.posts = "503", 0
    await make_due(shop)
    assert await Worker(shop.services).run_once()
    # Sent once; Mailchimp may have acted on it: written `unknown`, the step did not fail.
    assert faults.posts == 1 and shop.mailchimp.batches(shop.account) == []
    [row] = await batches(shop)
    assert row.status is BatchStatus.UNKNOWN and row.mailchimp_batch_id == ""
    async with shop.services.db.session() as session:
        assert [j.last_error for j in await session.scalars(select(Job))] == [None] * len(
            list(await session.scalars(select(Job)))
        )
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert faults.posts == 2  # sent again once, after Mailchimp listed none it may be
    assert_equal_to_saleor(shop)
    assert max(creations(shop).values()) == 1
    kinds = {k["kind"]: k for k in (await progress(shop))["kinds"]}
    assert kinds["product"]["confirmed"] == 5 and kinds["product"]["quarantined"] == 0


async def test_a_lost_batch_running_late_does_not_leave_older_content_in_mailchimp(
    small: Shop, outbound: RecordingTransport
) -> None:
    """Fails before the fix: each try of POST /batches created a batch whose answer was lost,
    the step re-read and sent the customers again, and the lost batches ran after the live
    push of a customer's newer name, leaving the older one in Mailchimp."""
    shop = small
    faults = BatchFaults.install(outbound, shop.mailchimp, shop.account)
    shop.saleor.generate_store(products=5, customers=10, orders=0, seed=4)
    await start(shop)
    await run_jobs(shop, 1)  # the store is flagged
    shop.mailchimp.batches_paused = True  # Mailchimp runs them later
    faults.mode, faults.posts = "lose", 0
    worker = Worker(shop.services)
    await make_due(shop)
    assert await worker.run_once()  # products and customers read, each batch sent once
    faults.mode = "off"
    rows = await batches(shop)
    assert faults.posts == len(rows) == len(shop.mailchimp.batches(shop.account)) == 2
    assert {r.status for r in rows} == {BatchStatus.UNKNOWN}
    [sent] = [r for r in rows if r.kind == "customer"]
    in_batch = {op["saleor_id"] for op in sent.operations.values()}
    customer = next(c for c in shop.saleor.store.customers.values() if c.global_id in in_batch)

    # The customer changes meanwhile: its live push lands at once.
    await shop.saleor.update_customer(customer, last_name="Newest")
    for _ in range(20):
        await make_due(shop)
        await worker.run_once()
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        if record is not None and record.status is SyncStatus.SYNCED:
            break

    def held() -> str:
        found = {c.id: c for c in shop.mailchimp.customers(shop.account, shop.store_id)}
        return found[str(customer.id)].last_name

    assert held() == "Newest"
    # The lost batches are unfinished at Mailchimp: nothing is sent again.
    assert faults.posts == 2 and {r.status for r in await batches(shop)} == {BatchStatus.UNKNOWN}

    # Mailchimp runs them now: the older name lands over the newer one ...
    shop.mailchimp.batches_paused = False
    await shop.mailchimp.drain_batches()
    assert held() != "Newest"
    # ... and the sync ends with the newest state in Mailchimp, and the ledger agreeing.
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert held() == "Newest"
    record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED
    assert record.content_hash is not None
    assert_equal_to_saleor(shop)
    assert max(creations(shop).values()) == 1
    # The ledger holds what Mailchimp holds: an unchanged save sends nothing.
    before = len(shop.mailchimp.requests)
    await shop.saleor.update_customer(customer, last_name="Newest")
    await finish(shop)
    prefix = f"/ecommerce/stores/{shop.store_id}/customers"
    assert not [r for r in shop.mailchimp.requests[before:] if r.path.startswith(prefix)]
