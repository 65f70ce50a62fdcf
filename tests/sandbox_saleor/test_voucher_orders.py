"""Vouchers on orders: what Saleor refuses, the discounts it records, codes given back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.order_models import DiscountValueType, OrderLine, OrderStatus
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.voucher_input import VoucherRefused
from sandboxes.saleor.voucher_models import VoucherType

from .conftest import FakeApp
from .test_vouchers import install_voucher_app


async def test_orders_refuse_a_voucher_saleor_would_not_apply(sandbox: SaleorSandbox) -> None:
    """`get_voucher_for_checkout` (active code, `active_in_channel`) and `validate_voucher`."""
    channel = sandbox.store.default_channel().slug
    sandbox.store.add_channel("other")
    now = datetime.now(UTC)
    staff = sandbox.store.create_customer("staff@x.test", is_staff=True)
    cases: list[tuple[str, dict[str, Any]]] = [
        ("LATER", {"start_date": now + timedelta(days=1)}),
        ("ENDED", {"start_date": now - timedelta(days=2), "end_date": now - timedelta(days=1)}),
        ("LIMIT", {"usage_limit": 1}),
        ("SINGLE", {"single_use": True}),
        ("ONCE", {"apply_once_per_customer": True}),
        ("STAFF", {"only_for_staff": True}),
        ("QTY", {"min_checkout_items_quantity": 4}),
    ]
    for code, fields in cases:
        await sandbox.vouchers.create(code, [code], channels={channel: 1}, **fields)
    await sandbox.vouchers.create(
        "Spend", ["SPEND"], channels={channel: 1}, min_spent={channel: Decimal("50.01")}
    )
    await sandbox.vouchers.create("Elsewhere", ["ELSEWHERE"], channels={"other": 1})
    for code in ("LIMIT", "SINGLE", "ONCE"):  # their first use is fine
        await sandbox.vouchers.create_order(code, lines=_lines(sandbox), email="a@x.test")
    await sandbox.vouchers.create_order(
        "STAFF", lines=_lines(sandbox), user=staff, email=staff.email
    )
    for code in ("LATER", "ENDED", "LIMIT", "SINGLE", "ONCE", "STAFF", "QTY", "SPEND", "ELSEWHERE"):
        with pytest.raises(VoucherRefused, match="Voucher not applicable") as refused:
            await sandbox.vouchers.create_order(code, lines=_lines(sandbox), email="a@x.test")
        assert refused.value.code == "VOUCHER_NOT_APPLICABLE", code
    assert sandbox.vouchers.voucher_of("LIMIT").codes[0].used == 1
    assert sandbox.vouchers.voucher_of("SINGLE").codes[0].is_active is False


async def test_percentages_round_half_up_on_line_totals(sandbox: SaleorSandbox) -> None:
    """`percentage_discount(..., rounding=ROUND_HALF_UP)` (saleor/discount/models.py), taken
    off a line's total for SPECIFIC_PRODUCT (`calculate_line_discount_amount_from_voucher`)."""
    channel = sandbox.store.default_channel().slug
    odd = sandbox.store.create_product("Odd", [VariantSpec(sku="ODD", price=Decimal("20.05"))])
    tiny = sandbox.store.create_product("Tiny", [VariantSpec(sku="TINY", price=Decimal("0.05"))])
    for code, kind in (
        ("ORDER10", VoucherType.ENTIRE_ORDER),
        ("LINE10", VoucherType.SPECIFIC_PRODUCT),
    ):
        await sandbox.vouchers.create(
            code,
            [code],
            channels={channel: 10},
            type=kind,
            value_type=DiscountValueType.PERCENTAGE,
        )
    order = await sandbox.vouchers.create_order(
        "ORDER10", lines=[sandbox.order_line(odd.variants[0], 1)], email="a@x.test"
    )
    assert order.discounts[0].amount == Decimal("2.01")  # 2.005, half up
    lined = await sandbox.vouchers.create_order(
        "LINE10",
        lines=[sandbox.order_line(tiny.variants[0], 3)],
        email="a@x.test",
        legacy_propagation=True,
    )
    assert lined.discounts[0].amount == Decimal("0.02")  # 10% of 0.15, not 3 x 10% of 0.05


async def test_a_line_level_voucher_comes_off_the_lines_total(sandbox: SaleorSandbox) -> None:
    """saleor/checkout/base_calculations.py `calculate_base_line_total_price`: the base total
    less the voucher's discount, and the unit price that total over the quantity, rounded
    (`calculate_base_line_unit_price`); not a rounded unit price times the quantity."""
    channel = sandbox.store.default_channel().slug
    mug = sandbox.store.create_product("Mug", [VariantSpec(sku="MUG", price=Decimal("9.99"))])
    await sandbox.vouchers.create(
        "One off",
        ["ONEOFF"],
        channels={channel: 10},
        type=VoucherType.SPECIFIC_PRODUCT,
        value_type=DiscountValueType.PERCENTAGE,
        apply_once_per_order=True,
    )
    order = await sandbox.vouchers.create_order(
        "ONEOFF",
        lines=[sandbox.order_line(mug.variants[0], 3)],
        email="a@x.test",
        checkout_token=uuid.uuid4(),
    )
    [line] = order.lines
    # 10 % of one unit: 0.999, so 1.00 off 29.97. Spread over the units first, 0.33 each, it
    # would have made 28.98.
    assert line.total_gross == Decimal("28.97")
    assert line.price_gross(order.step) == Decimal("9.66")  # 9.6566…, half up
    assert line.unit_discount(order.step, placed_from_checkout=True) == Decimal("0.33")
    assert order.subtotal_gross == Decimal("28.97")


def _lines(sandbox: SaleorSandbox) -> list[OrderLine]:
    mug = sandbox.store.create_product("Mug", [VariantSpec(sku="MUG", price=Decimal("20"))])
    cap = sandbox.store.create_product("Cap", [VariantSpec(sku="CAP", price=Decimal("10"))])
    return [sandbox.order_line(mug.variants[0], 2), sandbox.order_line(cap.variants[0], 1)]


async def test_orders_carry_the_discount_saleor_records(sandbox: SaleorSandbox) -> None:
    channel = sandbox.store.default_channel().slug
    lines = _lines(sandbox)
    pct = await sandbox.vouchers.create(
        "Pct",
        ["PCT"],
        channels={channel: 10},
        value_type=DiscountValueType.PERCENTAGE,
        usage_limit=100,
    )
    order = await sandbox.vouchers.create_order("PCT", lines=lines, email="a@x.test")
    [discount] = order.discounts
    # Stored "as a fixed value" (saleor/checkout/complete_checkout.py `_create_order_discount`).
    assert (discount.amount, discount.value) == (Decimal("5.00"), Decimal("5.00"))
    assert discount.value_type is DiscountValueType.FIXED
    assert order.total_gross == Decimal("45.00") and pct.codes[0].used == 1

    await sandbox.vouchers.create(
        "Ship", ["SHIP"], channels={channel: 4}, type=VoucherType.SHIPPING
    )
    shipped = await sandbox.vouchers.create_order(
        "SHIP", lines=_lines(sandbox), shipping_price=Decimal("6"), email="a@x.test"
    )
    assert shipped.shipping_price_gross == Decimal("2") and shipped.total_gross == Decimal("52")
    assert shipped.discounts[0].amount == Decimal("4")

    item = await sandbox.vouchers.create(
        "Item", ["ITEM"], channels={channel: 3}, type=VoucherType.SPECIFIC_PRODUCT
    )
    lined = await sandbox.vouchers.create_order("ITEM", lines=_lines(sandbox), email="a@x.test")
    # The channel's legacy propagation (Saleor's default) shows it as one order discount.
    assert [d.amount for d in lined.discounts] == [Decimal(9)]
    assert lined.total_gross == Decimal("41")
    assert [ln.voucher_code for ln in lined.lines] == ["ITEM", "ITEM"]
    assert item.codes[0].used == 0  # no usage limit: Saleor does not count


async def test_an_order_keeps_its_voucher_when_the_code_is_deleted(
    sandbox: SaleorSandbox, fake_app: FakeApp
) -> None:
    """`Order.voucher` is a foreign key set when the order is placed, SET_NULL when the voucher
    is deleted (saleor/order/models.py): deleting the order's code alone keeps it."""
    await install_voucher_app(sandbox, fake_app, ["MANAGE_DISCOUNTS", "MANAGE_ORDERS"])
    app = next(iter(sandbox.store.apps.values()))
    channel = sandbox.store.default_channel().slug
    voucher = await sandbox.vouchers.create("Keep", ["KEEP", "SPARE"], channels={channel: 5})
    order = await sandbox.vouchers.create_order("KEEP", lines=_lines(sandbox), email="a@x.test")
    query = "query ($id: ID!) { order(id: $id) { voucherCode voucher { id } } }"

    async def held() -> dict[str, Any]:
        body = await sandbox.execute(query, {"id": order.global_id}, app=app)
        assert "errors" not in body, body
        found: dict[str, Any] = body["data"]["order"]
        return found

    code = voucher.code_named("KEEP")
    assert code is not None
    await sandbox.vouchers.delete_codes([code])
    assert await held() == {"voucherCode": "KEEP", "voucher": {"id": voucher.global_id}}
    await sandbox.vouchers.delete(voucher)
    assert await held() == {"voucherCode": "KEEP", "voucher": None}


async def test_an_expired_order_gives_its_codes_use_back(sandbox: SaleorSandbox) -> None:
    """saleor/order/tasks.py `_expire_orders`: an unconfirmed order never paid expires, and
    `_bulk_release_voucher_usage` takes its use off the code (never below 0)."""
    channel = sandbox.store.default_channel().slug
    voucher = await sandbox.vouchers.create("Once", ["ONCE"], channels={channel: 1}, usage_limit=5)
    order = await sandbox.vouchers.create_order(
        "ONCE",
        lines=_lines(sandbox),
        email="a@x.test",
        paid=False,
        status=OrderStatus.UNCONFIRMED,
    )
    assert voucher.codes[0].used == 1
    edited = sandbox.store.get_order(order.id).updated_at
    expired = await sandbox.expire_order(order)
    assert expired.status is OrderStatus.EXPIRED and voucher.codes[0].used == 0
    assert expired.updated_at == edited  # a queryset update(): `auto_now` is not applied
    paid = await sandbox.vouchers.create_order("ONCE", lines=_lines(sandbox), email="b@x.test")
    with pytest.raises(ValueError, match="unconfirmed orders without payments"):
        await sandbox.expire_order(paid)


async def test_usage_settings_are_fixed_once_a_code_was_used(sandbox: SaleorSandbox) -> None:
    """voucher_update.py `clean_voucher_usage_setting`: VOUCHER_ALREADY_USED."""
    channel = sandbox.store.default_channel().slug
    voucher = await sandbox.vouchers.create("Once", ["ONCE"], channels={channel: 1})
    await sandbox.vouchers.update(voucher, usage_limit=10)  # not used yet: allowed
    await sandbox.vouchers.create_order("ONCE", lines=_lines(sandbox), email="a@x.test")
    for field, value in (("usage_limit", 20), ("single_use", True)):
        with pytest.raises(VoucherRefused) as refused:
            await sandbox.vouchers.update(voucher, **{field: value})
        assert refused.value.code == "VOUCHER_ALREADY_USED"
    await sandbox.vouchers.update(voucher, usage_limit=10)  # unchanged: allowed
    assert voucher.usage_limit == 10 and not voucher.single_use
