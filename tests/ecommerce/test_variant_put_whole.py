"""A variant's PUT names every field the app writes, an empty one too.

What Mailchimp's "Add or update product variant" (`PUT .../variants/{variant_id}`) does to a
field the body leaves out is not documented: the spec gives it POST's schema
(`E_commerce_Product_Variant_1`, only `id` and `title` required) and the docs' "Methods and
Parameters" page says only that PUT creates or updates a resource. A SKU, picture or page Saleor
no longer gives is therefore sent empty, so that it is cleared whether Mailchimp replaces the
variant (as the sandbox does) or merges the body into it (as a PATCH would). Checked on the
bodies Mailchimp receives, live and in a burst's batch alike.
"""

from __future__ import annotations

from typing import Any

from sandboxes.saleor.models import Product as SaleorProduct
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import bursty, settle
from tests.ecommerce.test_unlisted_products import second_variant_ordered

PICTURE = "https://media.grocer.example/basil.jpg"
# The variant fields the app owns (`payloads.product_input`): `backorders` it never sends.
OWNED = {"title", "url", "sku", "price", "inventory_quantity", "image_url", "visibility"}


def variant_puts(shop: Shop, product: SaleorProduct) -> list[dict[str, Any]]:
    """The bodies of the variant PUTs Mailchimp received for the product, in order."""
    prefix = f"/ecommerce/stores/{shop.store_id}/products/{product.id}/variants/"
    return [r.body for r in shop.mailchimp.requests if r.method == "PUT" and prefix in r.path]


async def _lose_sku_and_picture(shop: Shop) -> SaleorProduct:
    basil = await shop.product("Basil", "5.00", image_urls=[PICTURE])
    await shop.drain()
    (variant,) = shop.products()[str(basil.id)].variants
    assert (variant.sku, variant.image_url) == ("BAS-0", PICTURE)
    # productVariantUpdate(sku: null) and productMediaDelete: PRODUCT_VARIANT_UPDATED,
    # PRODUCT_UPDATED.
    await shop.saleor.update_variant(basil.variants[0], sku=None)
    await shop.saleor.update_product(basil, media=[])
    return basil


async def test_a_variant_put_sends_a_cleared_sku_and_picture_empty(shop: Shop) -> None:
    basil = await _lose_sku_and_picture(shop)
    await shop.drain()

    (put,) = variant_puts(shop, basil)
    assert put.keys() >= OWNED
    assert (put["sku"], put["image_url"]) == ("", "")
    (variant,) = shop.products()[str(basil.id)].variants
    assert (variant.sku, variant.image_url) == ("", "")


async def test_a_variant_put_without_a_product_page_sends_it_empty(shop: Shop) -> None:
    response = await shop.api("PATCH", "/api/ecommerce/settings", {"product_url_template": ""})
    assert response.status_code == 200, response.text
    basil = await shop.product("Basil", "5.00")
    await shop.drain()

    await shop.saleor.update_variant(basil.variants[0], name="Genovese")
    await shop.drain()
    (put,) = variant_puts(shop, basil)
    assert put.keys() >= OWNED and put["url"] == ""


async def test_an_unlisted_products_variant_is_put_whole(shop: Shop) -> None:
    """An order's line of a product Saleor no longer lists, which another push just created
    (`unlisted.py`): its variant from the line's copies is PUT, with no page or picture."""
    old, _ = await second_variant_ordered(shop)

    (put,) = variant_puts(shop, old)
    assert put.keys() >= OWNED and (put["url"], put["image_url"]) == ("", "")


async def test_a_burst_puts_variants_whole_too(bursty: Shop) -> None:
    shop = bursty
    herbs = [await shop.product(f"Herb {i}", "5.00") for i in range(5)]
    await settle(shop)
    start = len(shop.mailchimp.requests)

    # Above the burst threshold (`BURSTY`): their pushes go out as one batch.
    for herb in herbs:
        await shop.saleor.update_variant(herb.variants[0], sku=None)
    await settle(shop)
    puts = [
        r for r in shop.mailchimp.requests[start:] if r.method == "PUT" and "/variants/" in r.path
    ]
    assert len(puts) == len(herbs) and {r.via for r in puts} == {"batch"}
    for put in puts:
        assert put.body.keys() >= OWNED and put.body["sku"] == ""
    assert all(v.sku == "" for p in shop.products().values() for v in p.variants)


__all__ = ["bursty"]  # the fixture, imported
