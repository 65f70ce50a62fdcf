"""`filter: {ids}` on products, orders and customers, as Saleor 3.20+ answers it."""

from __future__ import annotations

import httpx

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.ids import to_global_id
from sandboxes.saleor.store_catalog import VariantSpec

from .conftest import APP_HOST, FakeApp, gql

PRODUCTS = """
  query($ids: [ID!], $channel: String) {
    products(filter: {ids: $ids}, channel: $channel, first: 100) { edges { node { id } } }
  }
"""
CUSTOMERS = """
  query($ids: [ID!]) { customers(filter: {ids: $ids}, first: 100) { edges { node { id } } } }
"""
ORDERS = """
  query($ids: [ID!]) { orders(filter: {ids: $ids}, first: 100) { edges { node { id } } } }
"""


def ids(body: dict[str, object], field: str) -> list[str]:
    data = body["data"]
    assert isinstance(data, dict)
    return [edge["node"]["id"] for edge in data[field]["edges"]]


async def test_ids_filter_products_orders_and_customers(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    token = app.auth_token
    sandbox.store.add_channel("default-channel", currency_code="USD")
    products = [
        sandbox.store.create_product(f"P{i}", [VariantSpec(sku=f"P-{i}", price=1)])
        for i in range(3)
    ]
    customers = [sandbox.store.create_customer(f"c{i}@example.com") for i in range(3)]
    orders = [sandbox.store.create_order("default-channel") for _ in range(3)]

    wanted = [products[0].global_id, products[2].global_id]
    body = await gql(client, PRODUCTS, {"ids": wanted, "channel": "default-channel"}, token)
    assert ids(body, "products") == wanted
    # Another type's id is skipped (saleor/graphql/utils/filters.py, `filter_by_id`); an empty
    # list filters nothing.
    body = await gql(client, PRODUCTS, {"ids": [products[1].global_id, orders[0].global_id]})
    assert ids(body, "products") == [products[1].global_id]
    body = await gql(client, PRODUCTS, {"ids": []})
    assert len(ids(body, "products")) == 3

    wanted = [orders[1].global_id]
    assert ids(await gql(client, ORDERS, {"ids": wanted}, token), "orders") == wanted

    wanted = [customers[0].global_id, customers[1].global_id]
    assert ids(await gql(client, CUSTOMERS, {"ids": wanted}, token), "customers") == wanted
    # Customers take the pk of any type's id (GlobalIDMultipleChoiceFilter(field_name="id")).
    foreign = to_global_id("Product", customers[2].id)
    body = await gql(client, CUSTOMERS, {"ids": [foreign]}, token)
    assert ids(body, "customers") == [customers[2].global_id]

    # A malformed id is an error, as in Saleor's resolve_global_ids_to_primary_keys.
    body = await gql(client, ORDERS, {"ids": ["not-an-id"]}, token)
    assert body["data"] == {"orders": None}
    assert "Couldn't resolve id" in body["errors"][0]["message"]


async def test_products_search_matches_a_name_or_a_variants_sku(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    """`search` finds products by name or by one of their variants' SKUs (Saleor searches the
    product's search vector, which holds both: saleor/product/search.py)."""
    await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    sandbox.store.add_channel("default-channel", currency_code="USD")
    mug = sandbox.store.create_product("Blue Mug", [VariantSpec(sku="MUG-1", price=1)])
    tee = sandbox.store.create_product("Tee", [VariantSpec(sku="TEE-S", price=1)])
    query = """
      query($s: String) { products(search: $s, first: 100) { edges { node { id } } } }
    """
    assert ids(await gql(client, query, {"s": "blue"}), "products") == [mug.global_id]
    assert ids(await gql(client, query, {"s": "tee-s"}), "products") == [tee.global_id]
    assert ids(await gql(client, query, {"s": None}), "products") == [mug.global_id, tee.global_id]
