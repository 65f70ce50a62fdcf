"""Saleor → Mailchimp: pure functions building Mailchimp request models from Saleor's answers.

No I/O here (transport lives in `catalog.py` and `pusher.py`), as Saleor core keeps webhook
payload building apart from delivery; orders are built in `sale_payloads.py`, carts in
`cart_payloads.py`. Ids: Saleor global ids are base64 and may contain `/`, which Mailchimp ids
cannot, so the decoded primary key (a number or UUID) is the Mailchimp id.
"""

from __future__ import annotations

import binascii
import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

from addon.ecommerce.amounts import money
from addon.ecommerce.links import fill_url, given_url
from addon.ecommerce.marketing import (
    ProductOptions,
    editorjs_text,
    inventory,
    product_field,
    store_locale,
    store_timezone,
    variant_image,
)
from addon.ecommerce.publication import on_offer
from addon.ecommerce.saleor_schemas import (
    SaleorAddress,
    SaleorChannel,
    SaleorOrderLine,
    SaleorProduct,
    SaleorUser,
    VariantPricing,
)
from addon.mailchimp import (
    Address,
    CartInput,
    CustomerInput,
    CustomerRef,
    OrderAddress,
    OrderInput,
    ProductInput,
    ProductPatch,
    ProductVariantInput,
    StoreInput,
    subscriber_hash,
)
from addon.mailchimp.models import MailchimpInput
from addon.privacy.erased import Erased
from addon.subscriptions.metadata import Consent
from addon.subscriptions.schemas import app_form, with_contact_domain

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


def mailchimp_id(global_id: str) -> str:
    """The slash-free Mailchimp id of a Saleor object: its primary key."""
    try:
        # `base64.b64decode(global_id, validate=True)` without its wrapping (0.57 -> 0.33 us;
        # a dozen ids an order): a non-ASCII id fails the encode, a non-base64 one the decode.
        decoded = binascii.a2b_base64(global_id.encode("ascii"), strict_mode=True).decode()
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


def line_discount(line: SaleorOrderLine) -> Decimal:
    """What the discounts took off the line, its share of order-level ones included (Saleor
    spreads those over the lines' totals): the undiscounted total less the total, exact where
    `unitDiscount` times the quantity is off by the rounding of a unit's share. `unitDiscount`
    carries that share only with the channel's legacy propagation (the default), and always on
    3.20 (saleor/checkout/complete_checkout.py `_get_unit_discount`, 3.21+); and a line-level
    voucher's line total is its base total less the discount, not a rounded unit price times
    the quantity."""
    off = line.undiscounted_total_price.gross.amount - line.total_price.gross.amount
    return max(off, Decimal(0))


# --- stores ----------------------------------------------------------------------------------


def store_input(
    store_id: str,
    list_id: str,
    channel: SaleorChannel,
    *,
    domain: str,
    email_address: str | None,
    default_locale: str | None = None,
    default_timezone: str | None = None,
) -> StoreInput:
    """The channel's store; its language and time zone from the channel where it gives them,
    else the app's defaults (`marketing.store_locale`, `store_timezone`)."""
    return StoreInput(
        id=store_id,
        list_id=list_id,
        name=channel.name or channel.slug,
        currency_code=channel.currency_code,
        platform=PLATFORM,
        domain=domain,
        email_address=email_address,
        money_format=CURRENCY_SYMBOLS.get(channel.currency_code, channel.currency_code),
        primary_locale=store_locale(channel, default_locale),
        timezone=store_timezone(channel, default_timezone),
    )


# --- products --------------------------------------------------------------------------------


def sale_price(listed: Decimal, pricing: VariantPricing | None, *, gross: bool) -> Decimal:
    """The variant's price with its catalogue promotion off (what the storefront charges, as
    Mailchimp for WooCommerce sends `get_price()`), as the channel's storefront shows it: with
    tax where Saleor displays prices gross (`gross`: `ProductPricingInfo.displayGrossPrices`,
    the tax configuration of the channel's default country, saleor/tax/utils.py
    `get_display_gross_prices`), without it otherwise, whatever the basis prices are entered
    on. A channel entering net prices and displaying gross ones (Saleor's default display)
    charges the gross price, which its cart and order lines carry (`sale_payloads`): its
    variants went at the net one. Saleor's `pricing` taxes the price for that same country
    (saleor/product/utils/availability.py `get_variant_availability`). The channel price when
    Saleor gives no pricing (the product is not sold in the channel)."""
    if pricing is None or pricing.price is None:
        return listed
    return pricing.price.gross.amount if gross else pricing.price.net.amount


def plain_description(description: str | None) -> str | None:
    """Saleor stores rich text as Editor.js JSON; Mailchimp wants text."""
    return editorjs_text(description)


def product_input(
    product: SaleorProduct,
    channel: str,
    options: ProductOptions,
    *,
    currency: str,
    now: datetime,
) -> ProductInput | None:
    """The product as the channel's store shows it; None when no variant is sold there. Every
    variant carries the product's page and image (Mailchimp's recommendations and abandoned-cart
    e-mails show the variant's), and its stock where Saleor tracks it."""
    product_id = mailchimp_id(product.id)
    url = fill_url(options.url_template, slug=product.slug, id=product_id, channel=channel)
    image = given_url(product.thumbnail.url) if product.thumbnail else None
    gross = product.pricing.display_gross_prices if product.pricing else True
    # Not published or not for sale in the channel yet (`publication.py`): sent, hidden.
    offered = on_offer(product.channel_listings, channel, now)
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
                price=money(
                    sale_price(listing.price.amount, variant.pricing, gross=gross), currency
                ),
                inventory_quantity=inventory(variant, channel, now) if offered else 0,
                image_url=variant_image(variant) or image,
                visibility="visible" if offered else "hidden",
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
        type=product_field(product, options.type),
        vendor=product_field(product, options.vendor),
        image_url=image,
        variants=variants,
    )


# --- customers -------------------------------------------------------------------------------


def _address_fields(address: SaleorAddress) -> dict[str, str | None]:
    return {
        "address1": address.street_address_1 or None,
        "address2": address.street_address_2 or None,
        "city": address.city or None,
        "province": address.country_area or None,
        "postal_code": address.postal_code or None,
        "country": address.country.country if address.country else None,
        "country_code": address.country.code if address.country else None,
    }


def _address(address: SaleorAddress | None) -> Address | None:
    return None if address is None else Address(**_address_fields(address))


def order_address(address: SaleorAddress | None) -> OrderAddress | None:
    if address is None:
        return None
    name = f"{address.first_name} {address.last_name}".strip()
    return OrderAddress(
        **_address_fields(address),
        name=name or None,
        phone=address.phone or None,
        company=address.company_name or None,
    )


@dataclass(frozen=True)
class OptInPolicy:
    """When a pushed customer is marked opted in: only from the shopper's recorded consent.

    `opt_in_status: true` makes Mailchimp subscribe a *new* member at once, so it is never sent
    for an audience that asks for confirmation: there the subscriptions capability subscribes
    the shopper as `pending` (a confirmation e-mail) from the same consent. Nor for an address
    the app erased (`erased`, `addon.privacy.erased`: the policy `knowing` those of the
    payload's addresses): Mailchimp permanently deleted its member and refuses to subscribe it
    through the API ("Forgotten Email Not Subscribed", the customer, order or cart with it),
    whatever consent a shopper gives at it since (a new account, a panel erasure Saleor kept
    shopping). The order or cart goes without it; the consent goes through the subscriptions
    capability, which reports the forgotten address on the contact.
    """

    list_id: str
    default_list_id: str | None = None
    confirmation_required: bool = True
    erased: Erased = field(default_factory=dict, compare=False)

    def knowing(self, erased: Erased) -> OptInPolicy:
        """This policy for payloads naming addresses among which `erased` were erased."""
        return replace(self, erased=erased) if erased else self

    def opted_in(self, email: str | None, *recorded: dict[str, str] | None) -> bool:
        """Whether the customer at `email` goes opted in, by the consents `recorded`."""
        if self.confirmation_required:
            return False
        if email and self.erased and subscriber_hash(email) in self.erased:
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
    first_name, last_name = _names(user, user.default_billing_address)
    return CustomerInput(
        id=mailchimp_id(user.id),
        email_address=with_contact_domain(user.email),
        opt_in_status=opt_in.opted_in(user.email, user.consent),
        first_name=first_name,
        last_name=last_name,
        company=_company(user.default_billing_address),
        address=_address(user.default_billing_address),
    )


def _names(user: SaleorUser, billing: SaleorAddress | None) -> tuple[str | None, str | None]:
    """The customer's names: the account's, or where it has none (Saleor's sign-up asks only
    an e-mail and a password, and checkout puts names on addresses, never on the account) the
    billing address's, as Mailchimp for WooCommerce names its customers. Mailchimp fills a new
    contact's name fields from them, which its order and cart e-mails greet by."""
    if user.first_name or user.last_name or billing is None:
        return user.first_name or None, user.last_name or None
    return billing.first_name or None, billing.last_name or None


def _company(address: SaleorAddress | None) -> str | None:
    return (address.company_name if address else "") or None


def customer_ref(
    user: SaleorUser | None,
    email: str,
    billing: SaleorAddress | None,
    opt_in: OptInPolicy,
    consent: dict[str, str] | None,
    *,
    consent_for: str | None = None,
) -> CustomerRef:
    """The order's or cart's customer; `consent` is what the checkout recorded, for the address
    typed into it (`consent_for`; `email` when not given)."""
    if user is not None:
        first_name, last_name = _names(user, billing)
        # A signed-in shopper may type another address than their account's: the checkout's
        # consent is that address's, never their account's (whose customer this is).
        typed = consent_for or email
        own = consent if app_form(typed) == app_form(user.email) else None
        return CustomerRef(
            id=mailchimp_id(user.id),
            email_address=with_contact_domain(user.email),
            opt_in_status=opt_in.opted_in(user.email, user.consent, own),
            first_name=first_name,
            last_name=last_name,
        )
    return CustomerRef(
        id=guest_customer_id(email),
        email_address=with_contact_domain(email),
        opt_in_status=opt_in.opted_in(email, consent),
        first_name=(billing.first_name if billing else "") or None,
        last_name=(billing.last_name if billing else "") or None,
        company=_company(billing),
        address=_address(billing),
    )


Customered = TypeVar("Customered", bound=CustomerInput | OrderInput | CartInput)


def customer_of(body: CustomerInput | OrderInput | CartInput) -> CustomerInput | CustomerRef:
    """The customer a customer's, order's or cart's body writes."""
    return body if isinstance(body, CustomerInput) else body.customer


def without_opt_in(body: Customered) -> Customered:
    """The body with its customer's `opt_in_status` off: what Mailchimp still takes for an
    address it forgot (permanently deleted) where `opt_in_status: true` is refused
    ("Forgotten Email Not Subscribed", `cart_pusher.opted_out_if_forgotten`)."""
    off = {"opt_in_status": False}
    customer = customer_of(body)
    update = off if customer is body else {"customer": customer.model_copy(update=off)}
    return cast(Customered, body.model_copy(update=update))


def top_level(body: MailchimpInput, *children: str) -> dict[str, Any]:
    """The request body without its child collections (hashed separately)."""
    return {k: v for k, v in body.body().items() if k not in children}


# A PATCH leaves what it does not name: a description, type or vendor Saleor no longer gives
# (a vendor source set to none, a metadata key removed) stayed in Mailchimp, and in the
# segments built on it; so did a deleted picture (its URL then broken in e-mails) and the URL of
# a product URL template cleared. They are sent empty instead (Mailchimp's OpenAPI types each a
# plain string). A variant is sent whole, by a PUT (`variant_put`).
CLEARED_WHEN_ABSENT = ("description", "type", "vendor", "image_url", "url")

# What a variant's PUT ("Add or update product variant") does to a field it leaves out is not
# documented: the spec gives it POST's schema (`E_commerce_Product_Variant_1`, only `id` and
# `title` required) and the docs say only that a PUT creates or updates a resource. Mailchimp
# merging the body into the variant would keep a SKU, picture or page Saleor no longer gives (a
# deleted picture's URL broken in abandoned-cart e-mails), so they are sent empty. The rest of
# what the app owns is always sent (`product_input`); `backorders` never is.
CLEARED_VARIANT_FIELDS = ("url", "sku", "image_url")


def product_patch(body: ProductInput) -> ProductPatch:
    """The product's own fields as a PATCH (its variants are PUT one by one)."""
    fields = {k: v for k, v in top_level(body, "variants").items() if k != "id"}
    for name in CLEARED_WHEN_ABSENT:
        fields.setdefault(name, "")
    return ProductPatch.model_validate(fields)


def variant_put(variant: ProductVariantInput) -> ProductVariantInput:
    """The variant as its PUT sends it: every field the app owns named, empty where Saleor gives
    none (`CLEARED_VARIANT_FIELDS`). Its fingerprint is the variant's own (`fingerprints.py`):
    the empty fields change nothing Mailchimp holds of a variant sent before."""
    cleared = {name: "" for name in CLEARED_VARIANT_FIELDS if getattr(variant, name) is None}
    return variant.model_copy(update=cleared) if cleared else variant
