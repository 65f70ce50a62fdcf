"""Order-level discounts spread into an order's prices, as Saleor does when it places an order.

An entire-order voucher, an order promotion and a staff's manual discount are not subtracted
from the order's total apart: Saleor takes them off the lines' totals, in proportion to each
line's total, the last line taking what rounding left (saleor/order/base_calculations.py
`propagate_order_discount_on_order_lines_prices`, and for a checkout
saleor/checkout/base_calculations.py `_propagate_checkout_discount_on_checkout_lines_prices`),
so `subtotal` and the lines' `totalPrice` are net of them. A manual discount also takes its
share off the shipping price (`propagate_order_discount_on_order_prices`: a percentage off both,
a fixed amount split by subtotal and shipping). Shipping and line-level vouchers are already in
the base prices (`OrderDiscount.in_prices`).
"""

from __future__ import annotations

from decimal import Decimal

from .order_models import Order, OrderDiscount, OrderDiscountType
from .voucher_models import currency_places

ZERO = Decimal(0)


def spread_order_discounts(order: Order) -> None:
    """Take every order-level discount not yet in the prices off the lines (and, for a manual
    one, the shipping price), then mark it so."""
    step = Decimal(1).scaleb(-currency_places(order.currency))
    for discount in order.discounts:
        if discount.in_prices:
            continue
        amount = discount.amount
        if discount.type is OrderDiscountType.MANUAL:
            amount -= _off_shipping(order, discount, step)
        _off_lines(order, amount, step)
        discount.in_prices = True


def _off_shipping(order: Order, discount: OrderDiscount, step: Decimal) -> Decimal:
    subtotal, shipping = order.subtotal_gross, order.shipping_price_gross
    if subtotal + shipping <= 0:
        return ZERO
    part = min((discount.amount * shipping / (subtotal + shipping)).quantize(step), shipping)
    if part:
        ratio = order.shipping_price_net / shipping if shipping else Decimal(1)
        order.shipping_price_gross = shipping - part
        order.shipping_price_net = (order.shipping_price_gross * ratio).quantize(step)
        discount.shipping_part = part
    return part


def _off_lines(order: Order, amount: Decimal, step: Decimal) -> None:
    lines = order.lines
    totals = [line.total_gross for line in lines]
    subtotal = sum(totals, ZERO)
    remaining = amount
    for index, (line, total) in enumerate(zip(lines, totals, strict=True)):
        if not subtotal:
            return
        if index < len(lines) - 1:
            share = min((total / subtotal * amount).quantize(step), total)
            remaining -= share
        else:
            share = min(remaining, total)
        line.discount_share += share
