"""A stock row made or removed reaches Mailchimp: `productVariantStocksCreate` and
`productVariantStocksDelete` send only PRODUCT_VARIANT_BACK_IN_STOCK / PRODUCT_VARIANT_OUT_OF_STOCK
(saleor/graphql/product/bulk_mutations/product_variant_stocks_create.py, _delete.py at 3.20.119
and 3.23.28), never PRODUCT_VARIANT_STOCK_UPDATED nor PRODUCT_VARIANT_UPDATED, so the products
webhook subscribes to both (webhooks/ecommerce_products.graphql)."""

from __future__ import annotations

from addon.saleor.manifest import webhook_by_slug
from tests.ecommerce.conftest import Shop


def _held(shop: Shop) -> dict[str, int]:
    return {v.id: v.inventory_quantity for p in shop.products().values() for v in p.variants}


def _events_since(shop: Shop, before: int) -> list[str]:
    return [d.event_type for d in shop.saleor.deliveries[before:]]


def test_the_products_webhook_subscribes_to_the_stock_row_events() -> None:
    products = webhook_by_slug("ecommerce-products")
    assert products is not None
    assert {"PRODUCT_VARIANT_BACK_IN_STOCK", "PRODUCT_VARIANT_OUT_OF_STOCK"} <= set(products.events)


async def test_a_warehouse_stock_removed_then_made_again_reaches_mailchimp(shop: Shop) -> None:
    basil = await shop.product("Basil", "5.00")
    (variant,) = basil.variants
    await shop.drain()
    assert _held(shop)[str(variant.id)] == 100

    before = len(shop.saleor.deliveries)
    await shop.saleor.delete_stocks(variant)  # its only warehouse's row
    assert _events_since(shop, before) == ["PRODUCT_VARIANT_OUT_OF_STOCK"]
    await shop.drain()
    assert _held(shop)[str(variant.id)] == 0

    before = len(shop.saleor.deliveries)
    await shop.saleor.create_stocks(variant, 40)  # stock in a (new) warehouse
    assert _events_since(shop, before) == ["PRODUCT_VARIANT_BACK_IN_STOCK"]
    await shop.drain()
    assert _held(shop)[str(variant.id)] == 40
    assert shop.writes()[-1] == f"PUT /products/{basil.id}/variants/{variant.id}"


async def test_a_stock_edit_still_arrives_once(shop: Shop) -> None:
    """`productVariantStocksUpdate` to 0 sends OUT_OF_STOCK beside STOCK_UPDATED: both queue
    the product's one push, which sends the variant once."""
    basil = await shop.product("Basil", "5.00")
    (variant,) = basil.variants
    await shop.drain()
    before = len(shop.writes())
    await shop.saleor.update_variant(variant, quantity=0)
    await shop.drain()
    assert _held(shop)[str(variant.id)] == 0
    assert shop.writes()[before:] == [f"PUT /products/{basil.id}/variants/{variant.id}"]
