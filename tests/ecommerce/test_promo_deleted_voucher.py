"""An order's promo once its voucher is deleted (Saleor: `Order.voucher` is a ForeignKey with
on_delete=SET_NULL, saleor/order/models.py; `voucherCode` stays). Before, a free-shipping promo
was decided from `order.voucher` alone and turned into a "percentage" one; Mailchimp wants free
shipping "fixed" with amount 0 (`Promos_inner`)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sandboxes.saleor.order_models import DiscountValueType, Order, OrderDiscountType
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


async def test_a_shipping_discount_on_prices_entered_net_stays_fixed_once_deleted(
    shop: Shop,
) -> None:
    """The undiscounted shipping price is the base as entered, here net: 10 % off 5.00 leaves
    4.50 net, 5.62 gross with 25 % tax on top, above the base. Compared gross, the deleted
    voucher was taken for an order one, and its discount, which keeps the voucher's kind (a
    completed draft's: saleor/discount/utils/voucher.py), made its promo a percentage."""
    await choose(shop, "all")
    store = shop.saleor.store
    store.tax_configuration(CHANNEL).prices_entered_with_tax = False
    product = await shop.product("Fig", "10.00")
    voucher = await shop.saleor.vouchers.create(
        "Season",
        ["SEASON"],
        channels={CHANNEL: 10},
        type=VoucherType.SHIPPING,
        value_type=DiscountValueType.PERCENTAGE,
    )
    off = Decimal("0.50")
    discount = store.new_discount(
        off,
        type=OrderDiscountType.VOUCHER,
        value_type=DiscountValueType.PERCENTAGE,
        value=Decimal(10),
        in_prices=True,
        shipping_part=off,
    )
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)],
        shipping_price=Decimal("4.50"),
        shipping_tax_rate=Decimal("0.25"),
        discounts=[discount],
        voucher_code="SEASON",
        email="fig@example.com",
    )
    await run_all(shop)
    await shop.saleor.vouchers.delete(voucher)
    await shop.saleor.add_order_note(order, "shipped late")
    await run_all(shop)
    promos = [(p["amount_discounted"], p["type"]) for p in shop.orders()[str(order.number)].promos]
    assert promos == [(0.5, "fixed")]


async def test_an_order_voucher_keeps_its_amount_once_deleted(shop: Shop) -> None:
    """Shipping untouched: not taken for a shipping voucher. Its kind is the voucher's while
    Saleor still has it; once deleted only the order's discount is left, which Saleor stores
    "as a fixed value" for an order placed from a checkout (saleor/checkout/complete_checkout.py
    `_create_order_discount`): the same amount, "fixed"."""
    before, after = await _order_then_delete(shop, VoucherType.ENTIRE_ORDER, 10)
    assert before == [(1.0, "percentage")]
    assert after == [(1.0, "fixed")]
