"""Orders keep the lines of products no longer sold in the channel: Mailchimp holds such a
product hidden (not deleted), so the lines still reference it and the order's revenue, the
customer's total spent and purchase segments stay whole (Mailchimp for WooCommerce keeps them
so)."""

from __future__ import annotations

from decimal import Decimal

from sandboxes.saleor.models import Product as SaleorProduct
from tests.ecommerce.conftest import Shop


async def _unlist(shop: Shop, product: SaleorProduct) -> None:
    """The product taken off the channel (its variants' listings removed)."""
    for variant in product.variants:
        shop.saleor.store.update_variant(variant, channel_listings=[])
    await shop.saleor.update_product(product, name=product.name)
    await shop.drain()
    assert all(v.visibility == "hidden" for v in shop.products()[str(product.id)].variants)


async def test_orders_keep_the_lines_of_a_product_no_longer_sold(shop: Shop) -> None:
    fig = await shop.product("Fig", "2.00")
    pear = await shop.product("Pear", "3.00")
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    before = await shop.saleor.create_order(
        lines=[
            shop.saleor.order_line(fig.variants[0], 1),
            shop.saleor.order_line(pear.variants[0], 1),
        ],
        user=customer,
    )
    await shop.drain()
    await _unlist(shop, fig)
    writes = len(shop.writes())

    # A change of an order placed before: patched, its two lines kept (never re-created with one).
    await shop.saleor.fulfill_order(before)
    await shop.drain()
    orders = [w for w in shop.writes()[writes:] if "/orders" in w]
    assert orders == [f"PATCH /orders/{before.number}"]
    assert len(shop.orders()[str(before.number)].lines) == 2

    # An order placed with it since (a draft staff completed, say): sent with its line.
    after = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(fig.variants[0], 2, unit_price=Decimal("2.00"))],
        user=customer,
    )
    await shop.drain()
    sent = shop.orders()[str(after.number)]
    assert [(line.product_id, line.quantity) for line in sent.lines] == [(str(fig.id), 2)]
