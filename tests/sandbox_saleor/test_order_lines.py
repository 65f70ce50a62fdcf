"""Order lines outlive their variant, as in Saleor: `OrderLine.variant` is SET_NULL on the
variant's deletion and the line keeps its copies, `productVariantId` (the variant's global id,
copied at purchase), names, SKU and prices (saleor/order/models.py `OrderLine`;
saleor/checkout/complete_checkout.py and saleor/order/utils.py set `product_variant_id`)."""

from __future__ import annotations

import httpx

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.store_catalog import VariantSpec

from .conftest import APP_HOST, FakeApp, gql

ORDER = """query($id: ID!) { order(id: $id) { lines {
    productVariantId productName variantName productSku
    unitPrice { gross { amount } } variant { id } } } }"""


async def test_a_deleted_products_order_lines_keep_their_copies(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    product = sandbox.store.create_product("Mug", [VariantSpec(sku="MUG-1", name="Blue", price=12)])
    variant = product.variants[0]
    order = sandbox.store.create_order(
        lines=[sandbox.store.order_line_for(variant, 2)], email="ann@example.com"
    )
    copies = {
        "productVariantId": variant.global_id,
        "productName": "Mug",
        "variantName": "Blue",
        "productSku": "MUG-1",
        "unitPrice": {"gross": {"amount": 12.0}},
    }
    body = await gql(client, ORDER, {"id": order.global_id}, token=app.auth_token)
    assert body["data"]["order"]["lines"] == [{**copies, "variant": {"id": variant.global_id}}]

    await sandbox.delete_product(product)
    body = await gql(client, ORDER, {"id": order.global_id}, token=app.auth_token)
    assert body["data"]["order"]["lines"] == [{**copies, "variant": None}]
    assert order.lines[0].variant_id is None
