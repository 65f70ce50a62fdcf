"""A sync of a store Mailchimp holds already: what is unchanged since the last sync is skipped,
a step still reading at most one batch's worth; what Mailchimp held from before the app's
ledger (an earlier installation's sync) is brought up to date."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete

from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import SyncRecord
from sandboxes.saleor.fulfillments import create_fulfillment, set_tracking_number
from sandboxes.saleor.store_catalog import VariantSpec
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.initial_sync.conftest import (
    SMALL,
    assert_equal_to_saleor,
    finish,
    progress,
    run_jobs,
    start,
)


async def test_a_step_reads_at_most_one_batch_of_entities_even_when_all_are_skipped(
    small: Shop,
) -> None:
    shop = small
    shop.saleor.generate_store(products=20, customers=200, orders=0, seed=13)
    await start(shop)
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    # Everything is in Mailchimp and unchanged: a second sync skips it all, step by step.
    await start(shop)
    await run_jobs(shop, 2)  # flag the store; one step
    kinds = {k["kind"]: k for k in (await progress(shop))["kinds"]}
    batch, page = SMALL["initial_sync_batch_size"], SMALL["initial_sync_page_size"]
    assert kinds["customer"]["read"] == kinds["customer"]["skipped"]
    assert batch <= kinds["customer"]["read"] < batch + page
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    kinds = {k["kind"]: k for k in (await progress(shop))["kinds"]}
    assert kinds["customer"]["skipped"] == 200 and kinds["customer"]["sent"] == 0


async def test_what_mailchimp_held_before_the_sync_is_brought_up_to_date(small: Shop) -> None:
    """An uninstall leaves Mailchimp alone and a re-installation gets the same store id: its
    sync's creations meet "already exists", and a create never updates. Once, those were
    recorded synced and Mailchimp kept the old prices until each product next changed."""
    shop = small
    shop.saleor.generate_store(products=4, customers=3, orders=3, seed=11)
    await start(shop)
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    # The app forgets what it sent (as a re-installation starts afresh); prices change unseen.
    async with shop.services.db.transaction() as session:
        await session.execute(delete(SyncRecord))
    for variant in shop.saleor.store.variants.values():
        for listing in variant.channel_listings:
            listing.price = (listing.price or Decimal(0)) + Decimal("1.00")
    await start(shop)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert_equal_to_saleor(shop)


async def test_a_sync_sends_stock_prices_and_publication_no_webhook_told(small: Shop) -> None:
    """A stock edit keeps the product's `updatedAt` (Saleor saves the stock row alone), and so
    do a price and a publication (rows of their own): a sync of a store Mailchimp holds
    compares what it would send with what Mailchimp holds, not dates, so what changed while
    no webhook reached the app is in Mailchimp after it, and the rest is still skipped."""
    shop = small
    store = shop.saleor.store
    stocked, priced, hidden, kept = (
        store.create_product(name, [VariantSpec(sku=name.upper(), price=Decimal(5), quantity=9)])
        for name in ("Fig", "Lime", "Date", "Plum")
    )
    await start(shop)
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    dates = {p.id: p.updated_at for p in (stocked, priced, hidden, kept)}
    # No webhook (the store's own methods): as if their deliveries had failed.
    store.update_variant(stocked.variants[0], quantity=3)
    [listing] = priced.variants[0].channel_listings
    listing.price = Decimal("6.50")
    store.publish(hidden, CHANNEL, is_published=False)
    assert {p.id: p.updated_at for p in (stocked, priced, hidden, kept)} == dates
    await start(shop)
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    held = shop.products()
    assert [v.inventory_quantity for v in held[str(stocked.id)].variants] == [3]
    assert [v.price for v in held[str(priced.id)].variants] == [6.5]
    assert [v.inventory_quantity for v in held[str(hidden.id)].variants] == [0]
    kinds = {k["kind"]: k for k in (await progress(shop))["kinds"]}
    assert kinds["product"]["skipped"] == 1  # Plum: Mailchimp holds what it would send


async def test_a_sync_sends_a_tracking_number_and_a_consent_no_webhook_told(small: Shop) -> None:
    """A tracking number keeps the order's `updatedAt` (Saleor saves the fulfilment alone), and
    a metadata write keeps the customer's on Saleors before 3.21.37 / 3.22.19 / 3.23: a sync of
    a store Mailchimp holds compares what live sync would send with what Mailchimp holds, so
    both are in Mailchimp after it, and what did not change is still skipped."""
    shop = small
    body = {"active_list_ids": [shop.list_id], "default_list_id": shop.list_id}
    response = await shop.api("PUT", "/api/audiences/settings", body)
    assert response.status_code == 200, response.text
    shop.saleor.generate_store(products=4, customers=3, orders=0, seed=11)
    store = shop.saleor.store
    product = next(iter(store.products.values()))
    buyer, kept = list(store.customers.values())[:2]
    order = store.create_order(
        lines=[store.order_line_for(product.variants[0], 2)], user=buyer, channel=CHANNEL
    )
    shipment = create_fulfillment(store.next_id, order)
    other = store.create_order(
        lines=[store.order_line_for(product.variants[0], 1)], user=kept, channel=CHANNEL
    )
    create_fulfillment(store.next_id, other)
    await start(shop)
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    assert (shop.orders()[str(order.id)].tracking_number or "") == ""
    dates = (order.updated_at, buyer.updated_at)
    # No webhook (the store's own objects): as if their deliveries had failed.
    set_tracking_number(order, shipment.id, "RM123456785GB")
    buyer.metadata = {**buyer.metadata, "mailchimp.consent.subscribe": "true"}
    assert (order.updated_at, buyer.updated_at) == dates
    await start(shop)
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    assert shop.orders()[str(order.id)].tracking_number == "RM123456785GB"
    held = {c.email_address: c for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    assert held[buyer.email].opt_in_status is True
    assert held[kept.email].opt_in_status is False
    kinds = {k["kind"]: k for k in (await progress(shop))["kinds"]}
    # The buyer and the order handed to live sync; the other customers held as they are.
    assert (kinds["customer"]["retried"], kinds["order"]["retried"]) == (1, 1)
    assert kinds["order"]["skipped"] == 1
    assert kinds["customer"]["skipped"] == kinds["customer"]["total"] - 1
