"""Live sync beside a running initial sync: an order or a customer changed in Saleor while the
batch holding its older state waits ends in Mailchimp with its newest state, and a product
deleted meanwhile ends hidden."""

from __future__ import annotations

from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.initial_sync.models import Phase
from addon.jobs.worker import Worker
from sandboxes.saleor.order_models import OrderStatus
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import (
    _phase,
    assert_equal_to_saleor,
    finish,
    first_batch_held,
    make_due,
    run_jobs,
    start,
)


async def test_a_live_order_change_during_the_sync_ends_with_its_newest_state(
    small: Shop,
) -> None:
    shop = small
    shop.saleor.generate_store(products=20, customers=10, orders=30, seed=9)
    order = next(
        o for o in shop.saleor.store.orders.values() if o.status is not OrderStatus.CANCELED
    )
    await start(shop)
    # Step until the first order batch is submitted (read from Saleor, not yet applied).
    for _ in range(100):
        await run_jobs(shop, 1)
        if any(
            b.operations
            for b in shop.mailchimp.batches(shop.account)
            if b.total_operations and "/orders" in b.operations[0].path
        ):
            break
    else:
        raise AssertionError("no order batch was submitted")
    await shop.saleor.cancel_order(order)  # a webhook: live sync pushes it
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED
    assert shop.orders()[str(order.id)].financial_status == "cancelled"
    assert_equal_to_saleor(shop)


async def test_a_live_customer_change_while_its_batch_waits_is_pushed_again(small: Shop) -> None:
    """The batch (read before the change) reaches Mailchimp after the live push: the live
    state is sent again, so the older one in the batch does not stay."""
    shop = small
    shop.saleor.generate_store(products=5, customers=10, orders=0, seed=4)
    customer = next(c for c in shop.saleor.store.customers.values() if not c.is_staff)
    await start(shop)
    for _ in range(50):
        if await _phase(shop) is Phase.CUSTOMERS:
            break
        await run_jobs(shop, 1)
    shop.mailchimp.batches_paused = True
    worker = Worker(shop.services)

    def customer_batches() -> int:
        return sum(
            1
            for b in shop.mailchimp.batches(shop.account)
            if b.operations and "/customers/" in b.operations[0].path
        )

    while not customer_batches():
        await make_due(shop)
        assert await worker.run_once()
    await shop.saleor.update_customer(customer, email="newest@example.com")
    for _ in range(20):
        await make_due(shop)
        await worker.run_once()
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        if record is not None and record.status is SyncStatus.SYNCED:
            break
    customers = {c.id: c for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    assert customers[str(customer.id)].email_address == "newest@example.com"  # pushed live
    shop.mailchimp.batches_paused = False
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED
    customers = {c.id: c for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    assert customers[str(customer.id)].email_address == "newest@example.com"
    assert_equal_to_saleor(shop)


async def test_a_product_deleted_while_its_batch_waits_is_hidden_in_mailchimp(
    small: Shop,
) -> None:
    """Deleted in Saleor after its page was read: its push finds nothing in Mailchimp and
    records it removed; the batch then creates it. Applying the batch sees that newer verdict
    and pushes it again, which hides what the batch created (a deleted product is hidden, not
    deleted: orders may reference it)."""
    shop = small
    shop.saleor.generate_store(products=5, customers=0, orders=0, seed=5)
    worker = await first_batch_held(shop)
    deleted = next(iter(shop.saleor.store.products.values()))
    await shop.saleor.delete_product(deleted)
    await make_due(shop)
    await worker.run_until_idle()  # its push: nothing in Mailchimp to delete
    record = await shop.record(EntityKind.PRODUCT, deleted.global_id)
    assert record is not None and record.status is SyncStatus.REMOVED

    shop.mailchimp.batches_paused = False
    run = await finish(shop)

    assert run.status is RunStatus.SUCCEEDED
    created = shop.products()[str(deleted.id)]
    assert created.variants
    assert all(v.visibility == "hidden" and v.inventory_quantity == 0 for v in created.variants)
    record = await shop.record(EntityKind.PRODUCT, deleted.global_id)
    assert record is not None and record.status is SyncStatus.REMOVED
    assert record.mailchimp_id == str(deleted.id)
