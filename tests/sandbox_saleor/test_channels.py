"""Channels in the sandbox (channels.py, arguments.py `channel_named`): a query in a channel no
longer there answers nothing, not an error; a channel's slug changes and a channel is deleted as
Saleor does it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.channels import ChannelRefused
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec

from .conftest import APP_HOST, gql

IN_CHANNEL = """query($id: ID!, $channel: String) {
  product(id: $id, channel: $channel) { id }
  products(first: 10, channel: $channel) { edges { node { id } } }
  orders(first: 10, channel: $channel) { edges { node { id } } }
  checkouts(first: 10, channel: $channel) { edges { node { id } } }
}"""


async def _token(sandbox: SaleorSandbox, fake_app: Any) -> str:
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    return app.auth_token


async def _in(client: httpx.AsyncClient, token: str, product: Any, channel: str) -> Any:
    body = await gql(client, IN_CHANNEL, {"id": product.global_id, "channel": channel}, token=token)
    assert "errors" not in body, body
    data = body["data"]
    return (
        data["product"] and data["product"]["id"],
        [e["node"]["id"] for e in data["products"]["edges"]],
        len(data["orders"]["edges"]),
        len(data["checkouts"]["edges"]),
    )


async def test_a_slug_no_channel_has_lists_nothing(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    await sandbox.add_channel("default")
    token = await _token(sandbox, fake_app)
    shirt = await sandbox.create_product("Shirt", [VariantSpec(sku="S", price=Decimal(5))])
    await sandbox.create_order("default", [])
    await sandbox.create_checkout("default", [LineSpec(shirt.variants[0].id, 1)])
    assert await _in(client, token, shirt, "default") == (shirt.global_id, [shirt.global_id], 1, 1)
    # Saleor answers no product, an empty list, no orders: the query stays limited to the
    # channel asked for (saleor/graphql/product/schema.py `resolve_products`).
    assert await _in(client, token, shirt, "gone") == (None, [], 0, 0)


async def test_channels_are_listed_by_slug(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    for slug in ("zeta", "alpha", "mid"):
        await sandbox.add_channel(slug)
    token = await _token(sandbox, fake_app)
    body = await gql(client, "{ channels { slug } }", token=token)
    assert [c["slug"] for c in body["data"]["channels"]] == ["alpha", "mid", "zeta"]


async def test_a_new_slug_keeps_what_the_channel_holds(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any, emitted: list[str]
) -> None:
    channel = await sandbox.add_channel("default")
    await sandbox.add_channel("other")
    token = await _token(sandbox, fake_app)
    shirt = await sandbox.create_product("Shirt", [VariantSpec(sku="S", price=Decimal(5))])
    await sandbox.create_order("default", [])
    with pytest.raises(ChannelRefused) as refused:
        await sandbox.channels.rename("default", "Other")
    assert refused.value.code == "UNIQUE"
    emitted.clear()
    renamed = await sandbox.channels.rename("default", "US Store")
    assert (renamed.slug, renamed.id) == ("us-store", channel.id)
    assert emitted == ["CHANNEL_UPDATED"]
    assert await _in(client, token, shirt, "us-store") == (shirt.global_id, [shirt.global_id], 1, 0)
    assert await _in(client, token, shirt, "default") == (None, [], 0, 0)


async def test_deleting_a_channel_moves_its_orders_and_drops_the_rest_silently(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any, emitted: list[str]
) -> None:
    await sandbox.add_channel("default")
    await sandbox.add_channel("outlet")
    await sandbox.add_channel("euro", currency_code="EUR")
    token = await _token(sandbox, fake_app)
    shirt = await sandbox.create_product("Shirt", [VariantSpec(sku="S", price=Decimal(5))])
    order = await sandbox.create_order("outlet", [])
    stamp = order.updated_at
    checkout = await sandbox.create_checkout("outlet", [LineSpec(shirt.variants[0].id, 1)])
    kept = await sandbox.create_checkout("default", [LineSpec(shirt.variants[0].id, 1)])
    outlet = sandbox.store.channel_by_slug("outlet")
    voucher = await sandbox.vouchers.create("Deal", ["OUT10"], channels={"default": 5, "outlet": 5})
    promotion = await sandbox.promotions.create(
        "Outlet", [{"channels": ["default", "outlet"], "product_ids": [shirt.id]}]
    )
    with pytest.raises(ChannelRefused) as refused:
        await sandbox.channels.delete("outlet")
    assert refused.value.code == "CHANNEL_WITH_ORDERS"
    with pytest.raises(ChannelRefused) as refused:
        await sandbox.channels.delete("outlet", move_orders_to="euro")
    assert refused.value.code == "CHANNELS_CURRENCY_MUST_BE_THE_SAME"
    with pytest.raises(ChannelRefused) as refused:
        await sandbox.channels.delete("outlet", move_orders_to="outlet")
    assert refused.value.code == "INVALID"
    emitted.clear()
    await sandbox.channels.delete("outlet", move_orders_to="default")
    # One event, and only to apps with MANAGE_CHANNELS: the orders move, the checkouts and the
    # listings go, all by queryset (no webhooks).
    assert emitted == ["CHANNEL_DELETED"]
    assert order.updated_at == stamp
    assert await _in(client, token, shirt, "default") == (shirt.global_id, [shirt.global_id], 1, 1)
    assert sandbox.store.channels[order.channel_id].slug == "default"
    store = sandbox.store
    assert outlet.id not in store.channels
    assert checkout.token not in store.checkouts and kept.token in store.checkouts
    assert outlet.id not in shirt.channel_ids and outlet.id not in shirt.publications
    remaining = [store.channel_by_slug(slug).id for slug in ("default", "euro")]
    assert [cl.channel_id for cl in shirt.variants[0].channel_listings] == remaining
    assert [cl.channel_id for cl in voucher.channel_listings] == [
        store.channel_by_slug("default").id
    ]
    assert promotion.rules[0].channel_ids == [store.channel_by_slug("default").id]
