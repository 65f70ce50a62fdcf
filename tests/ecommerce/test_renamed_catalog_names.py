"""A product's Mailchimp `type`/`vendor` may be its category's name or its values' of an
attribute (the admin's choice), but renaming the category or the value in Saleor sends no
product event (`categoryUpdate` sends CATEGORY_UPDATED only, `attributeValueUpdate`
ATTRIBUTE_VALUE_UPDATED and ATTRIBUTE_UPDATED): the app subscribed to neither, and Mailchimp
kept the old name for good. Now the products named by a rename that matters for the settings
are pushed again; one that does not matter pushes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from sandboxes.saleor.models import ProductAttribute
from tests.ecommerce.conftest import Shop


async def _settings(shop: Shop, body: dict[str, Any]) -> None:
    response = await shop.api("PATCH", "/api/ecommerce/settings", body)
    assert response.status_code == 200, response.text


async def test_a_renamed_category_reaches_its_products(shop: Shop) -> None:
    await _settings(shop, {"product_type": {"source": "category"}})
    tea = await shop.product("Tea", "4.00", category="Drinks")
    bread = await shop.product("Bread", "3.00", category="Bakery")
    await shop.drain()
    assert shop.products()[str(tea.id)].type == "Drinks"
    before = len(shop.writes())

    await shop.saleor.rename_category(tea, "Hot drinks")
    await shop.drain()

    assert shop.products()[str(tea.id)].type == "Hot drinks"
    assert shop.products()[str(bread.id)].type == "Bakery"
    assert [w for w in shop.writes()[before:] if w.startswith("PATCH")] == [
        f"PATCH /products/{tea.id}"
    ]


async def test_a_renamed_attribute_value_reaches_its_products(shop: Shop) -> None:
    await _settings(shop, {"product_vendor": {"source": "attribute", "key": "brand"}})
    brand = ProductAttribute(slug="brand", name="Brand", values=["Acme"])
    tea = await shop.product("Tea", "4.00", attributes=[brand])
    jam = await shop.product("Jam", "5.00", attributes=[brand])
    other = ProductAttribute(slug="brand", name="Brand", values=["Globex"])
    bread = await shop.product("Bread", "3.00", attributes=[other])
    await shop.drain()
    assert shop.products()[str(tea.id)].vendor == "Acme"
    before = len(shop.writes())

    await shop.saleor.rename_attribute_value("brand", "Acme", "Acme Foods")
    await shop.drain()

    products = shop.products()
    assert (products[str(tea.id)].vendor, products[str(jam.id)].vendor) == ("Acme Foods",) * 2
    assert products[str(bread.id)].vendor == "Globex"
    assert sorted(w for w in shop.writes()[before:] if w.startswith("PATCH")) == sorted(
        [f"PATCH /products/{tea.id}", f"PATCH /products/{jam.id}"]
    )


async def test_a_rename_the_settings_do_not_read_pushes_nothing(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _settings(
        shop,
        {
            "product_type": {"source": "product_type"},
            "product_vendor": {"source": "attribute", "key": "brand"},
        },
    )
    brand = ProductAttribute(slug="brand", name="Brand", values=["Acme"])
    tea = await shop.product(
        "Tea", "4.00", category="Drinks", product_type="Loose leaf", attributes=[brand]
    )
    await shop.drain()
    before = len(shop.writes())
    asked: list[str] = []
    execute = shop.services.saleor.execute

    async def recorded(api_url: str, token: Any, document: str, *args: Any, **kw: Any) -> Any:
        asked.append(document)
        return await execute(api_url, token, document, *args, **kw)

    monkeypatch.setattr(shop.services.saleor, "execute", recorded)

    await shop.saleor.rename_category(tea, "Hot drinks")
    await shop.drain()
    assert asked == []  # not even a read of the category's products
    assert shop.writes()[before:] == []

    # The webhook is heard all the same: a rename the vendor reads is pushed.
    await shop.saleor.rename_attribute_value("brand", "Acme", "Acme Foods")
    await shop.drain()
    assert shop.writes()[before:] == [f"PATCH /products/{tea.id}"]
    assert (shop.products()[str(tea.id)].vendor, shop.products()[str(tea.id)].type) == (
        "Acme Foods",
        "Loose leaf",
    )
