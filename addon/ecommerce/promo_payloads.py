"""Saleor vouchers → Mailchimp promo rules and promo codes. Pure functions.

A voucher of a tracked channel is one promo rule (id: the voucher's pk) in that channel's store,
its codes the rule's promo codes. Mailchimp's fields (OpenAPI 3.0.81, `promo-rules`):

* `type`: the voucher's discount value type, "percentage" or "fixed"; `amount`: the channel's
  discount value, a percentage as a fraction (Mailchimp: "a decimal value between 0.0 and 1.0").
  Free shipping (a 100 % SHIPPING voucher) is "fixed" with amount 0, as Mailchimp asks.
* `target`: ENTIRE_ORDER → "total" ("per_item" when applied once per order: Saleor then
  discounts the cheapest item only), SPECIFIC_PRODUCT → "per_item", SHIPPING → "shipping".
* `description` (required): what the code gives, in words; `title`: the voucher's name.
* `starts_at` / `ends_at`: the voucher's dates; `enabled`: false once the voucher is used up
  (its usage limit reached), else true (Mailchimp applies the dates itself; a voucher no longer
  offered is deleted, see `promo_sync.py`; one ending as it starts is not offered, `offered`;
  an end date cleared re-creates the rule, `PromoPusher._change_rule`).
* a code: its code, `redemption_url` from the admin's template, `usage_count`, `enabled` (Saleor
  deactivates a single-use code once used; none is usable once the voucher is used up).
"""

from __future__ import annotations

from decimal import Decimal

from addon.ecommerce.amounts import amount_text, money
from addon.ecommerce.links import fill_url, full_url
from addon.ecommerce.payloads import line_discount, mailchimp_id
from addon.ecommerce.promo_models import PromoOffer
from addon.ecommerce.promo_schemas import SaleorVoucher, VoucherCode, VoucherListing
from addon.ecommerce.saleor_schemas import SaleorOrder, SaleorOrderLine
from addon.mailchimp import Promo
from addon.mailchimp.promos import (
    PromoCodeInput,
    PromoRuleInput,
    PromoTarget,
    PromoType,
    fit_title,
)

MAX_CODE = 50  # Mailchimp's limit for a code (and its id)
MAX_URL = 2000  # Mailchimp's limit for a code's `redemption_url`
TRUE_VALUES = {"true", "yes", "1"}
HUNDRED = Decimal(100)


def offered(voucher: SaleorVoucher, offer: PromoOffer, flag_key: str) -> bool:
    """Whether the admin's choice sends this voucher to Mailchimp: every voucher a shopper can
    use (not one only staff can, Saleor refuses it to anyone else, unless flagged: the admin
    asked for it), or those flagged. Never one
    that ends as it starts: Saleor accepts an end equal to the start (saleor/graphql/core/
    validators `validate_end_is_after_start` refuses only an earlier one), Mailchimp refuses a
    rule whose `ends_at` is not after `starts_at`, and no order can use it in practice
    (`VoucherQueryset.active`: started and not ended, at that very instant only)."""
    if voucher.end_date is not None and voucher.end_date <= voucher.start_date:
        return False
    flagged = (voucher.meta(flag_key) or "").strip().lower() in TRUE_VALUES
    if offer is PromoOffer.ALL:
        return not voucher.only_for_staff or flagged
    return offer is PromoOffer.FLAGGED and flagged


def _target(voucher: SaleorVoucher) -> PromoTarget:
    if voucher.type == "SHIPPING":
        return "shipping"
    if voucher.type == "SPECIFIC_PRODUCT" or voucher.apply_once_per_order:
        return "per_item"
    return "total"


def _value(listing: VoucherListing, voucher: SaleorVoucher) -> tuple[PromoType, float]:
    value = listing.discount_value
    if voucher.discount_value_type == "PERCENTAGE":
        if voucher.type == "SHIPPING" and value >= HUNDRED:
            return "fixed", 0.0  # free shipping, as Mailchimp's `type` description asks
        return "percentage", float(value / HUNDRED)
    return "fixed", money(value, listing.currency)


def describe(voucher: SaleorVoucher, listing: VoucherListing) -> str:
    """E.g. "10% off the order over 50.00 USD", "5.00 EUR off each eligible item", "10% off
    the order on 3 items or more"."""
    value = listing.discount_value
    if voucher.discount_value_type == "PERCENTAGE":
        amount = f"{value.normalize():f}%"
    else:
        amount = f"{amount_text(value, listing.currency)} {listing.currency}"
    target = _target(voucher)
    if target == "shipping":
        text = "Free shipping" if amount == "100%" else f"{amount} off shipping"
    elif target == "per_item":
        text = f"{amount} off each eligible item"
        if voucher.apply_once_per_order:
            text = f"{amount} off the cheapest eligible item"
    else:
        text = f"{amount} off the order"
    if listing.min_spent is not None and listing.min_spent.amount > 0:
        text += (
            f" over {amount_text(listing.min_spent.amount, listing.currency)} {listing.currency}"
        )
    if voucher.min_items and voucher.min_items > 1:
        # Saleor refuses the code for fewer items in the cart (`minCheckoutItemsQuantity`).
        text += f" on {voucher.min_items} items or more"
    return text[:255]


def rule_input(voucher: SaleorVoucher, channel: str) -> PromoRuleInput | None:
    """The voucher's promo rule in `channel`'s store; None when not sold in that channel."""
    listing = voucher.listing(channel)
    if listing is None:
        return None
    kind, amount = _value(listing, voucher)
    description = describe(voucher, listing)
    return PromoRuleInput(
        id=mailchimp_id(voucher.id),
        title=fit_title(voucher.name or description),
        description=description,
        starts_at=voucher.start_date.isoformat(),
        ends_at=voucher.end_date.isoformat() if voucher.end_date else None,
        amount=amount,
        type=kind,
        target=_target(voucher),
        enabled=not voucher.used_up,
    )


def redemption_url(template: str | None, code: str, channel: str, fallback: str) -> str | None:
    """The admin's template filled in (`links.fill_url`); the store's address without one, or
    where it makes no full link or one over Mailchimp's limit (cut, it would carry part of the
    code). Mailchimp requires a link, and refuses one that is not a full URL as it refuses such
    an `order_url` (`links.py`): None when the store's address is none either (a domain Saleor
    gives with a space or non-ASCII letters), which leaves the code out (`code_input`)."""
    url = fill_url(template, code=code, channel=channel)
    if url is not None and len(url) <= MAX_URL:
        return url
    return fallback if full_url(fallback) is not None and len(fallback) <= MAX_URL else None


def code_input(
    code: VoucherCode, redemption: str | None, usage: int, used_up: bool = False
) -> PromoCodeInput | None:
    """A code as a promo code; None for one Mailchimp cannot hold (empty, over 50 characters,
    no redemption link: `redemption_url`).
    `usage`: the orders the app pushed with it (Saleor's `used` counts only under a limit);
    `used_up`: its voucher's (`SaleorVoucher.used_up`)."""
    if not code.code or len(code.code) > MAX_CODE or redemption is None:
        return None
    return PromoCodeInput(
        id=mailchimp_id(code.id),
        code=code.code,
        redemption_url=redemption[:MAX_URL],
        usage_count=max(code.used or 0, usage),
        enabled=code.is_active is not False and not used_up,
    )


def order_promos(order: SaleorOrder) -> list[Promo] | None:
    """The order's `promos`: its voucher code with the amount the voucher took off and its type.

    Saleor records an ENTIRE_ORDER or SHIPPING voucher as an order discount of type VOUCHER (a
    shipping one lowers the shipping price), a line-level one (SPECIFIC_PRODUCT, apply once per
    order) on the lines carrying its code, and in the order's discounts as well on 3.20 and with
    the channel's legacy propagation (saleor/graphql/order/types.py `Order.resolve_discounts`):
    the VOUCHER discounts when there are any, else the voucher's part of the code's lines
    (`_voucher_part`); manual discounts and promotions are not the code's. The type is the
    voucher's own kind: an order placed from a checkout stores it "as a fixed value" of the
    amount (saleor/checkout/complete_checkout.py `_create_order_discount`: every voucher on
    3.20, an order-level one since 3.21, a line-level one under the channel's legacy
    propagation, its default), so a FIXED discount is a percentage when `order.voucher` is one
    (once the voucher is deleted, only "fixed" is left to tell); a draft keeps the voucher's
    kind (saleor/discount/utils/voucher.py). A shipping voucher
    (`_for_shipping`) is "fixed", as Mailchimp asks for shipping; one that made shipping free
    (nothing left to pay for it: a 100 % voucher, or a fixed one covering the whole price) is
    sent with amount 0, as Mailchimp's spec asks (`Promos_inner.amount_discounted`: "For free
    shipping set amount_discounted to 0"; `type`: "For free shipping set type to fixed"), and a
    partial one with the amount it saved.
    """
    code = order.voucher_code
    if not code:
        return None
    vouchers = [d for d in order.discounts if d.type == "VOUCHER"]
    coded = [line for line in order.lines if line.voucher_code == code]
    voucher = order.voucher
    if vouchers:
        amount = sum((d.amount.amount for d in vouchers), Decimal(0))
        kinds = {d.value_type for d in vouchers}
    else:
        amount = sum((_voucher_part(line) for line in coded), Decimal(0))
        kinds = {
            d.value_type for line in coded for d in line.discounts or () if d.type == "VOUCHER"
        }
    percentage = kinds == {"PERCENTAGE"} or (
        kinds <= {"FIXED"} and voucher is not None and voucher.discount_value_type == "PERCENTAGE"
    )
    shipping = _for_shipping(order, bool(vouchers), bool(coded))
    kind: PromoType = "percentage" if percentage and not shipping else "fixed"
    if shipping and order.shipping_price.gross.amount <= 0:
        amount = Decimal(0)  # free shipping (see above)
    currency = order.total.currency or order.channel.currency_code
    return [Promo(code=code, amount_discounted=money(amount, currency), type=kind)]


def _voucher_part(line: SaleorOrderLine) -> Decimal:
    """What a line-level voucher took off its line. Saleor applies it to the price a catalogue
    promotion already lowered (saleor/discount/utils/voucher.py
    `prepare_line_discount_objects_for_voucher`), so the line's discounts of type VOUCHER where
    Saleor shows them (`OrderLine.discounts`, 3.21+); else all the line's discounts
    (`payloads.line_discount`), the promotion's included."""
    if line.discounts is None:
        return line_discount(line)
    return sum((d.total.amount for d in line.discounts if d.type == "VOUCHER"), Decimal(0))


def _for_shipping(order: SaleorOrder, order_level: bool, on_lines: bool) -> bool:
    """Whether the order's voucher is a SHIPPING one: its type while Saleor still has it; once
    deleted (`Order.voucher` is SET_NULL, saleor/order/models.py; `voucherCode` stays), what the
    order shows: an order-level VOUCHER discount, no line with the code, and a shipping price
    below the undiscounted one (an ENTIRE_ORDER voucher leaves shipping alone; a manual discount,
    which also takes its share of it, replaces such a voucher's discount). The undiscounted
    price is the base as entered, so it is compared taxed where prices are entered without tax
    (`undiscounted_shipping_gross`: a 10 % voucher on 5.00 entered net, taxed 25 %, leaves
    5.63 gross, above the base but below its 6.25)."""
    if order.voucher is not None:
        return order.voucher.type == "SHIPPING"
    before = order.undiscounted_shipping_gross
    if not order_level or on_lines or before is None:
        return False
    return order.shipping_price.gross.amount < before
