"""Catalogue promotions price checkout lines as Saleor prices them (saleor/checkout/
base_calculations.py `calculate_base_line_total_price`: the undiscounted unit price times the
quantity less the line's promotion discount, which follows the variant listing as the periodic
recalculation left it), and the order made of the checkout keeps the discounted unit price and
the undiscounted one (saleor/checkout/complete_checkout.py `_create_line_for_order`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.promotions import RewardValueType
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec

from .conftest import APP_HOST, gql

CHECKOUT = """query($id: ID!) { checkout(id: $id) {
    subtotalPrice { gross { amount } } totalPrice { gross { amount } }
    lines { quantity unitPrice { gross { amount } } totalPrice { gross { amount } }
      undiscountedUnitPrice { amount } undiscountedTotalPrice { amount } } } }"""

ORDER = """query($id: ID!) { order(id: $id) {
    total { gross { amount } } subtotal { gross { amount } }
    undiscountedTotal { gross { amount } }
    lines { unitPrice { gross { amount } } undiscountedUnitPrice { gross { amount } }
      unitDiscount { amount } totalPrice { gross { amount } } } } }"""


async def _query(sandbox: SaleorSandbox, client: httpx.AsyncClient, query: str, gid: str) -> Any:
    app = next(iter(sandbox.store.apps.values()), None)
    if app is None:
        app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    body = await gql(client, query, {"id": gid}, token=app.auth_token)
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


def _amounts(lines: list[dict[str, Any]], *fields: str) -> list[tuple[float, ...]]:
    def amount(value: dict[str, Any]) -> float:
        return float(value["gross"]["amount"] if "gross" in value else value["amount"])

    return [tuple(amount(line[f]) for f in fields) for line in lines]


async def test_a_promoted_line_is_priced_and_ordered_as_saleor_prices_it(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    store = sandbox.store
    shirt = store.create_product("Shirt", [VariantSpec(sku="SHIRT", price=Decimal("19.99"))])
    mug = store.create_product("Mug", [VariantSpec(sku="MUG", price=Decimal("5.00"))])
    channel = store.default_channel().slug
    await sandbox.promotions.create(
        "Summer", [{"channels": [channel], "product_ids": [shirt.id], "reward_value": 15}]
    )
    checkout = await sandbox.create_checkout(
        lines=[LineSpec(shirt.variants[0].id, 3), LineSpec(mug.variants[0].id, 1)],
        email="ann@example.com",
        shipping_price=Decimal("4.00"),
    )
    fields = ("unitPrice", "totalPrice", "undiscountedUnitPrice", "undiscountedTotalPrice")
    read = await _query(sandbox, client, CHECKOUT, checkout.global_id)
    # Not yet recalculated: the listing is not discounted, nor is the line.
    assert _amounts(read["lines"], *fields)[0] == (19.99, 59.97, 19.99, 59.97)
    await sandbox.promotions.recalculate()
    read = await _query(sandbox, client, CHECKOUT, checkout.global_id)
    # 15 % of 19.99 is 2.9985: 3.00 off each unit, 9.00 off the line.
    assert _amounts(read["lines"], *fields) == [
        (16.99, 50.97, 19.99, 59.97),
        (5.0, 5.0, 5.0, 5.0),
    ]
    assert read["subtotalPrice"]["gross"]["amount"] == 55.97
    assert read["totalPrice"]["gross"]["amount"] == 59.97

    order = await sandbox.complete_checkout(checkout)
    assert order.total_gross == Decimal("59.97")
    read = await _query(sandbox, client, ORDER, order.global_id)
    assert _amounts(
        read["lines"], "unitPrice", "undiscountedUnitPrice", "unitDiscount", "totalPrice"
    ) == [(16.99, 19.99, 3.0, 50.97), (5.0, 5.0, 0.0, 5.0)]
    assert read["subtotal"]["gross"]["amount"] == 55.97
    assert read["total"]["gross"]["amount"] == 59.97
    assert read["undiscountedTotal"]["gross"]["amount"] == 68.97


async def test_a_fixed_reward_never_takes_a_line_below_nothing(sandbox: SaleorSandbox) -> None:
    store = sandbox.store
    pin = store.create_product("Pin", [VariantSpec(sku="PIN", price=Decimal("2.00"))])
    await sandbox.promotions.create(
        "Free pins",
        [
            {
                "channels": [store.default_channel().slug],
                "variant_ids": [pin.variants[0].id],
                "reward_value_type": RewardValueType.FIXED,
                "reward_value": Decimal("5"),
            }
        ],
    )
    await sandbox.promotions.recalculate()
    checkout = store.create_checkout(lines=[LineSpec(pin.variants[0].id, 2)], email="a@x.test")
    [line] = checkout.lines
    assert store.checkout_line_price(checkout, line) == Decimal("0.00")
    assert store.checkout_line_discount(checkout, line) == Decimal("4.00")
    assert store.checkout_total(checkout) == Decimal("0")
