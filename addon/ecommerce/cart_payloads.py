"""Saleor → Mailchimp for an abandoned cart: a checkout as Mailchimp's cart, and the PATCH of
one Mailchimp holds. Pure functions, like `sale_payloads.py` for orders."""

from __future__ import annotations

from decimal import Decimal

from pydantic import SecretStr

from addon.ecommerce import restore_tokens
from addon.ecommerce.amounts import money
from addon.ecommerce.checkout_schemas import SaleorCheckout
from addon.ecommerce.links import fill_url
from addon.ecommerce.payloads import NO_OPT_IN, OptInPolicy, customer_ref, mailchimp_id, top_level
from addon.ecommerce.sale_payloads import unit_price
from addon.mailchimp import CartInput, CartLineInput, CartPatch, CustomerPatch


def cart_input(
    checkout: SaleorCheckout,
    checkout_url_template: str | None,
    *,
    campaign_id: str | None,
    opt_in: OptInPolicy = NO_OPT_IN,
    restore_key: SecretStr | None = None,
) -> CartInput | None:
    """The checkout as an abandoned cart; None without an e-mail or lines (nothing to recover).

    A `{restore}` in the checkout URL template becomes a signed, expiring restore link
    (`restore_tokens.py`, with the installation's `restore_key`) instead of the bare checkout
    token."""
    email = checkout.email or (checkout.user.email if checkout.user else None)
    if not email or not checkout.lines:
        return None
    currency = checkout.total_price.currency or checkout.channel.currency_code
    # Line ids are the variant's: stable while the shopper changes quantities.
    merged: dict[str, CartLineInput] = {}
    totals: dict[str, Decimal] = {}  # of each variant's lines, for its price of one item
    for line in checkout.lines:
        variant_id = mailchimp_id(line.variant.id)
        totals[variant_id] = totals.get(variant_id, Decimal(0)) + line.total_price.gross.amount
        known = merged.get(variant_id)
        quantity = line.quantity + (known.quantity if known else 0)
        merged[variant_id] = CartLineInput(
            id=variant_id,
            product_id=mailchimp_id(line.variant.product.id),
            product_variant_id=variant_id,
            quantity=quantity,
            price=unit_price(totals[variant_id], quantity, currency),
        )
    token = checkout.token
    # The value of what the cart shows, and its shipping: its lines are those Mailchimp can
    # show (`fingerprints.usable_checkout`), so a line left out (a product customers can no
    # longer buy, which Saleor refuses to sell at completion: saleor/checkout/fetch.py
    # `_is_variant_valid`) counts in neither total, or the abandoned-cart e-mail would show a
    # total its lines do not add up to. Mailchimp for WooCommerce's cart total is likewise the
    # sum of the lines it sends, a line it cannot send left out of both
    # (class-mailchimp-woocommerce-cart-update.php `process`). Saleor's own subtotal is its
    # lines' totals (saleor/checkout/calculations.py `_calculate_checkout_subtotal`), so with
    # every line shown this is the checkout's subtotal and shipping, as before.
    prices = [line.total_price for line in checkout.lines] + [checkout.shipping_price]
    value = sum((m.gross.amount for m in prices), Decimal(0))
    return CartInput(
        id=token,
        customer=customer_ref(
            checkout.user,
            email,
            checkout.billing_address,
            opt_in,
            checkout.consent,
            consent_for=checkout.email,
        ),
        campaign_id=campaign_id,
        checkout_url=fill_url(
            checkout_url_template,
            token=token,
            channel=checkout.channel.slug,
            restore=restore_tokens.restore_value(checkout_url_template, restore_key, checkout),
        ),
        currency_code=currency,
        # Its value before gift cards, as an order's (`order_input`): `totalPrice` is net of
        # the gift cards added, its tax lowered with it.
        order_total=money(value, currency),
        tax_total=money(sum((m.tax.amount for m in prices if m.tax), Decimal(0)), currency),
        lines=list(merged.values()),
    )


def cart_patch(cart: CartInput) -> CartPatch:
    """The top-level fields of a cart as a PATCH (lines, customer and campaign are set on
    creation), and its customer's opt-in once the shopper consented: a consent the storefront
    records after the cart was first sent (`E_commerce_Cart_2.customer.opt_in_status`; the
    same rule as the cart's creation, `customer_ref`). Never false: Mailchimp never lowers a
    member's status from it, and the PATCH must not name what did not change."""
    top = top_level(cart, "id", "lines", "customer", "campaign_id")
    patch = CartPatch.model_validate(top)
    if cart.customer.opt_in_status:
        patch = patch.model_copy(update={"customer": CustomerPatch(opt_in_status=True)})
    return patch
