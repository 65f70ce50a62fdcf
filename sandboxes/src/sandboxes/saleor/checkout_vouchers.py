"""A voucher code on a checkout, as Saleor holds it (read at commit 723cd4e; 3.20.119 alike).

* ``checkoutAddPromoCode(id, promoCode)`` (saleor/graphql/checkout/mutations/
  checkout_add_promo_code.py) runs `add_promo_code_to_checkout` (saleor/checkout/utils.py): a
  code no `VoucherCode` has, nor a gift card, is `InvalidPromoCode` (saleor/core/utils/
  promo_code.py: code INVALID on ``promoCode``). Gift cards are not modelled: their codes are
  refused the same way. A voucher's code goes to `add_voucher_code_to_checkout`, which asks
  `get_voucher_code_instance` (saleor/discount/utils/voucher.py) for the code active and its
  voucher `active_in_channel` (an active channel it is listed in, started, not ended, under its
  usage limit), else `InvalidPromoCode` again; then `add_voucher_to_checkout` computes the
  discount (`get_voucher_discount_for_checkout`, which first runs `validate_voucher`: minimum
  spent on the subtotal, minimum quantity, once per customer, staff only) and any
  `NotApplicable` is VOUCHER_NOT_APPLICABLE on ``promoCode``. Accepted, the checkout keeps the
  code (`Checkout.voucher_code`), the discount and its name, and CHECKOUT_UPDATED is sent.
* Prices (saleor/checkout/base_calculations.py, and the flat-rate path saleor/tax/calculations/
  checkout.py `update_checkout_prices_with_flat_rates`, or `_set_checkout_base_prices` in
  saleor/checkout/calculations.py without taxes): a SPECIFIC_PRODUCT or apply-once-per-order
  voucher lowers the lines it applies to (`attach_voucher_to_line_info`,
  `calculate_line_discount_amount_from_voucher`); an ENTIRE_ORDER voucher's discount is spread
  over the lines in proportion to their totals (`get_line_total_price_with_propagated_checkout_
  discount`); a SHIPPING voucher lowers the delivery price (`base_checkout_delivery_price`). The
  subtotal is the sum of the lines' totals, the total that plus delivery: both include it.
* Prices recalculated (`recalculate_checkout_discount`): a voucher no longer active or valid is
  removed from the checkout (`get_voucher_for_checkout`, `check_voucher_for_checkout`).

Not modelled: a voucher's products, collections, categories and variants (the sandbox's
vouchers have none: a SPECIFIC_PRODUCT voucher then applies to every line, as
`get_discounted_lines` does without them), its countries, delivery methods (a checkout's
`shipping_price` stands for its chosen method's; 0 is none chosen), taxes, gift cards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from .models import Checkout, CheckoutLine, utcnow
from .money import currency_places
from .order_models import DiscountValueType, OrderDiscount, OrderDiscountType, OrderLine
from .versions import checkout_line_voucher_on_lines
from .voucher_models import Voucher, VoucherCode, VoucherType, apply_line_level, discount_amount

if TYPE_CHECKING:
    from .store_checkouts import StoreCheckouts
    from .store_orders import StoreOrders

ZERO = Decimal(0)


class PromoCodeRefused(Exception):
    """One CheckoutError of `checkoutAddPromoCode`, on ``promoCode``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.error: dict[str, object] = {
            "field": "promoCode",
            "message": message,
            "code": code,
            "variants": None,
            "lines": None,
        }


def _invalid() -> PromoCodeRefused:
    # `InvalidPromoCode`: GiftCardErrorCode.INVALID ("invalid"), a CheckoutErrorCode too.
    return PromoCodeRefused("INVALID", "Promo code is invalid")


class _NotApplicable(Exception):
    """saleor/discount/models.py `NotApplicable`."""


@dataclass
class CheckoutPrices:
    """A checkout's prices with its voucher, untaxed (`TaxedMoney` net = gross here)."""

    lines: dict[int, Decimal] = field(default_factory=dict)  # line pk -> total price
    subtotal: Decimal = ZERO
    shipping: Decimal = ZERO
    discount: Decimal = ZERO  # `Checkout.discount`: the voucher's alone
    voucher: Voucher | None = None


def find_code(store: StoreCheckouts, code: str) -> tuple[Voucher, VoucherCode] | None:
    """`promo_code_is_voucher`: any `VoucherCode` of that code, active or not."""
    for voucher in store.vouchers.values():
        found = voucher.code_named(code)
        if found is not None:
            return voucher, found
    return None


def _active_in_channel(store: StoreCheckouts, voucher: Voucher, code: VoucherCode, ch: int) -> bool:
    """`get_voucher_code_instance` / `get_voucher_for_checkout`: the code active, its voucher
    `active_in_channel` (an active channel with a listing, dates, usage limit)."""
    channel = store.channels[ch]
    return (
        code.is_active
        and channel.is_active
        and voucher.listing_for(ch) is not None
        and voucher.is_active_at(utcnow())
    )


def add_promo_code(store: StoreCheckouts, checkout: Checkout, promo_code: str) -> None:
    """`add_promo_code_to_checkout` for a voucher's code (gift cards are not modelled)."""
    found = find_code(store, promo_code)
    if found is None:
        raise _invalid()
    voucher, code = found
    if not _active_in_channel(store, voucher, code, checkout.channel_id):
        raise _invalid()
    try:
        _discount(store, checkout, voucher)
    except _NotApplicable:
        raise PromoCodeRefused(
            "VOUCHER_NOT_APPLICABLE", "Voucher is not applicable to this checkout."
        ) from None
    checkout.voucher_code = code.code


def checkout_voucher(store: StoreCheckouts, checkout: Checkout) -> tuple[Voucher, Decimal] | None:
    """The checkout's voucher and its discount, or None; a voucher that stopped applying is
    removed, as recalculating the checkout's prices does (`recalculate_checkout_discount`)."""
    held = checkout.voucher_code
    if held is None:
        return None
    found = find_code(store, held)
    try:
        if found is None or not _active_in_channel(store, *found, checkout.channel_id):
            raise _NotApplicable
        voucher = found[0]
        discount = _discount(store, checkout, voucher)
    except _NotApplicable:
        checkout.voucher_code = None
        return None
    if voucher.type is not VoucherType.SHIPPING:
        discount = min(discount, _base_subtotal(store, checkout))
    return voucher, discount


def _base_subtotal(store: StoreCheckouts, checkout: Checkout) -> Decimal:
    return sum((store.checkout_line_total(checkout, ln) for ln in checkout.lines), ZERO)


def _unit(store: StoreCheckouts, checkout: Checkout, line: CheckoutLine) -> Decimal:
    """`variant_discounted_price`: the unit price after catalogue promotions."""
    return store.checkout_line_total(checkout, line) / max(line.quantity, 1)


def _places(store: StoreCheckouts, checkout: Checkout) -> int:
    return currency_places(store.channels[checkout.channel_id].currency_code)


def _value(voucher: Voucher, checkout: Checkout) -> tuple[DiscountValueType, Decimal]:
    listing = voucher.listing_for(checkout.channel_id)
    if listing is None:  # `Voucher.get_discount`
        raise _NotApplicable
    return voucher.discount_value_type, listing.discount_value


def _validate(store: StoreCheckouts, checkout: Checkout, voucher: Voucher) -> None:
    """`validate_voucher_for_checkout` / `validate_voucher`."""
    listing = voucher.listing_for(checkout.channel_id)
    if listing is None:
        raise _NotApplicable
    if listing.min_spent and _base_subtotal(store, checkout) < listing.min_spent:
        raise _NotApplicable
    quantity = sum(line.quantity for line in checkout.lines)
    if voucher.min_checkout_items_quantity and voucher.min_checkout_items_quantity > quantity:
        raise _NotApplicable
    user = store.customers.get(checkout.user_id) if checkout.user_id is not None else None
    # `get_customer_email_for_voucher_usage`: the user's e-mail before the checkout's.
    email = user.email if user is not None else checkout.email
    if voucher.apply_once_per_customer and any(email in c.customer_emails for c in voucher.codes):
        raise _NotApplicable
    if voucher.only_for_staff and (user is None or not user.is_staff):
        raise _NotApplicable


def _discount(store: StoreCheckouts, checkout: Checkout, voucher: Voucher) -> Decimal:
    """`get_voucher_discount_for_checkout` (saleor/checkout/utils.py)."""
    _validate(store, checkout, voucher)
    kind, value = _value(voucher, checkout)
    places = _places(store, checkout)
    units = [_unit(store, checkout, ln) for ln in checkout.lines for _ in range(ln.quantity)]
    if voucher.type is VoucherType.SHIPPING:
        # `_get_shipping_voucher_discount_for_checkout`: every sandbox line needs shipping.
        if checkout.shipping_price <= 0:
            raise _NotApplicable  # "Please select a delivery method first."
        return discount_amount(kind, value, checkout.shipping_price, places)
    if not units:
        raise _NotApplicable  # "This offer is only valid for selected items."
    if voucher.apply_once_per_order:
        return discount_amount(kind, value, min(units), places)
    if voucher.type is VoucherType.ENTIRE_ORDER:
        return discount_amount(kind, value, _base_subtotal(store, checkout), places)
    # SPECIFIC_PRODUCT: `get_products_voucher_discount`, unit by unit.
    return sum((discount_amount(kind, value, unit, places) for unit in units), ZERO)


def _line_level_off(
    store: StoreCheckouts, checkout: Checkout, voucher: Voucher
) -> dict[int, Decimal]:
    """`attach_voucher_to_line_info` and `calculate_line_discount_amount_from_voucher`: what a
    SPECIFIC_PRODUCT or apply-once-per-order voucher takes off each line's total."""
    kind, value = _value(voucher, checkout)
    places = _places(store, checkout)
    lines = list(checkout.lines)
    if voucher.apply_once_per_order and lines:  # `get_the_cheapest_line`
        lines = [min(lines, key=lambda ln: _unit(store, checkout, ln))]
    offs: dict[int, Decimal] = {}
    for line in lines:
        total = store.checkout_line_total(checkout, line)
        unit = _unit(store, checkout, line)
        if voucher.apply_once_per_order:
            off = min(discount_amount(kind, value, unit, places), unit)
        elif kind is DiscountValueType.PERCENTAGE:
            off = discount_amount(kind, value, total, places)
        else:
            off = min(discount_amount(kind, value, unit, places) * line.quantity, total)
        offs[line.id] = off
    return offs


def checkout_prices(store: StoreCheckouts, checkout: Checkout) -> CheckoutPrices:
    """The lines' totals, subtotal and delivery price with the checkout's voucher."""
    step = Decimal(1).scaleb(-_places(store, checkout))
    base = {ln.id: store.checkout_line_total(checkout, ln) for ln in checkout.lines}
    prices = CheckoutPrices(lines=dict(base), shipping=checkout.shipping_price)
    held = checkout_voucher(store, checkout)
    if held is not None:
        voucher, discount = held
        prices.voucher, prices.discount = voucher, discount
        if voucher.type is VoucherType.SHIPPING:
            prices.shipping = max(checkout.shipping_price - discount, ZERO)
        elif voucher.apply_once_per_order or voucher.type is VoucherType.SPECIFIC_PRODUCT:
            for pk, off in _line_level_off(store, checkout, voucher).items():
                prices.lines[pk] = max(base[pk] - off, ZERO)
        else:
            _propagate(prices.lines, discount, step)
    prices.subtotal = sum(prices.lines.values(), ZERO)
    return prices


def _propagate(totals: dict[int, Decimal], discount: Decimal, step: Decimal) -> None:
    """`_propagate_checkout_discount_on_checkout_lines_prices`: in proportion to each line's
    total, rounded, the last line taking what is left."""
    total = sum(totals.values(), ZERO)
    remaining = discount
    keys = list(totals)
    for index, pk in enumerate(keys):
        line_total = totals[pk]
        if not total:
            totals[pk] = ZERO
        elif index < len(keys) - 1:
            share = min((line_total / total * discount).quantize(step, ROUND_HALF_UP), line_total)
            totals[pk] = max(line_total - share, ZERO)
            remaining -= share
        else:
            totals[pk] = max(line_total - remaining, ZERO)


@dataclass
class OrderVoucher:
    """What `checkoutComplete` hands `create_order` for the checkout's voucher."""

    code: str | None = None
    shipping_price: Decimal = ZERO
    discounts: list[OrderDiscount] = field(default_factory=list)


def order_voucher(
    store: StoreCheckouts,
    checkout: Checkout,
    lines: list[OrderLine],
    email: str | None,
    version: str,
) -> OrderVoucher:
    """The checkout's voucher on its order, as `SandboxVouchers.create_order` records an order
    placed with a code (saleor/checkout/complete_checkout.py `_process_voucher_data_for_order`,
    `increase_voucher_usage`): ENTIRE_ORDER an OrderDiscount spread over the lines, SHIPPING off
    the shipping price, a line-level voucher off the lines (which carry its code; `lines` are
    changed; `placed_line_voucher`). An order-level one is stored "as a fixed value", the amount
    taken off, whatever the voucher's kind (`_create_order_discount`, complete_checkout.py
    :1149-1183 at 3.20.119, :1299-1338 at 723cd4e). The code's use is counted."""
    answer = OrderVoucher(shipping_price=checkout.shipping_price)
    held = checkout_voucher(store, checkout)
    code_name = checkout.voucher_code
    found = find_code(store, code_name) if code_name else None
    if held is None or found is None:
        return answer
    voucher, code = found
    kind, value = _value(voucher, checkout)
    places = _places(store, checkout)
    common = placed_voucher_fields(voucher, code.code)
    if voucher.type is VoucherType.ENTIRE_ORDER and not voucher.apply_once_per_order:
        answer.discounts.append(store.new_discount(held[1], **common))
    elif voucher.type is VoucherType.SHIPPING:
        amount = min(held[1], checkout.shipping_price)
        answer.shipping_price -= amount
        answer.discounts.append(
            store.new_discount(amount, in_prices=True, shipping_part=amount, **common)
        )
    else:
        apply_line_level(voucher, code.code, kind, value, lines, None, places)
        legacy = store.channels[checkout.channel_id].use_legacy_line_discount_propagation_for_order
        answer.discounts += placed_line_voucher(
            store, voucher, code.code, lines, version, legacy, places, held[1]
        )
    voucher.count_use(code, email)
    answer.code = code.code
    return answer


def placed_voucher_fields(voucher: Voucher, code: str) -> dict[str, object]:
    """An order-level voucher's OrderDiscount on an order placed from a checkout: type VOUCHER,
    FIXED, its value the amount (`new_discount`'s default) ("Store voucher as a fixed value",
    `_create_order_discount`, complete_checkout.py:1164-1183 at 3.20.119)."""
    return {
        "type": OrderDiscountType.VOUCHER,
        "name": voucher.name,
        "value_type": DiscountValueType.FIXED,
        "reason": f"Voucher code: {code}",
    }


def placed_line_voucher(
    store: StoreOrders,
    voucher: Voucher,
    code: str,
    lines: list[OrderLine],
    version: str,
    legacy: bool,
    places: int,
    checkout_amount: Decimal | None = None,
) -> list[OrderDiscount]:
    """A line-level voucher's record on an order placed from a checkout, `lines` already carrying
    it (`apply_line_level`). At 3.20.119 one OrderDiscount, FIXED, of the amount
    (`_create_order_discount`). Since 3.21.0 OrderLineDiscounts: with the channel's legacy
    propagation FIXED of each line's amount (complete_checkout.py:511-515 at 723cd4e), shown as
    one OrderDiscount summing them whose value is the first line's (saleor/graphql/order/
    types.py:1989-2050 `Order.resolve_discounts`) and not among the lines' discounts
    (`OrderLine.resolve_discounts`, order_discounts.py); without it the voucher's own kind and
    value on each line, and no OrderDiscount."""
    carried = [line for line in lines if line.voucher_code == code and line.voucher_off > 0]
    on_lines = checkout_line_voucher_on_lines(version)
    if not carried or (on_lines and not legacy):
        return []
    amount: Decimal | None
    if on_lines:
        amount = sum((line.voucher_off for line in carried), ZERO)
    else:
        # The checkout's voucher discount (`checkout.discount_amount`): each unit's, rounded
        # half up, summed (saleor/discount/utils/voucher.py `get_products_voucher_discount` at
        # 3.20.119), where the lines' totals lost a percentage of each line's total: 15 % of
        # 3 x 1.10 is 0.51 here, 0.50 off the line.
        # `checkout_amount`: the checkout's own, where the order is placed from one.
        amount = checkout_amount
        if amount is None:
            amount = sum((_units_off(line, voucher, places) for line in carried), ZERO)
    for line in carried:
        line.voucher_value_type, line.voucher_value = (
            DiscountValueType.FIXED.value,
            line.voucher_off,
        )
    value = carried[0].voucher_off if on_lines else amount
    fields = placed_voucher_fields(voucher, code)
    return [store.new_discount(amount, in_prices=True, value=value, **fields)]


def _units_off(line: OrderLine, voucher: Voucher, places: int) -> Decimal:
    """What a line-level voucher takes off the line's units one by one (`apply_line_level` set
    its kind and value on the line): the one unit of an apply-once-per-order voucher as it is."""
    if voucher.apply_once_per_order:
        return line.voucher_off
    kind = DiscountValueType(line.voucher_value_type)
    return discount_amount(kind, line.voucher_value, line.unit_price_gross, places) * line.quantity
