"""A variant no longer sold while its product stays on sale (deleted, or taken off the channel):
Mailchimp holds it hidden under its product, never deleted, and the product's ledger record keeps
it (`fingerprints.HIDDEN_VARIANT`), so the orders that bought it keep their line under the real
product (no `deleted_<id>` placeholder, no order deleted and re-created); carts drop it."""

from __future__ import annotations

import pytest

from addon.ecommerce.fingerprints import HIDDEN_VARIANT
from addon.ecommerce.models import EntityKind, SyncStatus
from sandboxes.saleor.models import Product as SaleorProduct
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import BURSTY, batch_calls, direct_writes, settle


async def _children(shop: Shop, product: SaleorProduct) -> dict[str, str]:
    record = await shop.record(EntityKind.PRODUCT, product.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED
    return dict(record.children)


def _visibility(shop: Shop, product: SaleorProduct) -> dict[str, str]:
    return {v.id: v.visibility for v in shop.products()[str(product.id)].variants}


async def test_an_order_of_a_deleted_variant_keeps_its_line_under_the_real_product(
    shop: Shop,
) -> None:
    basil = await shop.product("Basil", "5.00", "6.00")
    gone, kept = basil.variants
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(gone, 2)], email="kim@example.com"
    )
    await shop.drain()

    await shop.saleor.delete_variant(gone)
    await shop.drain()
    assert _visibility(shop, basil) == {str(gone.id): "hidden", str(kept.id): "visible"}
    assert (await _children(shop, basil))[str(gone.id)] == HIDDEN_VARIANT

    # The product pushed again unchanged: the hidden variant is not hidden again.
    writes = len(shop.writes())
    await shop.saleor.emit("PRODUCT_UPDATED", basil)
    await shop.drain()
    assert shop.writes()[writes:] == []

    # A change of the order: patched, its line still under the real product.
    await shop.saleor.cancel_order(order)
    await shop.drain()
    assert shop.writes()[writes:] == [f"PATCH /orders/{order.id}"]
    sent = shop.orders()[str(order.id)]
    assert sent.financial_status == "cancelled"
    assert [(ln.product_id, ln.product_variant_id) for ln in sent.lines] == [
        (str(basil.id), str(gone.id))
    ]
    assert not [p for p in shop.products() if p.startswith("deleted_")]


async def test_an_order_keeps_its_line_of_a_variant_no_longer_sold_and_a_cart_drops_it(
    shop: Shop,
) -> None:
    basil = await shop.product("Basil", "5.00", "6.00")
    unlisted, kept = basil.variants
    listings = list(unlisted.channel_listings)
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(unlisted, 2), shop.saleor.order_line(kept, 1)],
        email="kim@example.com",
    )
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(unlisted.id, 1), LineSpec(kept.id, 1)], email="lee@example.com"
    )
    await shop.drain()
    assert len(shop.carts()[str(checkout.token)].lines) == 2

    # productVariantChannelListingUpdate(removeChannels): PRODUCT_VARIANT_UPDATED
    # (saleor/graphql/product/mutations/channels.py `post_save_actions`).
    await shop.saleor.update_variant(unlisted, channel_listings=[])
    await shop.drain()
    assert _visibility(shop, basil)[str(unlisted.id)] == "hidden"
    assert (await _children(shop, basil))[str(unlisted.id)] == HIDDEN_VARIANT
    # Nobody can buy it: the cart drops its line.
    cart = shop.carts()[str(checkout.token)]
    assert [ln.product_variant_id for ln in cart.lines] == [str(kept.id)]

    # A change of the order: patched with both lines (never re-created with one); the units
    # its cancellation releases (saleor/order/actions.py `cancel_order`, `deallocate_stock`)
    # go with the stock of the variant still sold.
    writes = len(shop.writes())
    await shop.saleor.cancel_order(order)
    await shop.drain()
    assert shop.writes()[writes:] == [
        f"PATCH /orders/{order.id}",
        f"PUT /products/{basil.id}/variants/{kept.id}",
    ]
    sent = shop.orders()[str(order.id)]
    assert sent.financial_status == "cancelled"
    assert sorted(ln.product_variant_id for ln in sent.lines) == sorted(
        [str(unlisted.id), str(kept.id)]
    )

    # Sold again: sent whole and shown, its hash recorded again.
    await shop.saleor.update_variant(unlisted, channel_listings=listings)
    await shop.drain()
    assert _visibility(shop, basil)[str(unlisted.id)] == "visible"
    assert (await _children(shop, basil))[str(unlisted.id)] != HIDDEN_VARIANT


async def test_a_resync_keeps_the_hidden_variants(shop: Shop) -> None:
    """Resync forgets what was pushed, not which variants Mailchimp holds hidden."""
    basil = await shop.product("Basil", "5.00", "6.00")
    gone, _ = basil.variants
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(gone, 2)], email="kim@example.com"
    )
    await shop.drain()
    await shop.saleor.delete_variant(gone)
    await shop.drain()
    response = await shop.api(
        "POST", "/api/ecommerce/channels/default-channel/resync", {"kind": "product"}
    )
    assert response.status_code == 200, response.text
    await shop.drain()
    assert (await _children(shop, basil))[str(gone.id)] == HIDDEN_VARIANT

    writes = len(shop.writes())
    await shop.saleor.cancel_order(order)
    await shop.drain()
    assert not [p for p in shop.products() if p.startswith("deleted_")]
    assert shop.writes()[writes:] == [f"PATCH /orders/{order.id}"]


@pytest.fixture
def bursty(shop: Shop) -> Shop:
    shop.services.settings = shop.services.settings.model_copy(update=BURSTY)
    return shop


async def test_a_burst_keeps_the_hidden_variants_of_its_products(bursty: Shop) -> None:
    """A product with a variant hidden goes into a batch as any other (only a variant to hide
    now needs its own push), and the batch's record keeps the hidden one."""
    shop = bursty
    herbs = [await shop.product(f"Herb {i}", "2.00", "3.00") for i in range(5)]
    gone = [herb.variants[0] for herb in herbs]
    await settle(shop)
    for variant in gone:
        await shop.saleor.delete_variant(variant)
    await settle(shop)

    start = len(shop.mailchimp.requests)
    for i, herb in enumerate(herbs):
        await shop.saleor.update_product(herb, name=f"Herb {i} v2")
    await settle(shop)
    assert batch_calls(shop, start) == 1
    assert direct_writes(shop, start) == []
    for i, (herb, variant) in enumerate(zip(herbs, gone, strict=True)):
        assert shop.products()[str(herb.id)].title == f"Herb {i} v2"
        assert (await _children(shop, herb))[str(variant.id)] == HIDDEN_VARIANT

    # Unchanged since: a burst sends nothing.
    start = len(shop.mailchimp.requests)
    for herb in herbs:
        await shop.saleor.emit("PRODUCT_UPDATED", herb)
    await settle(shop)
    assert batch_calls(shop, start) == 0 and direct_writes(shop, start) == []
