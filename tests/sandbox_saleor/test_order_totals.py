"""An order's amounts as Saleor computes them: order-level discounts spread over the lines'
totals (so `subtotal` is net of them), a manual one over shipping too, and gift cards taken off
the total alone (see the sandbox's order_discounts.py and `Order.gift_cards_used`)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.order_models import DiscountValueType, OrderDiscountType, OrderOrigin
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec

from .conftest import APP_HOST, gql

ORDER = """query($id: ID!) { order(id: $id) {
    total { gross { amount } net { amount } tax { amount } }
    subtotal { gross { amount } net { amount } }
    shippingPrice { gross { amount } }
    undiscountedTotal { gross { amount } net { amount } }
    discounts { type amount { amount } }
    lines { quantity unitPrice { gross { amount } } totalPrice { gross { amount } }
      unitDiscount { amount } undiscountedTotalPrice { gross { amount } } } } }"""


async def _read(sandbox: SaleorSandbox, client: httpx.AsyncClient, global_id: str) -> Any:
    """The order as the installed app reads it (installed on first use)."""
    app = next(iter(sandbox.store.apps.values()), None)
    if app is None:
        app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    body = await gql(client, ORDER, {"id": global_id}, token=app.auth_token)
    return body["data"]["order"]


async def test_an_order_level_discount_is_spread_over_the_lines(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    store = sandbox.store
    mug = store.create_product("Mug", [VariantSpec(sku="MUG", price=10)]).variants[0]
    cup = store.create_product("Cup", [VariantSpec(sku="CUP", price=20)]).variants[0]
    voucher = store.new_discount(
        Decimal("10"), type=OrderDiscountType.VOUCHER, value_type=DiscountValueType.FIXED
    )
    order = store.create_order(
        lines=[store.order_line_for(mug, 1), store.order_line_for(cup, 2)],
        email="ann@example.com",
        shipping_price=Decimal("5"),
        discounts=[voucher],
        checkout_token=uuid.uuid4(),  # placed from a checkout
    )
    read = await _read(sandbox, client, order.global_id)
    # 10 over line totals of 10 and 40: 2 and, left for the last line, 8.
    assert [ln["totalPrice"]["gross"]["amount"] for ln in read["lines"]] == [8.0, 32.0]
    assert [ln["unitPrice"]["gross"]["amount"] for ln in read["lines"]] == [8.0, 16.0]
    # Placed from a checkout, with Saleor's default (legacy) propagation, a line's unit discount
    # carries its share; on an order not placed from one (a draft) it does not.
    assert [ln["unitDiscount"]["amount"] for ln in read["lines"]] == [2.0, 4.0]
    draft = store.create_order(
        lines=[store.order_line_for(mug, 1), store.order_line_for(cup, 2)],
        email="ann@example.com",
        discounts=[store.new_discount(Decimal("10"), type=OrderDiscountType.MANUAL)],
    )
    drafted = (await _read(sandbox, client, draft.global_id))["lines"]
    assert [ln["unitDiscount"]["amount"] for ln in drafted] == [0.0, 0.0]
    assert [ln["totalPrice"]["gross"]["amount"] for ln in drafted] == [8.0, 32.0]
    assert read["subtotal"]["gross"]["amount"] == 40.0
    assert read["total"]["gross"]["amount"] == 45.0
    assert read["undiscountedTotal"]["gross"]["amount"] == 55.0
    assert read["discounts"] == [{"type": "VOUCHER", "amount": {"amount": 10.0}}]


async def test_a_manual_discount_takes_its_share_off_shipping(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    store = sandbox.store
    mug = store.create_product("Mug", [VariantSpec(sku="MUG", price=30)]).variants[0]
    manual = store.new_discount(Decimal("8"), type=OrderDiscountType.MANUAL)
    order = store.create_order(
        lines=[store.order_line_for(mug, 1)],
        email="ann@example.com",
        shipping_price=Decimal("10"),
        discounts=[manual],
    )
    read = await _read(sandbox, client, order.global_id)
    # 8 split by subtotal (30) and shipping (10): 2 off shipping, 6 off the line.
    assert read["shippingPrice"]["gross"]["amount"] == 8.0
    assert read["lines"][0]["totalPrice"]["gross"]["amount"] == 24.0
    assert read["total"]["gross"]["amount"] == 32.0
    assert read["undiscountedTotal"]["gross"]["amount"] == 40.0


def _two_mugs_with_a_gift_card(sandbox: SaleorSandbox, balance: Decimal) -> tuple[Any, Any]:
    """Two mugs at 12.30 and 5 of shipping, a gift card of `balance` added."""
    store = sandbox.store
    mug = store.create_product("Mug", [VariantSpec(sku="MUG", price=Decimal("12.30"))]).variants[0]
    checkout = store.create_checkout(
        lines=[LineSpec(mug.id, 2)], email="ann@example.com", shipping_price=Decimal("5")
    )
    store.update_checkout(checkout, gift_card_balance=balance)
    return mug, checkout


async def test_gift_cards_come_off_the_total_alone(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    store = sandbox.store
    mug, checkout = _two_mugs_with_a_gift_card(sandbox, Decimal("20"))
    assert store.checkout_total(checkout) == Decimal("9.60")
    assert store.complete_checkout(checkout).gift_cards_used == Decimal("20")
    # Taxed at 23 % (prices entered with tax), as a store with flat rates would have it.
    order = store.create_order(
        lines=[store.order_line_for(mug, 2, tax_rate=Decimal("0.23"))],
        email="ann@example.com",
        shipping_price=Decimal("5"),
        shipping_tax_rate=Decimal("0.23"),
        gift_cards_used=Decimal("20"),
    )
    read = await _read(sandbox, client, order.global_id)
    assert read["subtotal"] == {"gross": {"amount": 24.6}, "net": {"amount": 20.0}}
    assert read["total"]["gross"]["amount"] == 9.6
    # The net is lowered in proportion: 9.60 / (29.60 / 24.07).
    assert read["total"]["net"]["amount"] == 7.81
    assert read["undiscountedTotal"]["gross"]["amount"] == 29.6
    # Not lowered by the gift card either. Its net is the lines' undiscounted net plus the base
    # shipping price as entered, untaxed (`_create_order_from_checkout` adds that Money to net
    # and gross alike): 20.00 + 5.00.
    assert read["undiscountedTotal"]["net"]["amount"] == 25.0
    assert read["discounts"] == []


async def test_shares_round_half_up_and_the_last_line_takes_the_rest(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    """`quantize_price` rounds half up; the last line takes what the others' rounded shares
    left (`propagate_order_discount_on_order_lines_prices`)."""
    store = sandbox.store
    pea = store.create_product("Pea", [VariantSpec(sku="PEA", price=Decimal("0.50"))]).variants[0]
    bean = store.create_product("Bean", [VariantSpec(sku="BEAN", price=Decimal("0.50"))])
    fig = store.create_product("Fig", [VariantSpec(sku="FIG", price=10)]).variants[0]
    halves = store.create_order(
        lines=[store.order_line_for(pea, 1), store.order_line_for(bean.variants[0], 1)],
        email="ann@example.com",
        discounts=[store.new_discount(Decimal("0.05"), type=OrderDiscountType.VOUCHER)],
    )
    thirds = store.create_order(
        lines=[store.order_line_for(fig, 1) for _ in range(3)],
        email="ann@example.com",
        discounts=[store.new_discount(Decimal("10"), type=OrderDiscountType.VOUCHER)],
    )
    too_much = store.create_order(
        lines=[store.order_line_for(fig, 1)],
        email="ann@example.com",
        discounts=[store.new_discount(Decimal("50"), type=OrderDiscountType.VOUCHER)],
    )
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    read = {}
    for name, order in (("halves", halves), ("thirds", thirds), ("too_much", too_much)):
        body = await gql(client, ORDER, {"id": order.global_id}, token=app.auth_token)
        read[name] = body["data"]["order"]
    totals = {
        n: [ln["totalPrice"]["gross"]["amount"] for ln in o["lines"]] for n, o in read.items()
    }
    assert totals == {"halves": [0.47, 0.48], "thirds": [6.67, 6.67, 6.66], "too_much": [0.0]}
    # A discount larger than what it applies to is recorded as what it took off.
    assert read["too_much"]["discounts"] == [{"type": "VOUCHER", "amount": {"amount": 10.0}}]
    assert read["too_much"]["total"]["gross"]["amount"] == 0.0


async def test_a_checkout_paid_with_a_gift_card_becomes_an_order_net_of_it(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    store = sandbox.store
    _, checkout = _two_mugs_with_a_gift_card(sandbox, Decimal("40"))
    assert store.checkout_total(checkout) == 0
    order = store.complete_checkout(checkout)
    read = await _read(sandbox, client, order.global_id)
    assert read["total"]["gross"]["amount"] == 0.0  # the card paid it all
    assert read["subtotal"]["gross"]["amount"] == 24.6
    assert read["undiscountedTotal"]["gross"]["amount"] == 29.6


SHIPPING = """query($id: ID!) { order(id: $id) {
    shippingPrice { gross { amount } net { amount } } undiscountedShippingPrice { amount }
    undiscountedTotal { gross { amount } } } }"""


async def test_the_undiscounted_shipping_price_is_the_base_as_entered(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    """`undiscountedShippingPrice` is `undiscounted_base_shipping_price` (saleor/graphql/order/
    types.py `resolve_undiscounted_shipping_price`): the shipping method's price as entered,
    before vouchers (saleor/checkout/complete_checkout.py `base_checkout_undiscounted_delivery_
    price`), net where the channel enters prices without tax, whose tax comes on top
    (`calculate_flat_rate_tax`); `undiscountedTotal` adds it as it is."""
    store = sandbox.store
    mug = store.create_product("Mug", [VariantSpec(sku="MUG", price=30)]).variants[0]
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    read: list[Any] = []
    for entered_with_tax in (True, False):
        store.tax_configuration(
            store.default_channel().slug
        ).prices_entered_with_tax = entered_with_tax
        voucher = store.new_discount(Decimal("1"), in_prices=True, shipping_part=Decimal("1"))
        order = store.create_order(
            lines=[store.order_line_for(mug, 1)],
            email="ann@example.com",
            shipping_price=Decimal("9"),  # 10 as entered, 1 off by a shipping voucher
            shipping_tax_rate=Decimal("0.25"),
            discounts=[voucher],
        )
        body = await gql(client, SHIPPING, {"id": order.global_id}, token=app.auth_token)
        read.append(body["data"]["order"])
    assert read == [
        {
            "shippingPrice": {"gross": {"amount": 9.0}, "net": {"amount": 7.2}},
            "undiscountedShippingPrice": {"amount": 10.0},
            "undiscountedTotal": {"gross": {"amount": 40.0}},
        },
        {
            "shippingPrice": {"gross": {"amount": 11.25}, "net": {"amount": 9.0}},
            "undiscountedShippingPrice": {"amount": 10.0},
            # The base as entered, net here, added to the gross untaxed.
            "undiscountedTotal": {"gross": {"amount": 40.0}},
        },
    ]


BY_ORIGIN = """query($id: ID!) { order(id: $id) { shippingTaxRate
    undiscountedShippingPrice { amount }
    undiscountedTotal { gross { amount } net { amount } } } }"""


async def test_the_undiscounted_total_adds_shipping_as_each_origin_has_it(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    """Prices entered net, shipping 10.00 at 25 %, a line of 30.00 untaxed: placed from a
    checkout, the base as it is, on net and gross (`_create_order_from_checkout`); a draft's
    recalculated with the base taxed (`_set_order_totals`: 10.00 net, 12.50 gross); an
    import's, its shipping price, whose net is its base (`order_bulk_create.py`)."""
    store = sandbox.store
    store.tax_configuration(store.default_channel().slug).prices_entered_with_tax = False
    mug = store.create_product("Mug", [VariantSpec(sku="MUG", price=30)]).variants[0]
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    read = {}
    for origin in (OrderOrigin.CHECKOUT, OrderOrigin.DRAFT, OrderOrigin.BULK_CREATE):
        order = store.create_order(
            lines=[store.order_line_for(mug, 1)],
            email="ann@example.com",
            shipping_price=Decimal("10"),
            shipping_tax_rate=Decimal("0.25"),
            origin=origin,
        )
        body = await gql(client, BY_ORIGIN, {"id": order.global_id}, token=app.auth_token)
        read[origin] = body["data"]["order"]
    assert {o: r["undiscountedTotal"] for o, r in read.items()} == {
        OrderOrigin.CHECKOUT: {"gross": {"amount": 40.0}, "net": {"amount": 40.0}},
        OrderOrigin.DRAFT: {"gross": {"amount": 42.5}, "net": {"amount": 40.0}},
        OrderOrigin.BULK_CREATE: {"gross": {"amount": 42.5}, "net": {"amount": 40.0}},
    }
    assert all(r["undiscountedShippingPrice"] == {"amount": 10.0} for r in read.values())
    assert all(r["shippingTaxRate"] == 0.25 for r in read.values())
