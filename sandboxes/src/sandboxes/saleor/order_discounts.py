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

A line's own discounts (`OrderLine.discounts`, 3.21+) are `line_discounts`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .ids import to_global_id
from .order_models import (
    DiscountValueType,
    Order,
    OrderDiscount,
    OrderDiscountType,
    OrderLine,
    OrderOrigin,
)

ZERO = Decimal(0)


def spread_order_discounts(order: Order) -> None:
    """Take every order-level discount not yet in the prices off the lines (and, for a manual
    one, the shipping price), then mark it so."""
    step = order.step
    for discount in order.discounts:
        if discount.in_prices:
            continue
        off_shipping = ZERO
        if discount.type is OrderDiscountType.MANUAL:
            off_shipping = _off_shipping(order, discount, step)
        off_lines = _off_lines(order, discount.amount - off_shipping, step)
        # What was taken off, no more: Saleor writes it back (`amount_value`).
        discount.amount = off_shipping + off_lines
        discount.in_prices = True


def _off_shipping(order: Order, discount: OrderDiscount, step: Decimal) -> Decimal:
    subtotal, shipping = order.subtotal_gross, order.shipping_price_gross
    if subtotal + shipping <= 0:
        return ZERO
    share = discount.amount * shipping / (subtotal + shipping)
    part = min(share.quantize(step, ROUND_HALF_UP), shipping)
    if part:
        ratio = order.shipping_price_net / shipping if shipping else Decimal(1)
        order.shipping_price_gross = shipping - part
        order.shipping_price_net = (order.shipping_price_gross * ratio).quantize(step)
        discount.shipping_part = part
    return part


def _off_lines(order: Order, amount: Decimal, step: Decimal) -> Decimal:
    """Spread `amount` over the lines; answer how much was taken off them."""
    lines = order.lines
    totals = [line.total_gross for line in lines]
    subtotal = sum(totals, ZERO)
    if not subtotal:
        return ZERO
    remaining, taken = amount, ZERO
    for index, (line, total) in enumerate(zip(lines, totals, strict=True)):
        if index < len(lines) - 1:
            share = min((total / subtotal * amount).quantize(step, ROUND_HALF_UP), total)
            remaining -= share
        else:
            share = min(max(remaining, ZERO), total)
        line.discount_share += share
        taken += share
    return taken


@dataclass(frozen=True)
class LineDiscountView:
    """One `OrderLineDiscount` of a line as Saleor serves it (`OrderLine.discounts`, 3.21+)."""

    id: str
    type: OrderDiscountType
    value_type: DiscountValueType
    value: Decimal
    total: Decimal
    unit: Decimal
    name: str | None = None


def line_discounts(line: OrderLine, order: Order) -> list[LineDiscountView]:
    """The line's own discounts: its catalogue promotion's (type PROMOTION, what its base unit
    price is below the undiscounted one: saleor/discount/utils/promotion.py
    `prepare_line_discount_objects_for_catalogue_promotions`) and its line-level voucher's
    (type VOUCHER, taken off the promotion-discounted total: saleor/discount/utils/voucher.py
    `prepare_line_discount_objects_for_voucher`). Order-level discounts are not the line's.
    With the channel's legacy propagation an order placed from a checkout shows the voucher's
    as an OrderDiscount instead, not here (saleor/graphql/order/types.py
    `OrderLine.resolve_discounts`); the sandbox's legacy orders carry that OrderDiscount."""
    found: list[LineDiscountView] = []
    catalogue = line.undiscounted_unit_price_gross - line.unit_price_gross
    if catalogue > 0:
        found.append(_line_discount(line, order, OrderDiscountType.PROMOTION, catalogue))
    legacy = order.origin is OrderOrigin.CHECKOUT and any(
        d.type is OrderDiscountType.VOUCHER for d in order.discounts
    )
    if line.voucher_code and line.voucher_off > 0 and not legacy:
        kind = DiscountValueType(line.voucher_value_type)
        found.append(
            _line_discount(
                line, order, OrderDiscountType.VOUCHER, line.voucher_value, kind, whole=True
            )
        )
    return found


def _line_discount(
    line: OrderLine,
    order: Order,
    type_: OrderDiscountType,
    value: Decimal,
    kind: DiscountValueType = DiscountValueType.FIXED,
    *,
    whole: bool = False,
) -> LineDiscountView:
    """A discount of `value` off each unit (the catalogue's), or the voucher's `voucher_off`
    off the whole line (`whole`); `unit` is `total` over the quantity, rounded as Saleor's
    `OrderLineDiscount.resolve_unit`."""
    total = line.voucher_off if whole else value * line.quantity
    unit = (total / max(line.quantity, 1)).quantize(order.step, ROUND_HALF_UP)
    key = uuid.uuid5(uuid.NAMESPACE_OID, f"{order.token}:{line.id}:{type_.value}")
    return LineDiscountView(
        id=to_global_id("OrderLineDiscount", str(key)),
        type=type_,
        value_type=kind,
        value=value,
        total=total,
        unit=unit,
    )
