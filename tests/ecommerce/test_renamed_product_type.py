"""A product's Mailchimp `type` is its product type's name by default, but renaming the type in
Saleor (`productTypeUpdate`) saves none of its products and sends no product event; its own
PRODUCT_TYPE_UPDATED comes only from 3.24, to apps with MANAGE_PRODUCT_TYPES_AND_ATTRIBUTES,
which the app does not ask. Mailchimp kept the old name until each product's next edit. Now the
daily product sweep reads the types' names and pushes again the products of a renamed one
(`ecommerce/product_type_names.py`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from addon.clock import ManualClock
from addon.ecommerce.daily_sweep import SWEEP_EVERY
from addon.ecommerce.models import ProductTypeName
from tests.conftest import RecordingTransport
from tests.ecommerce.conftest import Shop


async def _settings(shop: Shop, body: dict[str, Any]) -> None:
    response = await shop.api("PATCH", "/api/ecommerce/settings", body)
    assert response.status_code == 200, response.text


def _type_of(shop: Shop, product_id: int) -> str | None:
    return shop.products()[str(product_id)].type


def _sweep(shop: Shop, clock: ManualClock) -> None:
    clock.advance(SWEEP_EVERY.total_seconds())


async def test_a_renamed_product_type_reaches_its_products_the_next_day(
    shop: Shop, clock: ManualClock
) -> None:
    basil = await shop.product("Basil", "5.00", product_type="Herbs")
    thyme = await shop.product("Thyme", "3.00", product_type="Herbs")
    kale = await shop.product("Kale", "2.00", product_type="Greens")
    await shop.drain()
    _sweep(shop, clock)  # the first read records the names
    await shop.drain()
    before = len(shop.writes())

    deliveries = len(shop.saleor.deliveries)
    await shop.saleor.rename_product_type(basil, "Fresh herbs")
    assert shop.saleor.deliveries[deliveries:] == []  # nothing tells the app
    await shop.drain()
    assert _type_of(shop, basil.id) == "Herbs"

    _sweep(shop, clock)
    await shop.drain()
    assert _type_of(shop, basil.id) == "Fresh herbs"
    assert _type_of(shop, thyme.id) == "Fresh herbs"
    assert _type_of(shop, kale.id) == "Greens"
    assert sorted(shop.writes()[before:]) == [
        f"PATCH /products/{basil.id}",
        f"PATCH /products/{thyme.id}",
    ]

    # The next day: the names read match, nothing is pushed.
    writes = len(shop.writes())
    _sweep(shop, clock)
    await shop.drain()
    assert shop.writes()[writes:] == []


async def test_a_type_name_no_field_reads_pushes_nothing(
    shop: Shop, clock: ManualClock, outbound: RecordingTransport
) -> None:
    await _settings(shop, {"product_type": {"source": "category"}})
    tea = await shop.product("Tea", "4.00", category="Drinks", product_type="Loose leaf")
    await shop.drain()
    _sweep(shop, clock)
    await shop.drain()
    before, requests = len(shop.writes()), len(outbound.requests)
    await shop.saleor.rename_product_type(tea, "Leaf tea")
    _sweep(shop, clock)
    await shop.drain()
    assert shop.writes()[before:] == []
    # Not even a read of the type's products.
    later = outbound.requests[requests:]
    assert not any(b"EcommerceChannelProductIds" in r.content for r in later)
    # The name read is recorded all the same: a later switch to the type reads it as it is.
    async with shop.services.db.session() as session:
        names = {row.name for row in await session.scalars(select(ProductTypeName))}
    assert "Leaf tea" in names


async def test_deleted_types_are_forgotten(shop: Shop, clock: ManualClock) -> None:
    basil = await shop.product("Basil", "5.00", product_type="Herbs")
    await shop.product("Kale", "2.00", product_type="Greens")
    await shop.drain()
    _sweep(shop, clock)
    await shop.drain()
    await shop.saleor.delete_product_type(basil)
    _sweep(shop, clock)
    await shop.drain()
    async with shop.services.db.session() as session:
        names = {row.name for row in await session.scalars(select(ProductTypeName))}
    assert "Herbs" not in names
    assert "Greens" in names
