"""How an order placed from a checkout records its voucher (saleor/checkout/complete_checkout.py
`_create_order_discount`, `_create_order_line_discount_object_for_voucher`), by version."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.checkout_vouchers import add_promo_code
from sandboxes.saleor.models import Checkout
from sandboxes.saleor.order_discounts import line_discounts
from sandboxes.saleor.order_models import DiscountValueType, Order, OrderDiscountType
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION
from sandboxes.saleor.voucher_models import VoucherType

VERSIONS = pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
PERCENT = DiscountValueType.PERCENTAGE


async def _placed(sandbox: SaleorSandbox, code: str) -> Order:
    """A checkout of 2 x 10.00 and 1 x 5.00, shipping 4.00, with `code`, completed."""
    store = sandbox.store
    shirt = store.create_product("Shirt", [VariantSpec(sku="SHIRT", price=Decimal("10.00"))])
    mug = store.create_product("Mug", [VariantSpec(sku="MUG", price=Decimal("5.00"))])
    checkout: Checkout = await sandbox.create_checkout(
        lines=[LineSpec(shirt.variants[0].id, 2), LineSpec(mug.variants[0].id, 1)],
        shipping_price=Decimal("4.00"),
        email="ann@example.com",
    )
    add_promo_code(store, checkout, code)
    return await sandbox.complete_checkout(checkout)


def _vouchers(order: Order) -> list[tuple[DiscountValueType, Decimal, Decimal]]:
    return [
        (d.value_type, d.value, d.amount)
        for d in order.discounts
        if d.type is OrderDiscountType.VOUCHER
    ]


@VERSIONS
@pytest.mark.parametrize("kind", [VoucherType.ENTIRE_ORDER, VoucherType.SHIPPING])
async def test_an_order_level_voucher_is_stored_as_the_fixed_amount_taken_off(
    sandbox: SaleorSandbox, version: str, kind: VoucherType
) -> None:
    """ "Store voucher as a fixed value" (`_create_order_discount`, 3.20.119 and current)."""
    sandbox.version = version
    channel = sandbox.store.default_channel().slug
    await sandbox.vouchers.create(
        "Tenth", ["TENTH"], channels={channel: 10}, type=kind, value_type=PERCENT
    )
    order = await _placed(sandbox, "TENTH")
    amount = Decimal("2.50") if kind is VoucherType.ENTIRE_ORDER else Decimal("0.40")
    assert _vouchers(order) == [(DiscountValueType.FIXED, amount, amount)]


@VERSIONS
async def test_a_line_level_voucher_with_legacy_propagation_is_one_fixed_order_discount(
    sandbox: SaleorSandbox, version: str
) -> None:
    """3.20.119: one VOUCHER OrderDiscount of every voucher. Since 3.21.0 OrderLineDiscounts,
    FIXED under the channel's legacy propagation (on by default), shown summed as one
    OrderDiscount whose value is the first line's (`Order.resolve_discounts`)."""
    sandbox.version = version
    channel = sandbox.store.default_channel().slug
    await sandbox.vouchers.create(
        "Tenth",
        ["TENTH"],
        channels={channel: 10},
        type=VoucherType.SPECIFIC_PRODUCT,
        value_type=PERCENT,
    )
    order = await _placed(sandbox, "TENTH")
    first = Decimal(2) if version == CURRENT_VERSION else Decimal("2.50")
    assert _vouchers(order) == [(DiscountValueType.FIXED, first, Decimal("2.50"))]
    assert all(not line_discounts(line, order) for line in order.lines)


async def test_without_legacy_propagation_the_lines_keep_the_vouchers_own_kind(
    sandbox: SaleorSandbox,
) -> None:
    sandbox.store.default_channel().use_legacy_line_discount_propagation_for_order = False
    channel = sandbox.store.default_channel().slug
    await sandbox.vouchers.create(
        "Tenth",
        ["TENTH"],
        channels={channel: 10},
        type=VoucherType.SPECIFIC_PRODUCT,
        value_type=PERCENT,
    )
    order = await _placed(sandbox, "TENTH")
    assert _vouchers(order) == []
    views = [view for line in order.lines for view in line_discounts(line, order)]
    assert [(v.value_type, v.value, v.total) for v in views] == [
        (PERCENT, Decimal(10), Decimal(2)),
        (PERCENT, Decimal(10), Decimal("0.50")),
    ]


async def test_at_3_20_a_line_level_percentage_is_stored_as_the_checkouts_unit_by_unit_amount(
    sandbox: SaleorSandbox,
) -> None:
    """3.20.119 stores `checkout.discount_amount`: `get_products_voucher_discount`, each unit's
    15 % rounded half up (0.165 -> 0.17, three times), while the line lost 15 % of its total
    (`calculate_line_discount_amount_from_voucher`: 0.495 -> 0.50). Since 3.21.0 the lines'
    discounts are what is stored, so the two agree."""
    sandbox.version = OLDEST_VERSION
    store = sandbox.store
    channel = store.default_channel().slug
    pea = store.create_product("Pea", [VariantSpec(sku="PEA", price=Decimal("1.10"))])
    await sandbox.vouchers.create(
        "Peas", ["PEAS"], channels={channel: 15}, type=VoucherType.SPECIFIC_PRODUCT,
        value_type=PERCENT,
    )  # fmt: skip
    checkout: Checkout = await sandbox.create_checkout(
        lines=[LineSpec(pea.variants[0].id, 3)], shipping_price=Decimal("1"), email="a@x.test"
    )
    add_promo_code(store, checkout, "PEAS")
    order = await sandbox.complete_checkout(checkout)
    assert _vouchers(order) == [(DiscountValueType.FIXED, Decimal("0.51"), Decimal("0.51"))]
    [line] = order.lines
    assert line.total_gross == Decimal("2.80")
