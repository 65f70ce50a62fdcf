"""What the sync ledger remembers of a push: the fingerprint of a Mailchimp request body, and
the order lines Mailchimp can take.

Live sync and the initial sync both record these in the ledger and compare them before sending,
so they must be computed in exactly one place: a drift between two copies would make live sync
re-push everything the initial sync sent, or skip real changes. Parts are hashed separately (a
product's fields and each variant; an order's or cart's fields and its lines), so a change sends
only the part that changed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from pydantic import SecretStr

from addon.ecommerce import cart_payloads, payloads, sale_payloads
from addon.ecommerce.checkout_schemas import SaleorCheckout
from addon.ecommerce.marketing import NO_TRACKING_RULES, TrackingOptions
from addon.ecommerce.models import HIDDEN_VARIANT, Fingerprint, hidden_variants
from addon.ecommerce.orphans import line_ref
from addon.ecommerce.saleor_schemas import SaleorOrder
from addon.mailchimp import (
    CartInput,
    CustomerInput,
    OrderInput,
    ProductInput,
    StoreInput,
)

# Child collections hashed apart from the top-level fields. An order's or cart's customer and
# campaign are set on creation only (Mailchimp's PATCH cannot change them), so they are left out
# (whom it belongs to is a part of its own, `BUYER`).
_ORDER_EXCLUDED = ("lines", "customer", "campaign_id")
# The parts of an order's or cart's fingerprint that say whom it belongs to: its customer (a
# cart's: with the address), and an order's address (`order_moved`).
BUYER = "customer"
BUYER_ADDRESS = "address"
# A cart's customer opted in: hashed with its top-level fields, which its PATCH sends.
_CART_OPT_IN = "customer.opt_in_status"

__all__ = [
    "BUYER",
    "BUYER_ADDRESS",
    "HIDDEN_VARIANT",
    "Fingerprint",
    "cart_body",
    "fingerprint",
    "hidden_variants",
    "order_body",
    "order_moved",
    "referable",
    "sold_variants",
    "usable_checkout",
    "usable_order",
    "with_hidden",
]

Fingerprinted = StoreInput | ProductInput | CustomerInput | OrderInput | CartInput


def fingerprint(body: Fingerprinted, dumped: dict[str, Any] | None = None) -> Fingerprint:
    """The fingerprint of a request body, as the ledger records it after a push. `dumped`: its
    `body()`, when the caller has made it already (for the request too)."""
    # One dump of the whole body: a child's part of it is what the child's own `body()` gives
    # (the same dump options apply all the way down), and dumping is most of the cost.
    if dumped is None:
        dumped = body.body()
    if isinstance(body, ProductInput):
        variants = dumped.get("variants", [])
        return Fingerprint(
            payloads.content_hash(_without(dumped, "variants")),
            {
                v.id: payloads.content_hash(part)
                for v, part in zip(body.variants, variants, strict=True)
            },
        )
    if isinstance(body, OrderInput | CartInput):
        children = {"lines": payloads.content_hash(dumped.get("lines", []))}
        if isinstance(body, CartInput):
            # Whom the cart's e-mails go to: a guest's corrected address, or a shopper signing
            # in, replaces the cart as changed lines do.
            customer = {"id": body.customer.id, "email": body.customer.email_address}
            children[BUYER] = payloads.content_hash(customer)
        else:
            # The Mailchimp customer holding the order, and the address its e-mails go to: both
            # change when staff correct a guest's address (`orderUpdate(userEmail)`, which may
            # also give the order another user or none), which a PATCH cannot carry
            # (`order_moved`).
            children[BUYER] = payloads.content_hash({"id": body.customer.id})
            address = (body.customer.email_address or "").strip().lower()
            children[BUYER_ADDRESS] = payloads.content_hash({"email": address})
        top = _without(dumped, *_ORDER_EXCLUDED)
        if isinstance(body, CartInput) and body.customer.opt_in_status:
            # The shopper's consent, recorded on the checkout after its cart was sent: the
            # cart's PATCH carries it (`cart_payloads.cart_patch`), a change of the top-level
            # part. Only when true, so carts without consent keep the hash they had.
            top[_CART_OPT_IN] = True
        return Fingerprint(payloads.content_hash(top), children)
    return Fingerprint(payloads.content_hash(dumped))


def order_moved(known: Mapping[str, str], pushing: Mapping[str, str]) -> bool:
    """Whether an order Mailchimp holds belongs to another shopper now: another customer, at
    another address. Staff correcting a guest's mistyped address (`orderUpdate(userEmail)`:
    saleor/graphql/order/mutations/order_update.py `clean_input`, which also gives the order
    the user of the new address, or none) change both. One alone is no move: a registered
    shopper's new address is their customer's (`email_change.py` re-creates it under the same
    id, its orders with it), and an order Saleor gives the user who registered with its
    guest's address (saleor/order/utils.py `match_orders_with_new_user`) goes to the same
    address; re-created, either would send its e-mails again. A part the record does not hold
    (recorded before these were, or unknown: `Fingerprint.unknown`) is not compared."""
    return all(
        bool(known.get(part)) and known[part] != pushing.get(part)
        for part in (BUYER, BUYER_ADDRESS)
    )


def with_hidden(pushing: Fingerprint, hidden: Iterable[str]) -> Fingerprint:
    """A product's fingerprint as the ledger records it: the variants it sells (`pushing`), and
    those Mailchimp holds hidden (`hidden`, those it sells left out), marked."""
    return Fingerprint(
        pushing.content_hash, {**dict.fromkeys(hidden, HIDDEN_VARIANT), **pushing.children}
    )


def sold_variants(children: Mapping[str, str]) -> set[str]:
    """The variants a product's record holds that are not hidden."""
    return {variant for variant, digest in children.items() if digest != HIDDEN_VARIANT}


def referable(children: Mapping[str, str], orders: bool) -> set[str]:
    """The variants of a product's record that lines may reference: an order's, every one
    Mailchimp holds (hidden ones too: it keeps its lines); a cart's, those not hidden."""
    return set(children) if orders else sold_variants(children)


def _without(dumped: dict[str, Any], *children: str) -> dict[str, Any]:
    """A dumped body without its child collections (`payloads.top_level` of a dump)."""
    return {k: v for k, v in dumped.items() if k not in children}


def usable_order(
    order: SaleorOrder, available: Collection[str], orphans: Mapping[str, str] | None = None
) -> SaleorOrder:
    """The order with only the lines whose variant Mailchimp holds (`available`: Mailchimp
    variant ids of live variants; `orphans`: Mailchimp variant id → product id of deleted
    variants, see `orphans.py`); a line of an unsent product cannot be referenced."""
    lines = [
        line
        for line in order.lines
        if (line.variant and payloads.mailchimp_id(line.variant.id) in available)
        or (line.variant is None and line_ref(line, orphans or {}) is not None)
    ]
    return order.model_copy(update={"lines": lines})


def usable_checkout(checkout: SaleorCheckout, available: Collection[str]) -> SaleorCheckout:
    """The checkout with only the lines whose variant Mailchimp holds."""
    lines = [ln for ln in checkout.lines if payloads.mailchimp_id(ln.variant.id) in available]
    return checkout.model_copy(update={"lines": lines})


def order_body(
    order: SaleorOrder,
    available: Collection[str],
    opt_in: payloads.OptInPolicy,
    *,
    order_id: str,
    held: bool = False,
    orphans: Mapping[str, str] | None = None,
    tracking: TrackingOptions = NO_TRACKING_RULES,
) -> sale_payloads.TrackedOrderInput | None:
    """The order as a channel's store takes it (usable lines, the campaign it came from), or
    None when Mailchimp cannot take it (a draft, no usable line, no e-mail). `held`: Mailchimp
    holds it already, so one whose lines are no longer usable still has fields to update.
    `orphans`: the Mailchimp products of its deleted variants (`orphans.py`); `tracking`: the
    carrier and link rules of its shipment (`marketing.order_tracking`); `order_id`: its
    Mailchimp id (`sale_payloads.order_id`). Nor does it take one not confirmed or paid yet
    (`sale_payloads.tentative`), nor one that ended so (expired, cancelled) before Mailchimp
    held it."""
    if order.status == "DRAFT":
        return None
    # One Mailchimp holds keeps following Saleor (an order sent by an earlier version, or
    # refunded back to nothing charged, which is not tentative: it has a transaction).
    ended_unpaid = order.status in sale_payloads.ENDED_UNSOLD and sale_payloads.never_paid(order)
    if not held and (sale_payloads.tentative(order) or ended_unpaid):
        return None
    campaign = (order.attribution or {}).get(sale_payloads.CAMPAIGN_KEY) or None
    return sale_payloads.order_input(
        order,
        # Only these are sent; its value and discounts are all of its lines' (a line left out
        # is no discount: its price is still in the order's total).
        sent_lines=usable_order(order, available, orphans).lines,
        order_id=order_id,
        campaign_id=campaign,
        opt_in=opt_in,
        held=held,
        orphans=orphans,
        tracking=tracking,
    )


def cart_body(
    checkout: SaleorCheckout,
    available: Collection[str],
    checkout_url_template: str | None,
    opt_in: payloads.OptInPolicy,
    restore_key: SecretStr | None = None,
) -> CartInput | None:
    """The checkout as an abandoned cart (usable lines, its campaign), or None."""
    campaign = (checkout.attribution or {}).get(sale_payloads.CAMPAIGN_KEY) or None
    return cart_payloads.cart_input(
        usable_checkout(checkout, available),
        checkout_url_template,
        campaign_id=campaign,
        opt_in=opt_in,
        restore_key=restore_key,
    )
