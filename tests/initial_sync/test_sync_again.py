"""A sync of a store Mailchimp holds already: what is unchanged since the last sync is skipped,
a step still reading at most one batch's worth; what Mailchimp held from before the app's
ledger (an earlier installation's sync) is brought up to date."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete

from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import SyncRecord
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
