"""A product's picture deleted in Saleor, or its page no longer given (the product URL template
cleared): Mailchimp no longer shows them. A PATCH leaves what it does not name, so the product's
update sends them empty (`payloads.CLEARED_WHEN_ABSENT`); a variant is sent whole (a PUT)."""

from __future__ import annotations

from tests.ecommerce.conftest import Shop

PICTURE = "https://media.grocer.example/basil.jpg"
PAGE = "https://shop.grocer.example/products/basil"


async def test_a_deleted_picture_is_cleared_in_mailchimp(shop: Shop) -> None:
    basil = await shop.product("Basil", "5.00", image_urls=[PICTURE])
    await shop.drain()
    held = shop.products()[str(basil.id)]
    assert [held.image_url, *(v.image_url for v in held.variants)] == [PICTURE, PICTURE]

    # productMediaDelete: PRODUCT_UPDATED (saleor/graphql/product/mutations/product/
    # product_media_delete.py); the picture's URL is gone at Saleor.
    await shop.saleor.update_product(basil, media=[])
    await shop.drain()
    held = shop.products()[str(basil.id)]
    assert [held.image_url, *(v.image_url for v in held.variants)] == ["", ""]


async def test_a_cleared_product_page_is_cleared_in_mailchimp(shop: Shop) -> None:
    basil = await shop.product("Basil", "5.00")
    await shop.drain()
    held = shop.products()[str(basil.id)]
    assert [held.url, *(v.url for v in held.variants)] == [PAGE, PAGE]

    response = await shop.api("PATCH", "/api/ecommerce/settings", {"product_url_template": ""})
    assert response.status_code == 200, response.text
    await shop.drain()
    held = shop.products()[str(basil.id)]
    assert [held.url, *(v.url for v in held.variants)] == ["", ""]
