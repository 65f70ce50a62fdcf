"""Bursts where a record's own push and its batch meet: the newer push's verdict wins over the
batch's older content, and an order is batched only with variants Mailchimp is known to hold."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from addon.db.types import utcnow
from addon.ecommerce import burst
from addon.ecommerce.burst_queue import BURST_JOB
from addon.ecommerce.models import EntityKind, SyncRecord, SyncStatus
from addon.ecommerce.push_queue import enqueue_push
from addon.jobs.worker import Worker
from addon.saleor.client import SaleorError
from sandboxes.saleor.store_catalog import VariantSpec
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import (  # noqa: F401
    batch_calls,
    bursty,
    direct_writes,
    make_due,
    settle,
)


async def test_a_quarantine_by_its_own_push_while_its_batch_waits_stays(
    bursty: Shop,  # noqa: F811
) -> None:
    shop = bursty
    # A push that fails gives up at once (as after its retries).
    shop.services.settings = shop.services.settings.model_copy(update={"ecommerce_max_attempts": 1})
    customers = [
        await shop.saleor.create_customer(f"q{i}@example.com", f"Q{i}", "Last") for i in range(5)
    ]
    shop.mailchimp.batches_paused = True
    worker = Worker(shop.services)
    start = len(shop.mailchimp.requests)
    await worker.run_until_idle()  # the burst is read and submitted; Mailchimp holds it
    assert batch_calls(shop, start) == 1

    # Meanwhile the first customer's address becomes one Mailchimp refuses: its own push (below
    # the threshold) is quarantined with Mailchimp's reason.
    first = customers[0]
    await shop.saleor.update_customer(first, email="not-an-address")
    await worker.run_until_idle()
    record = await shop.record(EntityKind.CUSTOMER, first.global_id)
    assert record is not None and record.status is SyncStatus.QUARANTINED
    reason = record.last_error
    assert reason and "valid email" in reason

    # Then Mailchimp runs the older batch, which creates it with the address it had. The
    # quarantine stays (the data Saleor holds now is refused): not recorded synced with the
    # batch's content, which is forgotten (a Retry or a change sends everything), and no push
    # is queued that would only be refused again.
    shop.mailchimp.batches_paused = False
    after = len(shop.mailchimp.requests)
    await settle(shop)
    assert direct_writes(shop, after) == []
    record = await shop.record(EntityKind.CUSTOMER, first.global_id)
    assert record is not None and record.status is SyncStatus.QUARANTINED
    assert record.last_error == reason and record.content_hash is None
    for customer in customers[1:]:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED


async def test_a_quarantine_from_before_its_batch_read_it_gives_way_to_the_batch(
    bursty: Shop,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A push gave up while the record's next push waited (queued during its run); that next
    push goes in a batch, which Mailchimp confirms: synced, although recording the batch wrote
    the record's new label after Saleor was read."""
    shop = bursty
    customers = [
        await shop.saleor.create_customer(f"p{i}@example.com", f"P{i}", "Last") for i in range(5)
    ]
    first = customers[0]
    read = burst.read

    async def quarantined_before(*args: Any) -> Any:
        async with shop.services.db.transaction() as session:
            await session.execute(
                update(SyncRecord)
                .where(SyncRecord.saleor_id == first.global_id)
                .values(
                    status=SyncStatus.QUARANTINED,
                    last_error="Mailchimp was unreachable.",
                    updated_at=utcnow() - timedelta(minutes=1),  # before the burst's `read_at`
                )
            )
        return await read(*args)

    monkeypatch.setattr(burst, "read", quarantined_before)
    start = len(shop.mailchimp.requests)
    await settle(shop)
    assert batch_calls(shop, start) == 1 and direct_writes(shop, start) == []
    for customer in customers:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED
        assert record.label == customer.email and record.last_error is None


async def test_an_order_of_a_variant_its_products_batch_failed_to_send_goes_alone(
    bursty: Shop,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = bursty
    plum = await shop.product("Plum", "2.00")
    others = [await shop.product(f"Other {i}", "1.00") for i in range(4)]
    await settle(shop)
    # A new variant, and changes to four other products: a burst. Mailchimp fails the plum's
    # operations inside the batch, so the ledger no longer knows what it holds of the plum
    # (the new variant included), and the plum's own push is queued ...
    added = shop.saleor.store.add_variant(
        plum, VariantSpec(sku="PLU-1", name="Plum 1", price=Decimal("3.00"))
    )
    await shop.saleor.emit("PRODUCT_VARIANT_CREATED", added)
    for i, other in enumerate(others):
        await shop.saleor.update_product(other, name=f"Other {i} v2")
    shop.mailchimp.faults.fail_batch_operations(
        [f"{plum.global_id}#0", f"{plum.global_id}#1"], status=503, account=shop.account
    )
    # ... and waits for a retry: Saleor did not answer it.
    saleor = shop.services.saleor
    execute = saleor.execute
    unanswered: list[str] = []

    async def flaky(api_url: str, token: Any, document: str, variables: Any) -> Any:
        if document == "ecommerce_product" and variables.get("id") == plum.global_id:
            unanswered.append(document)
            raise SaleorError("Saleor is briefly unreachable.")
        return await execute(api_url, token, document, variables)

    monkeypatch.setattr(saleor, "execute", flaky)
    worker = Worker(shop.services)
    start = len(shop.mailchimp.requests)
    await worker.run_until_idle()
    await shop.mailchimp.drain_batches()
    await make_due(shop, (BURST_JOB,))  # the batch's poll, not the plum's retry
    await worker.run_until_idle()
    assert batch_calls(shop, start) == 1 and unanswered
    record = await shop.record(EntityKind.PRODUCT, plum.global_id)
    assert record is not None and record.status is SyncStatus.PENDING
    held = {v.id for v in shop.products()[str(plum.id)].variants}
    assert str(added.id) not in held  # Mailchimp lacks the new variant

    # Orders meanwhile, one of the new variant: that one goes alone, and its push sends the
    # plum first; the others go in a batch.
    monkeypatch.setattr(saleor, "execute", execute)
    orders = [
        await shop.saleor.create_order(
            lines=[shop.saleor.order_line(others[0].variants[0], 1)],
            email=f"other{i}@example.com",
            paid=False,
        )
        for i in range(4)
    ]
    alone = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(added, 2)], email="new@example.com", paid=False
    )
    start = len(shop.mailchimp.requests)
    await worker.run_until_idle()
    await settle(shop)
    for order in [*orders, alone]:
        record = await shop.record(EntityKind.ORDER, order.global_id)
        assert record is not None
        assert record.status is SyncStatus.SYNCED, (record.status, record.last_error)
    assert set(shop.orders()) == {str(o.id) for o in [*orders, alone]}
    assert batch_calls(shop, start) >= 1
    writes = direct_writes(shop, start)
    assert [w for w in writes if w.startswith("POST orders")] == ["POST orders"]
    assert writes.index(f"PUT products/{plum.id}/variants/{added.id}") < writes.index("POST orders")


async def test_a_push_recorded_after_the_read_is_kept_over_the_batch_s_unchanged_record(
    bursty: Shop,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A record the burst read unchanged, pushed on its own while the batch was sent (stock
    sold meanwhile, say): recording the batch wrote its older fingerprint over the push's, and
    the ledger then said Mailchimp held what it no longer did (a change back to that state
    would never be sent)."""
    shop = bursty
    products = [await shop.product(f"Sage {i}", "2.00", "3.00") for i in range(5)]
    await settle(shop)
    steady = products[4]
    for product in products[:4]:
        await shop.saleor.update_product(product, name=f"{product.name} v2")
    async with shop.services.db.transaction() as session:  # queued, but Saleor unchanged
        record = await shop.record(EntityKind.PRODUCT, steady.global_id)
        assert record is not None
        await enqueue_push(
            session, record.installation_id, record.channel_slug, EntityKind.PRODUCT,
            steady.global_id,
        )  # fmt: skip
    sending = burst._sending

    async def pushed_meanwhile(*args: Any) -> Any:
        # Its own push records newer content after the burst read it, before it is recorded.
        async with shop.services.db.transaction() as session:
            await session.execute(
                update(SyncRecord)
                .where(SyncRecord.id == record.id)
                .values(content_hash="pushed-meanwhile", pushed_at=utcnow())
            )
        return await sending(*args)

    monkeypatch.setattr(burst, "_sending", pushed_meanwhile)
    start = len(shop.mailchimp.requests)
    await Worker(shop.services).run_until_idle()
    assert batch_calls(shop, start) == 1
    kept = await shop.record(EntityKind.PRODUCT, steady.global_id)
    assert kept is not None and kept.content_hash == "pushed-meanwhile"
