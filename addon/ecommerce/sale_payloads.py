"""Saleor → Mailchimp for what a shopper buys: orders, with their payment and fulfilment state
(abandoned carts: `cart_payloads.py`). Pure functions, like `payloads.py` whose ids, amounts and
customers they use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from addon.ecommerce.amounts import money
from addon.ecommerce.links import fill_url
from addon.ecommerce.marketing import NO_TRACKING_RULES, TrackingOptions, order_tracking
from addon.ecommerce.orphans import line_ref
from addon.ecommerce.payloads import (
    NO_OPT_IN,
    OptInPolicy,
    customer_ref,
    line_discount,
    mailchimp_id,
    order_address,
)
from addon.ecommerce.payment_state import ENDED_UNSOLD as ENDED_UNSOLD
from addon.ecommerce.payment_state import financial_status, forgiven, refunded_goods
from addon.ecommerce.promo_payloads import order_promos
from addon.ecommerce.saleor_schemas import SaleorOrder, SaleorOrderLine
from addon.mailchimp import (
    OrderInput,
    OrderLineInput,
    OrderPatch,
)

# Checkout metadata keys the storefront writes (documented in docs/ecommerce.md); Saleor copies
# checkout metadata to the order it becomes.
CAMPAIGN_KEY = "mailchimp_campaign_id"
TRACKING_CODE_KEY = "mailchimp_tracking_code"
LANDING_SITE_KEY = "mailchimp_landing_site"


class TrackedOrderInput(OrderInput):
    """`OrderInput` plus Mailchimp's `tracking_code` (its only allowed value is "prec")."""

    tracking_code: Literal["prec"] | None = None


class TrackedOrderPatch(OrderPatch):
    tracking_code: Literal["prec"] | None = None


# --- orders ----------------------------------------------------------------------------------


def unit_price(total: Decimal, quantity: int, currency: str) -> float:
    """A line's `price`: Mailchimp's is the price of one item, which it multiplies by the
    quantity (sent the line total, it showed the quantity times it: mailchimp/mc-woocommerce
    issues 7 and 11); Mailchimp for WooCommerce sends the line total over the quantity."""
    return money(total / max(quantity, 1), currency)


def never_paid(order: SaleorOrder) -> bool:
    """Nobody ever started paying: no transaction, no payment (a refunded order has some)."""
    return not order.transactions and not order.payments


def tentative(order: SaleorOrder) -> bool:
    """An order nobody has confirmed or paid yet, as Saleor tells the orders it expires once
    its channel's `expireOrdersAfter` has passed (saleor/order/tasks.py `_expire_orders`:
    UNCONFIRMED, no transaction, no payment; a zero-total one included). Mailchimp sends an
    Order Confirmation for an order created `pending`, and a Cancellation Confirmation once it
    is `cancelled` (mailchimp.com/help/test-or-troubleshoot-order-notifications): sent now, a
    shopper who never paid would get both. Mailchimp for WooCommerce likewise sends no new
    order still pending payment (class-mailchimp-woocommerce-single-order.php `process`). It
    goes to Mailchimp once confirmed or paid; ended first (expired, cancelled), never. One with
    a payment under way (a transaction pending, even failed) is not expired by Saleor, and goes
    as `pending`, as Saleor keeps it."""
    return order.status == "UNCONFIRMED" and never_paid(order)


def fulfillment_status(order: SaleorOrder) -> str | None:
    """ "shipped" triggers Mailchimp's shipping confirmation. A return leaves it as Mailchimp
    holds it (None is not sent): Saleor's returns also take lines never shipped ("List of
    unfulfilled lines to return", saleor/graphql/order/mutations/fulfillment_return_products.py),
    which then count as fulfilled, and a shipment left empty by a return is deleted
    (saleor/order/actions.py `create_fulfillments_for_returned_products`), so a RETURNED order
    cannot tell whether anything was shipped. Sent `shipped`, an order nothing was shipped of
    got a Shipping Confirmation.

    A cancelled shipment (`fulfillmentCancel`, then ORDER_UPDATED: saleor/order/actions.py
    `cancel_fulfillment`) takes the shipped status back: "" is sent, so Mailchimp holds the
    order as not shipped and the next shipment sets a shipped value again, which is what sends
    a Shipping Confirmation. So is one that leaves part of the order shipped, until a shipment
    made after it: sent `partially_shipped` where Mailchimp held `shipped`, the cancellation
    itself would send one."""
    if order.status == "FULFILLED":
        return "shipped"
    cancelled = order.shipment_cancelled
    if order.status == "PARTIALLY_FULFILLED":
        shipped = order.last_shipped
        shipped_since = cancelled is None or (shipped is not None and shipped > cancelled)
        return "partially_shipped" if shipped_since else ""
    if order.status in _UNSHIPPED and any(f.status == "CANCELED" for f in order.fulfillments):
        return ""
    return None


# What an order with nothing shipped is (an order is cancelled only once its shipments are
# cancelled, returned or refunded: `Order.can_cancel`, saleor/order/models.py; "" then too).
_UNSHIPPED = frozenset({"UNCONFIRMED", "UNFULFILLED", "CANCELED"})


def _shipping_off(order: SaleorOrder, lines_before: Decimal) -> Decimal:
    """What discounts took off the shipping, gross: its undiscounted price as gross
    (`undiscounted_shipping_gross`) less the price paid. Where Saleor does not say it (3.20),
    what `undiscountedTotal` adds for it, less the lines' undiscounted totals."""
    gross = order.shipping_price.gross.amount
    before = order.undiscounted_shipping_gross
    if before is None:
        before = order.undiscounted_total.gross.amount - lines_before
    return max(before - gross, Decimal(0))


def _iso(value: Any) -> str:
    return str(value.isoformat())


def processed_at(order: SaleorOrder, order_id: str) -> str:
    """The order's `processed_at_foreign`, "the date and time the order was processed" (the
    spec's `E_commerce_Order_1`), which Mailchimp's reports and automations date it by: when
    it was placed (`SaleorOrder.placed`: a draft's completion, not the draft's `created`). One
    kept under its UUID (`order_id`) is dated by its `created`, as the versions that keyed orders
    so dated them all: a later adoption of the store takes the newest of those dates for the
    end of its UUID orders, compared with `created` (`store_pusher._adopt_orders`); a later one
    would take the orders sent under their number before it for UUID ones, each sent again."""
    return _iso(order.created if order_id == mailchimp_id(order.id) else order.placed)


def cancelled_at(order: SaleorOrder, held: bool) -> str | None:
    """When a cancelled (or expired) order ended, the same at every push: its CANCELED (or
    EXPIRED) event's date (`SaleorOrder.ended`). Not `updatedAt`: every later save of the order
    moves it (a note, a metadata write), and each push would tell Mailchimp a new cancellation
    time. Without such an event (an import: `orderBulkCreate` records none), the time first
    sent stays: `updatedAt` when Mailchimp is told of the order, nothing once it holds it
    (`held`; a PATCH leaves a field it does not name as it is)."""
    if order.status not in ENDED_UNSOLD:
        return None
    ended = order.ended
    if ended is not None:
        return _iso(ended)
    return None if held else _iso(order.updated_at)


def obfuscated(email: str) -> bool:
    """A guest's address Saleor hides on an order from before 3.2 (`use_old_id`: "j...@x.example"
    for everyone, saleor/graphql/order/types.py `resolve_user_email`, with its billing names):
    no shopper's, and never a valid one (a local part has no ".." in it)."""
    return "..." in email.partition("@")[0]


def order_id(order: SaleorOrder, held_as: str | None, uuid_before: datetime | None) -> str:
    """The order's Mailchimp id: its number (#1042), which Mailchimp shows as the order's in
    order notifications and reports, as Mailchimp for WooCommerce sends it (mc-woocommerce
    `setId($woo->get_order_number())`, "the customer wants to see this ID", PR #451), where
    Saleor's id is a UUID. An order Mailchimp holds keeps the id it holds it under
    (`held_as`, the ledger's); so does one that may be in the store under its UUID from before
    (`uuid_before`: the store's orders were keyed so until then, by an earlier version or a
    previous installation, `MailchimpStore.uuid_orders_before`): sent under its number, it
    would be a second order. Compared with its `created`, which is never after its placing:
    a draft begun before and completed after goes under its UUID at worst, never twice (the
    cutoff of an adopted store is read from `processed_at` dates, which are `created` for
    orders kept so)."""
    if held_as:
        return held_as
    if uuid_before is not None and order.created < uuid_before:
        return mailchimp_id(order.id)
    return order.number


def order_input(
    order: SaleorOrder,
    *,
    order_id: str,
    campaign_id: str | None,
    opt_in: OptInPolicy = NO_OPT_IN,
    held: bool = False,
    orphans: Mapping[str, str] | None = None,
    tracking: TrackingOptions = NO_TRACKING_RULES,
    sent_lines: Sequence[SaleorOrderLine] | None = None,
) -> TrackedOrderInput | None:
    """The order, or None when it has no line Mailchimp can reference (or no e-mail, or one Saleor
    hides: `obfuscated`). `sent_lines`: the lines Mailchimp holds the products of (None: all);
    the order's value and what its discounts took off stay the whole order's. `held`:
    Mailchimp holds the order already, so with no usable line left it still takes the order's
    fields, with no lines, for a PATCH. `orphans`: the Mailchimp product of each deleted
    variant's id (`orphans.py`); a deleted variant's line without one is left out. `tracking`:
    the carrier and link of each shipping method, for the shipment's tracking number (sent with
    "shipped", so Mailchimp's shipping confirmation carries them)."""
    email = order.user.email if order.user else order.user_email
    if not email or obfuscated(email):
        return None
    currency = order.total.currency or order.channel.currency_code
    lines = []
    for line in order.lines if sent_lines is None else sent_lines:
        ref = line_ref(line, orphans or {})
        if ref is None:
            continue
        discount = line_discount(line)
        lines.append(
            OrderLineInput(
                id=mailchimp_id(line.id),
                product_id=ref[0],
                product_variant_id=ref[1],
                quantity=line.quantity,
                price=unit_price(line.total_price.gross.amount, line.quantity, currency),
                discount=money(discount, currency) or None,
            )
        )
    if not lines and not held:
        return None
    attribution = order.attribution or {}
    # The order's value: its lines and shipping, with every discount taken off. Not `total`:
    # Saleor takes the gift cards a shopper paid with off the total alone (saleor/checkout/
    # calculations.py `calculate_checkout_total_with_gift_cards`, its net in proportion, so its
    # tax shrinks too), and a gift card is a payment, not a discount. Mailchimp's revenue is the
    # orders' totals less shipping and tax: net of gift cards, an order paid with one would
    # count less than its goods (below nothing, when a card paid it all). (A card sold in the
    # store counts once when sold and again when spent, as any payment's goods do.)
    value = order.subtotal.gross.amount + order.shipping_price.gross.amount
    tax = sum((m.tax.amount for m in (order.subtotal, order.shipping_price) if m.tax), Decimal(0))
    # What the discounts took off: each line's (its share of order-level ones included), and
    # the shipping's. Not the undiscounted total less the value in one: for an order placed
    # from a checkout Saleor adds the base shipping price as entered to both its net and gross
    # (saleor/checkout/complete_checkout.py `_create_order_from_checkout`), untaxed where
    # prices are entered without tax, which would count the shipping's tax as a discount.
    lines_before = sum(
        (line.undiscounted_total_price.gross.amount for line in order.lines), Decimal(0)
    )
    discount = sum((line_discount(line) for line in order.lines), Decimal(0)) + _shipping_off(
        order, lines_before
    )
    # Less what was refunded, as Mailchimp for WooCommerce does (its order total less
    # `get_total_refunded()`).
    status = financial_status(order)
    # A legacy refund can leave `totalRefunded` at 0 (see `financial_status`): refunded is none.
    # An overcharge refunded is no refund of the order (`refunded_goods`).
    # A granted refund never charged is no sale either (`forgiven`).
    kept = (
        Decimal(0)
        if status == "refunded"
        else max(value - refunded_goods(order) - forgiven(order), Decimal(0))
    )
    shipping = order.shipping_price.gross.amount
    if status in ("cancelled", "refunded"):
        # Mailchimp counts every order's total in revenue and the customer's total spent,
        # whatever its status: "Mailchimp API expects the order totals to be 0 when an order is
        # cancelled" (mailchimp/mc-magento2#1272, which zeroes these four; mc-magento#906). So
        # for one refunded in full: its revenue is its total less shipping and tax (the spec's
        # `total_revenue`), which the tax and shipping it was sent with would make negative.
        kept = discount = tax = shipping = Decimal(0)
    elif kept < value:
        # Refunded in part: its tax and shipping in the share kept, so that its revenue (total
        # less shipping and tax) shrinks with it and never goes below 0 (sent whole, a refund of
        # the goods alone left the order's revenue at minus its tax).
        share = kept / value
        tax, shipping = tax * share, shipping * share
    promos = order_promos(order)
    shipped = order_tracking(order, tracking)
    return TrackedOrderInput(
        id=order_id,
        customer=customer_ref(
            order.user,
            email,
            order.billing_address,
            opt_in,
            order.consent,
            consent_for=order.user_email,
        ),
        campaign_id=campaign_id,
        landing_site=attribution.get(LANDING_SITE_KEY) or None,
        tracking_code="prec" if attribution.get(TRACKING_CODE_KEY) == "prec" else None,
        financial_status=status,
        fulfillment_status=fulfillment_status(order),
        currency_code=currency,
        order_total=money(kept, currency),
        discount_total=money(discount, currency),
        tax_total=money(tax, currency),
        shipping_total=money(shipping, currency),
        # The shopper's page of the order, as Mailchimp for WooCommerce sends its view-order
        # link (`setOrderURL(get_view_order_url())`, class-mailchimp-woocommerce-transform-
        # orders-wc3.php): what Mailchimp's order notifications link to.
        # Left out rather than refused with the whole order: a template saved before the
        # settings checked it as a link (`links.py`) may not make one.
        order_url=fill_url(
            tracking.order_url_template,
            number=order.number,
            id=order.id,
            channel=order.channel.slug,
        ),
        processed_at_foreign=processed_at(order, order_id),
        cancelled_at_foreign=cancelled_at(order, held),
        updated_at_foreign=_iso(order.updated_at),
        billing_address=order_address(order.billing_address),
        shipping_address=order_address(order.shipping_address),
        promos=promos,
        tracking_number=shipped.number if shipped else None,
        tracking_url=shipped.url if shipped else None,
        tracking_carrier=shipped.carrier if shipped else None,
        lines=lines,
    )


# What an order can lose once Mailchimp holds it, sent empty when it has none: a PATCH keeps
# every field it does not name, so a tracking number removed in Saleor (or its fulfilment
# cancelled), or a voucher taken off an unconfirmed order, would stay in Mailchimp for good
# (Mailchimp replaces `promos` whole with the list given: the spec's `E_commerce_Order_2.promos`).
# Not the links (the order's, the tracking's, the landing page): Mailchimp refuses an order link
# that is not a full URL (mailchimp/mc-woocommerce#217) and nothing says it takes an empty one,
# so a refused PATCH would cost the whole order; nor the tracking code (its one allowed value is
# "prec"), the addresses (parts given are merged) or the cancellation date (any value cancels).
EMPTIED: dict[str, str | list[object]] = {
    "promos": [],
    "tracking_number": "",
    "tracking_carrier": "",
}


def order_patch(order: TrackedOrderInput, *, lines: bool = False) -> TrackedOrderPatch:
    """The top-level fields of an order as a PATCH (the customer and campaign are set on
    creation); with `lines`, its lines too, each named by id (`OrderPatch.lines`): Mailchimp
    updates those it holds and adds the others, with the order's new totals in the same body."""
    fields = order.model_dump(exclude={"id", "customer", "lines", "campaign_id"})
    fields |= {name: empty for name, empty in EMPTIED.items() if fields.get(name) is None}
    patch = TrackedOrderPatch.model_validate(fields)
    return patch.model_copy(update={"lines": list(order.lines)}) if lines else patch
