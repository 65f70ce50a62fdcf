"""Saleor → Mailchimp: pure functions building Mailchimp request models from Saleor's answers.

No I/O here (transport lives in `sync.py`), as Saleor core keeps webhook payload building apart
from delivery. Ids: Saleor global ids are base64 and may contain `/`, which Mailchimp ids cannot,
so the decoded primary key (a number or UUID) is the Mailchimp id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from addon.ecommerce.schemas import (
    SaleorAddress,
    SaleorChannel,
    SaleorCheckout,
    SaleorOrder,
    SaleorProduct,
    SaleorUser,
)
from addon.mailchimp import (
    Address,
    CartInput,
    CartLineInput,
    CustomerInput,
    CustomerRef,
    OrderAddress,
    OrderInput,
    OrderLineInput,
    OrderPatch,
    ProductInput,
    ProductVariantInput,
    Promo,
    StoreInput,
)
from addon.mailchimp.models import MailchimpInput
from addon.subscriptions.metadata import Consent

# Checkout metadata keys the storefront writes (documented in docs/ecommerce.md); Saleor copies
# checkout metadata to the order it becomes.
CAMPAIGN_KEY = "mailchimp_campaign_id"
TRACKING_CODE_KEY = "mailchimp_tracking_code"
LANDING_SITE_KEY = "mailchimp_landing_site"

PLATFORM = "Saleor"
CURRENCY_SYMBOLS = {
    "USD": "$",
    "CAD": "$",
    "AUD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "PLN": "zł",
    "CHF": "CHF",
    "INR": "₹",
    "BRL": "R$",
}


class TrackedOrderInput(OrderInput):
    """`OrderInput` plus Mailchimp's `tracking_code` (its only allowed value is "prec")."""

    tracking_code: Literal["prec"] | None = None


class TrackedOrderPatch(OrderPatch):
    tracking_code: Literal["prec"] | None = None


def mailchimp_id(global_id: str) -> str:
    """The slash-free Mailchimp id of a Saleor object: its primary key."""
    try:
        decoded = base64.b64decode(global_id, validate=True).decode()
        _, _, pk = decoded.partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pk = ""
    if not pk or "/" in pk or len(pk) > 50:
        return "h" + hashlib.sha256(global_id.encode()).hexdigest()[:32]
    return pk


def guest_customer_id(email: str) -> str:
    """Guests have no Saleor user: one Mailchimp customer per e-mail address."""
    return "guest-" + hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()


def content_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def money(amount: Decimal) -> float:
    return float(round(amount, 2))


def fill(template: str | None, **values: str) -> str | None:
    if not template:
        return None
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out


# --- stores ----------------------------------------------------------------------------------


def store_input(
    store_id: str,
    list_id: str,
    channel: SaleorChannel,
    *,
    domain: str,
    email_address: str | None,
) -> StoreInput:
    return StoreInput(
        id=store_id,
        list_id=list_id,
        name=channel.name or channel.slug,
        currency_code=channel.currency_code,
        platform=PLATFORM,
        domain=domain,
        email_address=email_address,
        money_format=CURRENCY_SYMBOLS.get(channel.currency_code, channel.currency_code),
    )


# --- products --------------------------------------------------------------------------------


def plain_description(description: str | None) -> str | None:
    """Saleor stores rich text as Editor.js JSON; Mailchimp wants text (HTML allowed)."""
    if not description:
        return None
    try:
        document = json.loads(description)
    except ValueError:
        return description
    blocks = document.get("blocks") if isinstance(document, dict) else None
    if not isinstance(blocks, list):
        return None
    texts = []
    for block in blocks:
        data = block.get("data") if isinstance(block, dict) else None
        text = data.get("text") if isinstance(data, dict) else None
        if isinstance(text, str) and text.strip():
            texts.append(html.unescape(re.sub(r"<[^>]+>", "", text)).strip())
    return "\n".join(texts) or None


def product_input(
    product: SaleorProduct, channel: str, url_template: str | None
) -> ProductInput | None:
    """The product as the channel's store shows it; None when no variant is sold there."""
    product_id = mailchimp_id(product.id)
    url = fill(url_template, slug=product.slug, id=product_id, channel=channel)
    image = product.thumbnail.url if product.thumbnail else None
    variants = []
    for variant in product.variants or []:
        listing = next(
            (cl for cl in variant.channel_listings or [] if cl.channel.slug == channel), None
        )
        if listing is None or listing.price is None:
            continue
        variants.append(
            ProductVariantInput(
                id=mailchimp_id(variant.id),
                # As Saleor's dashboard does: the SKU names an unnamed variant (and keeps a
                # product rename from rewriting every variant).
                title=variant.name or variant.sku or product.name,
                url=url,
                sku=variant.sku or None,
                price=money(listing.price.amount),
                inventory_quantity=max(variant.quantity_available or 0, 0),
                image_url=image,
                visibility="visible",
            )
        )
    if not variants:
        return None
    return ProductInput(
        id=product_id,
        title=product.name,
        handle=product.slug,
        url=url,
        description=plain_description(product.description),
        type=product.product_type.name if product.product_type else None,
        vendor=product.vendor or None,
        image_url=image,
        variants=variants,
    )


# --- customers -------------------------------------------------------------------------------


def _address(address: SaleorAddress | None) -> Address | None:
    if address is None:
        return None
    return Address(
        address1=address.street_address_1 or None,
        address2=address.street_address_2 or None,
        city=address.city or None,
        province=address.country_area or None,
        postal_code=address.postal_code or None,
        country=address.country.country if address.country else None,
        country_code=address.country.code if address.country else None,
    )


def _order_address(address: SaleorAddress | None) -> OrderAddress | None:
    base = _address(address)
    if base is None or address is None:
        return None
    name = f"{address.first_name} {address.last_name}".strip()
    return OrderAddress(
        **base.model_dump(exclude_none=True),
        name=name or None,
        phone=address.phone or None,
        company=address.company_name or None,
    )


@dataclass(frozen=True)
class OptInPolicy:
    """When a pushed customer is marked opted in: only from the shopper's recorded consent.

    `opt_in_status: true` makes Mailchimp subscribe a *new* member at once, so it is never sent
    for an audience that asks for confirmation: there the subscriptions capability subscribes
    the shopper as `pending` (a confirmation e-mail) from the same consent.
    """

    list_id: str
    default_list_id: str | None = None
    confirmation_required: bool = True

    def opted_in(self, *recorded: dict[str, str] | None) -> bool:
        if self.confirmation_required:
            return False
        for items in recorded:
            consent = Consent.from_metadata(items or {})
            # No audience named means the store's default audience.
            named = consent.audiences or ([self.default_list_id] if self.default_list_id else [])
            if consent.subscribe and self.list_id in named:
                return True
        return False


NO_OPT_IN = OptInPolicy(list_id="")


def customer_input(user: SaleorUser, opt_in: OptInPolicy = NO_OPT_IN) -> CustomerInput:
    return CustomerInput(
        id=mailchimp_id(user.id),
        email_address=user.email,
        opt_in_status=opt_in.opted_in(user.consent),
        first_name=user.first_name or None,
        last_name=user.last_name or None,
        address=_address(user.default_billing_address),
    )


def _customer_ref(
    user: SaleorUser | None,
    email: str,
    billing: SaleorAddress | None,
    opt_in: OptInPolicy,
    consent: dict[str, str] | None,
) -> CustomerRef:
    """The order's or cart's customer; `consent` is what the checkout recorded."""
    if user is not None:
        return CustomerRef(
            id=mailchimp_id(user.id),
            email_address=user.email,
            opt_in_status=opt_in.opted_in(user.consent, consent),
            first_name=user.first_name or None,
            last_name=user.last_name or None,
        )
    return CustomerRef(
        id=guest_customer_id(email),
        email_address=email,
        opt_in_status=opt_in.opted_in(consent),
        first_name=(billing.first_name if billing else "") or None,
        last_name=(billing.last_name if billing else "") or None,
    )


# --- orders ----------------------------------------------------------------------------------


def financial_status(order: SaleorOrder) -> str:
    """Mailchimp's `financial_status`, from the amounts Saleor exposes, for both payment models.

    Mailchimp sends its order notifications on "pending" (confirmation), "paid" (invoice),
    "refunded" (refund confirmation) and "cancelled"; "partially_refunded" and "partially_paid"
    describe the rest. Saleor (saleor/graphql/order/types.py, `Order.resolve_payment_status`)
    derives `paymentStatus` of an order paid through transactions from the charged amount only
    (a refund lowers `totalCharged` and raises `totalRefunded`; FULLY_CHARGED again once the
    refund was granted first), and shows PARTIALLY_/FULLY_REFUNDED only for legacy payments,
    whose `totalCharged` is also net of refunds (saleor/order/utils.py
    `updates_amounts_for_order`). So refunds are read from `totalRefunded` and `totalCharged`,
    with the legacy statuses as a fallback (a legacy refund can leave `totalRefunded` at 0 once
    its payment is inactive, and `orderRefund` fulfilments make FULLY_REFUNDED on their own).
    """
    if order.status == "CANCELED":
        return "cancelled"
    total = order.total.gross.amount
    charged = order.total_charged.amount
    refunded = order.total_refunded.amount
    # A requested refund is deducted from `totalCharged` before the payment app settles it.
    refunding = order.total_refund_pending.amount
    if order.payment_status == "FULLY_REFUNDED" or (refunded > 0 and charged + refunding <= 0):
        return "refunded"
    if refunded > 0 or order.payment_status == "PARTIALLY_REFUNDED":
        return "partially_refunded"
    paid = charged + refunding
    if paid >= total:
        return "paid"
    if paid > 0:
        return "partially_paid"
    return "pending"


def fulfillment_status(order: SaleorOrder) -> str | None:
    """ "shipped" triggers Mailchimp's shipping confirmation."""
    if order.status in ("FULFILLED", "PARTIALLY_RETURNED", "RETURNED"):
        return "shipped"
    if order.status == "PARTIALLY_FULFILLED":
        return "partially_shipped"
    return None


def _iso(value: Any) -> str:
    return str(value.isoformat())


def order_input(
    order: SaleorOrder, *, campaign_id: str | None, opt_in: OptInPolicy = NO_OPT_IN
) -> TrackedOrderInput | None:
    """The order, or None when it has no line Mailchimp can reference (or no e-mail)."""
    email = order.user.email if order.user else order.user_email
    if not email:
        return None
    lines = [
        OrderLineInput(
            id=mailchimp_id(line.id),
            product_id=mailchimp_id(line.variant.product.id),
            product_variant_id=mailchimp_id(line.variant.id),
            quantity=line.quantity,
            price=money(line.total_price.gross.amount),
            discount=money(
                (line.unit_discount.amount if line.unit_discount else Decimal(0)) * line.quantity
            )
            or None,
        )
        for line in order.lines
        # A line whose variant was deleted cannot reference a Mailchimp product any more.
        if line.variant is not None
    ]
    if not lines:
        return None
    attribution = order.attribution or {}
    total = order.total.gross.amount
    discount = max(order.undiscounted_total.gross.amount - total, Decimal(0))
    promos = None
    if order.voucher_code:
        voucher_amount = sum((d.amount.amount for d in order.discounts), Decimal(0))
        promos = [
            Promo(code=order.voucher_code, amount_discounted=money(voucher_amount), type="fixed")
        ]
    return TrackedOrderInput(
        id=mailchimp_id(order.id),
        customer=_customer_ref(order.user, email, order.billing_address, opt_in, order.consent),
        campaign_id=campaign_id,
        landing_site=attribution.get(LANDING_SITE_KEY) or None,
        tracking_code="prec" if attribution.get(TRACKING_CODE_KEY) == "prec" else None,
        financial_status=financial_status(order),
        fulfillment_status=fulfillment_status(order),
        currency_code=order.total.currency or order.channel.currency_code,
        order_total=money(total),
        discount_total=money(discount),
        tax_total=money(order.total.tax.amount if order.total.tax else Decimal(0)),
        shipping_total=money(order.shipping_price.gross.amount),
        processed_at_foreign=_iso(order.created),
        cancelled_at_foreign=_iso(order.updated_at) if order.status == "CANCELED" else None,
        updated_at_foreign=_iso(order.updated_at),
        billing_address=_order_address(order.billing_address),
        shipping_address=_order_address(order.shipping_address),
        promos=promos,
        lines=lines,
    )


def order_patch(order: TrackedOrderInput) -> TrackedOrderPatch:
    """The top-level fields of an order as a PATCH (lines and customer are set on creation)."""
    fields = order.model_dump(exclude={"id", "customer", "lines", "campaign_id"})
    return TrackedOrderPatch.model_validate(fields)


# --- carts -----------------------------------------------------------------------------------


def cart_input(
    checkout: SaleorCheckout,
    checkout_url_template: str | None,
    *,
    campaign_id: str | None,
    opt_in: OptInPolicy = NO_OPT_IN,
) -> CartInput | None:
    """The checkout as an abandoned cart; None without an e-mail or lines (nothing to recover)."""
    email = checkout.email or (checkout.user.email if checkout.user else None)
    if not email or not checkout.lines:
        return None
    # Line ids are the variant's: stable while the shopper changes quantities.
    merged: dict[str, CartLineInput] = {}
    for line in checkout.lines:
        variant_id = mailchimp_id(line.variant.id)
        price = money(line.total_price.gross.amount)
        if variant_id in merged:
            known = merged[variant_id]
            merged[variant_id] = known.model_copy(
                update={"quantity": known.quantity + line.quantity, "price": known.price + price}
            )
            continue
        merged[variant_id] = CartLineInput(
            id=variant_id,
            product_id=mailchimp_id(line.variant.product.id),
            product_variant_id=variant_id,
            quantity=line.quantity,
            price=price,
        )
    token = checkout.token
    return CartInput(
        id=token,
        customer=_customer_ref(checkout.user, email, None, opt_in, checkout.consent),
        campaign_id=campaign_id,
        checkout_url=fill(checkout_url_template, token=token, channel=checkout.channel.slug),
        currency_code=checkout.total_price.currency or checkout.channel.currency_code,
        order_total=money(checkout.total_price.gross.amount),
        tax_total=money(
            checkout.total_price.tax.amount if checkout.total_price.tax else Decimal(0)
        ),
        lines=list(merged.values()),
    )


def top_level(body: MailchimpInput, *children: str) -> dict[str, Any]:
    """The request body without its child collections (hashed separately)."""
    return {k: v for k, v in body.body().items() if k not in children}
