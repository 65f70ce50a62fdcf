"""Stock shared between channels: Saleor's warehouses serve many channels (`Warehouse.channels`
is many-to-many, saleor/warehouse/models.py) and a channel's stock is its warehouses'. The
sandbox keeps one warehouse, which every channel sells from: an order in one channel moves the
stock every other channel's store shows, with no product webhook."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from addon.ecommerce.models import EntityKind, SyncRecord
from addon.ecommerce.stores_repository import stable_store_id
from sandboxes.saleor.ids import to_global_id
from sandboxes.saleor.models import Product, ProductVariant
from sandboxes.saleor.order_models import Order
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import CHANNEL, Shop

EU = "eu"


async def _track_eu(shop: Shop) -> None:
    await shop.saleor.add_channel(EU, "Europe", "EUR")
    response = await shop.api(
        "PUT", f"/api/ecommerce/channels/{EU}", {"tracked": True, "list_id": shop.list_id}
    )
    assert response.status_code == 200, response.text


def _held(shop: Shop, channel: str) -> dict[str, int]:
    """What the channel's store holds in stock, by variant id."""
    store = stable_store_id(shop.saleor.api_url, channel, shop.list_id)
    return {
        v.id: v.inventory_quantity
        for p in shop.mailchimp.products(shop.account, store)
        for v in p.variants
    }


def _writes(shop: Shop, channel: str) -> list[str]:
    prefix = f"/ecommerce/stores/{stable_store_id(shop.saleor.api_url, channel, shop.list_id)}"
    return [
        f"{r.method} {r.path.split(prefix, 1)[1]}"
        for r in shop.mailchimp.requests
        if prefix in r.path and r.method != "GET"
    ]


async def _order(shop: Shop, channel: str, variant: ProductVariant, quantity: int) -> Order:
    checkout = await shop.saleor.create_checkout(
        channel, lines=[LineSpec(variant.id, quantity)], email="kim@example.com"
    )
    return await shop.saleor.complete_checkout(checkout)


async def _records(shop: Shop, channel: str, product: Product) -> list[SyncRecord]:
    """The product's ledger records in the channel."""
    async with shop.services.db.session() as session:
        statement = select(SyncRecord).where(
            SyncRecord.channel_slug == channel,
            SyncRecord.kind == EntityKind.PRODUCT,
            SyncRecord.saleor_id == to_global_id("Product", product.id),
        )
        return list((await session.scalars(statement)).all())


async def test_an_order_in_one_channel_moves_the_stock_of_the_other(shop: Shop) -> None:
    await _track_eu(shop)
    product = await shop.product("Basil", "5")
    variant = product.variants[0]
    # One checkout buys all 100: above Saleor's default limit of 50 per checkout
    # (`limit_quantity_per_checkout`), so this variant has its own.
    variant.quantity_limit_per_customer = 100
    await shop.drain()
    assert _held(shop, CHANNEL) == _held(shop, EU) == {str(variant.id): 100}
    before = len(_writes(shop, EU))

    await _order(shop, CHANNEL, variant, 100)
    await shop.drain()

    assert _held(shop, CHANNEL) == {str(variant.id): 0}  # the order's channel follows
    assert _held(shop, EU) == {str(variant.id): 0}  # sold out in the shared warehouse: Europe too
    # What Europe's store is sent for it: the variant whose stock moved, once.
    assert _writes(shop, EU)[before:] == [f"PUT /products/{product.id}/variants/{variant.id}"]


async def test_an_order_in_an_untracked_channel_moves_the_stock_of_tracked_ones(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    await shop.saleor.add_channel("pos", "Shop counter", "USD")  # not tracked
    product = await shop.product("Basil", "5")
    variant = product.variants[0]
    await shop.drain()
    assert _held(shop, CHANNEL) == {str(variant.id): 100}

    order = await _order(shop, "pos", variant, 30)
    await shop.drain()

    assert _held(shop, CHANNEL) == {str(variant.id): 70}
    assert await _records(shop, "pos", product) == []  # nothing kept of the untracked channel

    # A payment moves no stock: the order is not read for it.
    asked: list[str] = []
    execute = shop.services.saleor.execute

    async def recording(url: str, token: Any, operation: str, *args: Any, **kw: Any) -> Any:
        asked.append(operation)
        return await execute(url, token, operation, *args, **kw)

    monkeypatch.setattr(shop.services.saleor, "execute", recording)
    await shop.saleor.emit("ORDER_FULLY_PAID", order)
    await shop.drain()
    assert "ecommerce_orders_by_ids" not in asked


async def test_a_product_another_store_never_held_is_not_pushed_there(shop: Shop) -> None:
    """Cost: a channel is sent the stock of the products its store holds, no other (a push
    there would read Saleor and record the product removed)."""
    product = await shop.product("Thyme", "5", channels=[CHANNEL])  # not sold in Europe
    variant = product.variants[0]
    await shop.drain()
    await _track_eu(shop)  # its first sync sends Europe's products: not this one
    await shop.drain()
    assert await _records(shop, EU, product) == []

    await _order(shop, CHANNEL, variant, 10)
    await shop.drain()

    assert _held(shop, CHANNEL) == {str(variant.id): 90}
    assert _held(shop, EU) == {}
    assert await _records(shop, EU, product) == []  # no push there
