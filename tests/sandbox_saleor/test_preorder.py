"""A variant on preorder as the sandbox answers it: `preorder` only while active, with the
units sold in every channel; each channel listing's `preorderThreshold` whether on preorder or
not (saleor/graphql/product/types/products.py `resolve_preorder`, channels.py
`resolve_preorder_threshold`, 3.20.119)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.models import utcnow
from sandboxes.saleor.store_catalog import VariantSpec

from .conftest import gql
from .test_webhooks import install

QUERY = """query($id: ID!) { productVariant(id: $id) {
  preorder { globalThreshold globalSoldUnits endDate }
  channelListings { channel { slug } preorderThreshold { quantity soldUnits } }
} }"""


async def test_preorder_fields_and_sold_units(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: object
) -> None:
    token = (await install(sandbox, permissions=["MANAGE_PRODUCTS"])).auth_token
    await sandbox.add_channel("eu", currency_code="EUR")
    await sandbox.add_channel("us")
    prices = {"eu": Decimal("9"), "us": Decimal("10")}
    product = await sandbox.create_product("Mug", [VariantSpec(sku="MUG", prices=prices)])
    (variant,) = product.variants

    async def read() -> dict[str, object]:
        body = await gql(client, QUERY, {"id": variant.global_id}, token=token)
        found: dict[str, object] = body["data"]["productVariant"]
        return found

    assert await read() == {
        "preorder": None,
        "channelListings": [
            {"channel": {"slug": s}, "preorderThreshold": {"quantity": None, "soldUnits": 0}}
            for s in ("eu", "us")
        ],
    }
    end = utcnow() + timedelta(days=3)
    await sandbox.update_variant(
        variant, is_preorder=True, preorder_global_threshold=40, preorder_end_date=end
    )
    await sandbox.set_preorder_threshold(variant, "eu", 10)
    sandbox.store.allocate_preorder(variant, "eu", 4)
    sandbox.store.allocate_preorder(variant, "us", 2)
    found = await read()
    assert found["preorder"] == {
        "globalThreshold": 40,
        "globalSoldUnits": 6,  # every channel's
        "endDate": end.isoformat(),
    }
    assert found["channelListings"] == [
        {"channel": {"slug": "eu"}, "preorderThreshold": {"quantity": 10, "soldUnits": 4}},
        {"channel": {"slug": "us"}, "preorderThreshold": {"quantity": None, "soldUnits": 2}},
    ]
    # Its end date passed: no longer answered (Saleor's hourly task clears it later).
    sandbox.store.update_variant(variant, preorder_end_date=utcnow() - timedelta(seconds=1))
    assert (await read())["preorder"] is None


async def test_the_thresholds_need_manage_products(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: object
) -> None:
    token = (await install(sandbox, permissions=["MANAGE_ORDERS"])).auth_token
    product = await sandbox.create_product("Mug", [VariantSpec(sku="MUG")])
    (variant,) = product.variants
    await sandbox.update_variant(variant, is_preorder=True, preorder_global_threshold=40)
    query = "query($id: ID!) { productVariant(id: $id) { preorder { %s } } }"
    body = await gql(client, query % "endDate", {"id": variant.global_id}, token=token)
    assert body["data"]["productVariant"] == {"preorder": {"endDate": None}}
    body = await gql(client, query % "globalThreshold", {"id": variant.global_id}, token=token)
    assert body["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
