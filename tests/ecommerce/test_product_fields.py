"""Products marketers can segment on: the vendor and type from the source the admin chooses
(category, product type, an attribute, a metadata key), the description as text, the page and
image on every variant (its own picture where it has one), the stock Saleor tracks; a change of
source re-pushes the products."""

from __future__ import annotations

import json
from typing import Any

import pytest

from addon.ecommerce.marketing import UNTRACKED_STOCK
from sandboxes.saleor import SandboxApp
from sandboxes.saleor.models import ProductAttribute
from tests.ecommerce.conftest import Shop

BRAND = ProductAttribute(slug="brand", name="Brand", values=["Acme"])
COLOURS = ProductAttribute(slug="colour", name="Colour", values=["Red", "Blue"])


async def _settings(shop: Shop, body: dict[str, Any]) -> None:
    response = await shop.api("PATCH", "/api/ecommerce/settings", body)
    assert response.status_code == 200, response.text


async def _tea(shop: Shop) -> Any:
    product = await shop.product(
        "Tea",
        "4.00",
        category="Drinks",
        product_type="Loose leaf",
        attributes=[BRAND, COLOURS],
        metadata={"vendor": "Tea Co", "season": "Winter"},
    )
    shop.saleor.store.products[product.id].private_metadata = {"supplier": "Leaf Ltd"}
    return product


@pytest.mark.parametrize(
    ("source", "key", "expected"),
    [
        ("category", None, "Drinks"),
        ("product_type", None, "Loose leaf"),
        ("attribute", "brand", "Acme"),
        ("attribute", "colour", "Red, Blue"),
        ("attribute", "size", None),
        ("metadata", "season", "Winter"),
        ("metadata", "supplier", "Leaf Ltd"),  # private metadata, when public has no such key
        ("none", None, None),
    ],
)
async def test_vendor_and_type_from_each_source(
    shop: Shop, source: str, key: str | None, expected: str | None
) -> None:
    field = {"source": source, "key": key}
    await _settings(shop, {"product_vendor": field, "product_type": field})
    product = await _tea(shop)
    await shop.drain()
    mc = shop.products()[str(product.id)]
    assert (mc.vendor, mc.type) == (expected or "", expected or "")
    [post] = [r for r in shop.mailchimp.requests if r.method == "POST" and "/products" in r.path]
    assert ("vendor" in post.body) is (expected is not None)


async def test_the_defaults_keep_what_the_app_sent_before(shop: Shop) -> None:
    page = (await shop.api("GET", "/api/ecommerce")).json()
    assert page["settings"]["product_vendor"] == {"source": "metadata", "key": "vendor"}
    assert page["settings"]["product_type"] == {"source": "product_type", "key": None}
    product = await _tea(shop)
    await shop.drain()
    mc = shop.products()[str(product.id)]
    assert (mc.vendor, mc.type) == ("Tea Co", "Loose leaf")


async def test_changing_the_source_repushes_only_the_products_fields(shop: Shop) -> None:
    tea = await _tea(shop)
    plain = await shop.product("Cup", "9.00", category="Drinks", metadata={"vendor": "Drinks"})
    await shop.drain()
    before = len(shop.writes())
    await _settings(shop, {"product_vendor": {"source": "category"}})
    await shop.drain()
    assert shop.products()[str(tea.id)].vendor == "Drinks"
    # The cup's vendor reads the same from its category: nothing is sent for it; no variant is.
    assert shop.writes()[before:] == [f"PATCH /products/{tea.id}"]
    assert shop.products()[str(plain.id)].vendor == "Drinks"
    # Saving the same choice again sends nothing.
    await _settings(shop, {"product_vendor": {"source": "category"}})
    await shop.drain()
    assert len(shop.writes()) == before + 1


async def test_a_vendor_type_or_description_saleor_no_longer_gives_is_cleared(shop: Shop) -> None:
    """A PATCH leaves what it does not name: once, they stayed in Mailchimp's segments."""
    tea = await _tea(shop)
    await shop.drain()
    assert shop.products()[str(tea.id)].vendor == "Tea Co"
    await _settings(
        shop, {"product_vendor": {"source": "none"}, "product_type": {"source": "none"}}
    )
    await shop.saleor.update_product(tea, description=None)
    await shop.drain()
    mc = shop.products()[str(tea.id)]
    assert (mc.vendor, mc.type, mc.description) == ("", "", "")


async def test_a_keyed_source_needs_its_key(shop: Shop) -> None:
    for source in ("attribute", "metadata"):
        response = await shop.api(
            "PATCH", "/api/ecommerce/settings", {"product_vendor": {"source": source, "key": " "}}
        )
        assert response.status_code == 422
        assert "e.g. brand" in response.text
    response = await shop.api(
        "PATCH", "/api/ecommerce/settings", {"product_type": {"source": "brand"}}
    )
    assert response.status_code == 422


EDITORJS = {
    "time": 1,
    "blocks": [
        {"type": "header", "data": {"text": "Green &amp; fresh", "level": 2}},
        {"type": "paragraph", "data": {"text": "Picked <b>by hand</b>,<br>dried in shade."}},
        {"type": "list", "data": {"style": "unordered", "items": ["Sencha", "Matcha"]}},
        {"type": "quote", "data": {"text": "The best tea", "caption": "A shopper"}},
    ],
    "version": "2.24.3",
}


async def test_description_page_image_and_stock_of_every_variant(shop: Shop) -> None:
    product = await shop.product(
        "Green tea",
        "4.00",
        "7.00",
        description=json.dumps(EDITORJS),
        image_urls=["https://cdn.example/green.png", "https://cdn.example/tin.png"],
    )
    small, large = product.variants
    await shop.saleor.update_variant(small, quantity=120, quantity_allocated=5)
    # The large one has its own picture (Saleor's variant media).
    await shop.saleor.update_variant(large, track_inventory=False, media_ids=[product.media[1].id])
    await shop.drain()
    mc = shop.products()[str(product.id)]
    assert mc.description == (
        "Green & fresh\n\nPicked by hand,\ndried in shade.\n\n- Sencha\n- Matcha\n\n"
        "The best tea\n— A shopper"
    )
    assert mc.image_url == "https://cdn.example/green.png"
    for variant in mc.variants:
        assert variant.url == "https://shop.grocer.example/products/green-tea"
    variants = {v.id: v for v in mc.variants}
    assert variants[str(small.id)].image_url == "https://cdn.example/green.png"
    assert variants[str(large.id)].image_url == "https://cdn.example/tin.png"
    # The stock the channel can still sell: more than Saleor's per-checkout cap of 50.
    assert variants[str(small.id)].inventory_quantity == 115
    # Not tracked in Saleor: always in stock (Mailchimp reads a quantity left out as 0, sold
    # out, as it had this one before).
    assert variants[str(large.id)].inventory_quantity == UNTRACKED_STOCK


def test_editorjs_text_reads_every_block_kind() -> None:
    from addon.ecommerce.marketing import editorjs_text

    nested = {
        "blocks": [
            {
                "type": "list",
                "data": {
                    "style": "ordered",
                    "items": [
                        {"content": "Leaves", "items": [{"content": "young", "items": []}]},
                        {"content": "Buds", "items": []},
                    ],
                },
            },
            {"type": "table", "data": {"content": [["Size", "Price"], ["S", "4 &euro;"]]}},
            {"type": "image", "data": {"file": {"url": "https://cdn.example/x.png"}}},
            {"type": "paragraph", "data": {"text": "  "}},
        ]
    }
    assert editorjs_text(json.dumps(nested)) == (
        "- Leaves\n  - young\n- Buds\n\nSize | Price\nS | 4 €"
    )
    assert editorjs_text("Plain words, not Editor.js") == "Plain words, not Editor.js"
    assert editorjs_text('{"blocks": []}') is None
    assert editorjs_text("") is None and editorjs_text(None) is None


@pytest.mark.parametrize("legacy", [True, False])
async def test_a_vendor_edited_in_metadata_reaches_mailchimp(shop: Shop, legacy: bool) -> None:
    """The dashboard's metadata card saves through `updateMetadata`, which sends only
    PRODUCT_METADATA_UPDATED once the store turns the legacy update emission off (saleor/graphql/
    meta/extra_methods.py `extra_product_actions`; with it on, PRODUCT_UPDATED too)."""
    tea = await _tea(shop)
    await shop.drain()
    assert shop.products()[str(tea.id)].vendor == "Tea Co"
    shop.saleor.store.legacy_update_webhook_emission = legacy
    staff = SandboxApp(
        id=0, name="dashboard", identifier="staff", version="1", permissions=["MANAGE_PRODUCTS"]
    )
    body = await shop.saleor.execute(
        'mutation($id: ID!) { updateMetadata(id: $id, input: [{key: "vendor", '
        'value: "Leaf Ltd"}]) { errors { code } } }',
        {"id": tea.global_id},
        app=staff,
    )
    assert body == {"data": {"updateMetadata": {"errors": []}}}
    await shop.drain()
    assert shop.products()[str(tea.id)].vendor == "Leaf Ltd"
