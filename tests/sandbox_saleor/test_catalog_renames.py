"""Renames in the sandbox's catalogue send what Saleor sends, and no product event:
`categoryUpdate` CATEGORY_UPDATED (category_update.py), `attributeValueUpdate`
ATTRIBUTE_VALUE_UPDATED then ATTRIBUTE_UPDATED (attribute_value_update.py), `productTypeUpdate`
PRODUCT_TYPE_UPDATED from 3.24 only (saleor/saleor#19351); `products(filter:)` finds the
products by category (subcategories included), product type and attribute value slug."""

from __future__ import annotations

from typing import Any

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.models import ProductAttribute
from sandboxes.saleor.product_filters import catalogue_filter
from sandboxes.saleor.versions import OLDEST_VERSION


async def test_renames_send_saleors_events(sandbox: SaleorSandbox, emitted: list[str]) -> None:
    await sandbox.add_channel("default-channel")
    brand = ProductAttribute(slug="brand", name="Brand", values=["Acme"])
    tea = await sandbox.create_product("Tea", category="Drinks", attributes=[brand])
    emitted.clear()

    assert (await sandbox.rename_category(tea, "Hot drinks")).name == "Hot drinks"
    [renamed] = await sandbox.rename_attribute_value("brand", "Acme", "Acme Foods")
    await sandbox.rename_product_type(tea, "Loose leaf")

    assert renamed.attributes[0].values == ["Acme Foods"]
    assert brand.values == ["Acme"]  # the caller's object is not changed
    assert emitted == [
        "CATEGORY_UPDATED",
        "ATTRIBUTE_VALUE_UPDATED",
        "ATTRIBUTE_UPDATED",
        "PRODUCT_TYPE_UPDATED",
    ]


async def test_a_product_type_renamed_on_3_20_sends_nothing(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    sandbox.version = OLDEST_VERSION
    tea = await sandbox.create_product("Tea")
    emitted.clear()
    await sandbox.rename_product_type(tea, "Loose leaf")
    assert emitted == []


def _ids(sandbox: SaleorSandbox, product_filter: dict[str, Any]) -> list[str]:
    keep = catalogue_filter(sandbox.store, product_filter)
    assert keep is not None
    return sorted(p.name for p in sandbox.store.products.values() if keep(p))


async def test_products_filtered_by_catalogue(sandbox: SaleorSandbox) -> None:
    brand = ProductAttribute(slug="brand", name="Brand", values=["Hot Stuff"])
    tea = await sandbox.create_product("Tea", category="Drinks", attributes=[brand])
    await sandbox.create_product("Bread", category="Bakery", product_type="Loaves")
    drinks = sandbox.store.categories[tea.category_id or 0]
    herbal = sandbox.store.get_or_create_category("Herbal")
    herbal.parent_id = drinks.id
    await sandbox.create_product("Mint", category="Herbal")

    assert _ids(sandbox, {"categories": [drinks.global_id]}) == ["Mint", "Tea"]
    loaves = next(t for t in sandbox.store.product_types.values() if t.name == "Loaves")
    assert _ids(sandbox, {"productTypes": [loaves.global_id]}) == ["Bread"]
    by_value = {"attributes": [{"slug": "brand", "values": ["hot-stuff"]}]}
    assert _ids(sandbox, by_value) == ["Tea"]
    assert _ids(sandbox, {"attributes": [{"slug": "maker", "values": ["hot-stuff"]}]}) == []
