"""A product Saleor keeps out of its listings (`ProductChannelListing.visible_in_listings`
false: gift wrap, samples) is one customers are shown no variant of
(saleor/product/managers.py `ProductVariantQueryset.visible_to_user`), and Mailchimp for
WooCommerce sends a product that is not `is_visible()` with inventory 0. Before the fix the app
did not read `visibleInListings` and sent such a product visible and in stock: recommended in
e-mails."""

from __future__ import annotations

from addon.ecommerce.payloads import mailchimp_id
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import CHANNEL, Shop


def shown(shop: Shop, product_id: str) -> list[tuple[str, int]]:
    product = shop.products()[mailchimp_id(product_id)]
    return [(v.visibility, v.inventory_quantity) for v in product.variants]


async def test_a_product_hidden_from_listings_is_not_recommended(shop: Shop) -> None:
    """Before: unticking "Show in product listings" (PRODUCT_UPDATED) left the product
    visible with its stock in Mailchimp."""
    product = await shop.product("Gift wrap", "2.00")
    await shop.saleor.update_variant(product.variants[0], quantity=50)
    await shop.drain()
    assert shown(shop, product.global_id) == [("visible", 50)]

    await shop.saleor.publish(product, CHANNEL, visible_in_listings=False)
    await shop.drain()
    assert shown(shop, product.global_id) == [("hidden", 0)]

    # Shown in the listings again: visible, with its stock.
    await shop.saleor.publish(product, CHANNEL, visible_in_listings=True)
    await shop.drain()
    assert shown(shop, product.global_id) == [("visible", 50)]


async def test_a_product_created_out_of_the_listings_is_sent_hidden(shop: Shop) -> None:
    """Before: a product first sent while out of the listings went visible and in stock."""
    product = await shop.product("Sample", "0.50")
    shop.saleor.store.publish(product, CHANNEL, visible_in_listings=False)
    await shop.saleor.update_variant(product.variants[0], quantity=9)
    await shop.drain()
    assert shown(shop, product.global_id) == [("hidden", 0)]


async def test_a_cart_keeps_its_gift_wrap_line(shop: Shop) -> None:
    """A product kept out of the listings is still bought (Saleor serves a checkout line of one
    as any other): the abandoned cart keeps its line. Before, the line was left out."""
    scarf = await shop.product("Scarf", "20.00")
    wrap = await shop.product("Gift wrap", "2.00")
    shop.saleor.store.publish(wrap, CHANNEL, visible_in_listings=False)
    await shop.drain()
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(scarf.variants[0].id, 1), LineSpec(wrap.variants[0].id, 1)],
        email="lee@example.com",
    )
    await shop.drain()
    cart = shop.carts()[str(checkout.token)]
    assert sorted(ln.product_variant_id for ln in cart.lines) == sorted(
        [str(scarf.variants[0].id), str(wrap.variants[0].id)]
    )
