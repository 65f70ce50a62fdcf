"""Operations of a batch that Mailchimp fails: an error of the data quarantines exactly those
records; a 5xx or 429 sends the operation again in a later batch, and after `MAX_SENDS` tries
hands it to live sync, as it does at once an order whose campaign is stale."""

from __future__ import annotations

from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.initial_sync.applier import MAX_SENDS
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import (
    assert_equal_to_saleor,
    creations,
    finish,
    is_syncing,
    progress,
    start,
)


async def test_per_operation_errors_quarantine_exactly_those_records(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=10, customers=30, orders=0, seed=5)
    store = shop.saleor.store
    bad = [store.create_customer(f"broken-{i}.example.com", "Bad", "Mail") for i in range(3)]
    await start(shop)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED
    quarantined = set()
    for customer in store.customers.values():
        if customer.is_staff:
            continue
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None
        if record.status is SyncStatus.QUARANTINED:
            quarantined.add(customer.id)
            assert record.last_error and "email" in record.last_error.lower()
        else:
            assert record.status is SyncStatus.SYNCED
    assert quarantined == {c.id for c in bad}
    kinds = {k["kind"]: k for k in (await progress(shop))["kinds"]}
    assert kinds["customer"]["quarantined"] == 3 and kinds["customer"]["confirmed"] == 30
    assert not is_syncing(shop)


async def test_transient_failures_inside_a_batch_are_batched_again(small: Shop) -> None:
    """Operations Mailchimp fails with a 5xx or 429 go out again in a later batch; after
    `MAX_SENDS` tries live sync (with its own backoff and quarantine) takes over."""
    shop = small
    shop.saleor.generate_store(products=10, customers=30, orders=10, seed=9)
    store = shop.saleor.store
    customers = [c for c in store.customers.values() if not c.is_staff]
    once = [c.global_id for c in customers[:3]]
    [product] = [p.global_id for p in list(store.products.values())[:1]]
    stubborn = customers[3].global_id
    faults = shop.mailchimp.faults
    faults.fail_batch_operations(once, times=1, status=503)
    faults.fail_batch_operations([product], times=2, status=429)
    faults.fail_batch_operations([stubborn], times=MAX_SENDS, status=500)
    before = len(shop.mailchimp.requests)
    await start(shop)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED
    assert_equal_to_saleor(shop)
    assert max(creations(shop).values()) == 1
    requests = shop.mailchimp.requests[before:]

    def sends(saleor_id: str, pk: int, via: str) -> int:
        return sum(1 for r in requests if r.via == via and r.path.endswith(f"/{pk}"))

    # Customers are PUT to their id: each failing one was in two batches, none went live.
    for customer in customers[:3]:
        assert sends(customer.global_id, customer.id, "batch") == 2
        assert sends(customer.global_id, customer.id, "http") == 0
    # The stubborn one was batched MAX_SENDS times, then pushed by live sync.
    assert sends(stubborn, customers[3].id, "batch") == MAX_SENDS
    assert sends(stubborn, customers[3].id, "http") == 1
    product_posts = [
        r
        for r in requests
        if r.via == "batch"
        and r.method == "POST"
        and r.path.endswith("/products")
        and isinstance(r.body, dict)
        and r.body.get("id") == str(next(iter(store.products.values())).id)
    ]
    assert [r.status for r in product_posts] == [429, 429, 200]
    kinds = {k["kind"]: k for k in (await progress(shop))["kinds"]}
    assert kinds["customer"]["confirmed"] == len(customers) - 1
    assert kinds["customer"]["retried"] == 1  # handed to live sync
    assert kinds["product"]["confirmed"] == 10 and kinds["product"]["retried"] == 0
    for customer in customers[:4]:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED


async def test_an_order_with_a_stale_campaign_goes_to_live_sync_at_once(small: Shop) -> None:
    """Resent as it was it would fail again: live sync sends it without the campaign."""
    shop = small
    shop.saleor.generate_store(products=10, customers=10, orders=20, seed=4)
    stale = next(iter(shop.saleor.store.orders.values()))
    stale.metadata["mailchimp_campaign_id"] = "gone123"
    before = len(shop.mailchimp.requests)
    await start(shop)
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    assert_equal_to_saleor(shop)
    assert shop.orders()[str(stale.id)].campaign_id == ""
    sent = [
        r
        for r in shop.mailchimp.requests[before:]
        if r.method == "POST"
        and r.path.endswith("/orders")
        and isinstance(r.body, dict)
        and r.body.get("id") == str(stale.id)
    ]
    # Live sync's push finds the campaign stale and sends the order without it.
    assert [(r.via, r.status) for r in sent] == [("batch", 400), ("http", 400), ("http", 200)]
    kinds = {k["kind"]: k for k in (await progress(shop))["kinds"]}
    assert kinds["order"]["retried"] == 1 and kinds["order"]["confirmed"] == 19
