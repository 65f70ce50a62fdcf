"""An order's promo once its voucher is deleted (Saleor: `Order.voucher` is a ForeignKey with
on_delete=SET_NULL, saleor/order/models.py; `voucherCode` stays). Before, a free-shipping promo
was decided from `order.voucher` alone and turned into a "percentage" one; Mailchimp wants free
shipping "fixed" with amount 0 (`Promos_inner`)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sandboxes.saleor.order_models import DiscountValueType, Order
from sandboxes.saleor.voucher_models import VoucherType
from tests.ecommerce.conftest import CHANNEL, Shop, choose, run_all


async def _order_then_delete(
    shop: Shop, type_: VoucherType, value: int
) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """The order's promos before and after its voucher's deletion (the order pushed again)."""
    await choose(shop, "all")
    product = await shop.product("Fig", "10.00")
    voucher = await shop.saleor.vouchers.create(
        "Season",
        ["SEASON"],
        channels={CHANNEL: value},
        type=type_,
        value_type=DiscountValueType.PERCENTAGE,
    )
    order: Order = await shop.saleor.vouchers.create_order(
        "SEASON",
        lines=[shop.saleor.order_line(product.variants[0], 1)],
        shipping_price=Decimal("5"),
        email="fig@example.com",
        checkout_token=uuid.uuid4(),
    )
    await run_all(shop)
    before = [(p["amount_discounted"], p["type"]) for p in shop.orders()[str(order.number)].promos]
    await shop.saleor.vouchers.delete(voucher)
    await shop.saleor.add_order_note(order, "shipped late")
    await run_all(shop)
    after = [(p["amount_discounted"], p["type"]) for p in shop.orders()[str(order.number)].promos]
    return before, after


async def test_free_shipping_stays_free_shipping_once_its_voucher_is_deleted(shop: Shop) -> None:
    before, after = await _order_then_delete(shop, VoucherType.SHIPPING, 100)
    assert before == after == [(0.0, "fixed")]


async def test_a_partial_shipping_discount_stays_fixed_once_its_voucher_is_deleted(
    shop: Shop,
) -> None:
    before, after = await _order_then_delete(shop, VoucherType.SHIPPING, 40)
    assert before == after == [(2.0, "fixed")]  # 40 % of 5.00 shipping


async def test_an_order_voucher_keeps_its_amount_once_deleted(shop: Shop) -> None:
    """Shipping untouched: not taken for a shipping voucher. Its kind is the voucher's while
    Saleor still has it; once deleted only the order's discount is left, which Saleor stores
    "as a fixed value" for an order placed from a checkout (saleor/checkout/complete_checkout.py
    `_create_order_discount`): the same amount, "fixed"."""
    before, after = await _order_then_delete(shop, VoucherType.ENTIRE_ORDER, 10)
    assert before == [(1.0, "percentage")]
    assert after == [(1.0, "fixed")]
