"""A cart's `order_total` and `tax_total` are those of the lines it shows, with the checkout's
shipping (`cart_payloads.cart_input`): a line the app leaves out (a product customers can no
longer buy, which Saleor will not sell: saleor/checkout/fetch.py `_is_variant_valid`, refused
at `checkoutComplete`) counts in neither, as Mailchimp for WooCommerce's cart total is the sum
of the lines it sends (class-mailchimp-woocommerce-cart-update.php `process`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from addon.ecommerce import payloads
from addon.ecommerce.checkout_schemas import SaleorCheckout
from addon.ecommerce.fingerprints import cart_body
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import CHANNEL, Shop


async def test_a_line_left_out_counts_in_no_total(shop: Shop) -> None:
    fig = await shop.product("Fig", "2.00")
    pear = await shop.product("Pear", "3.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1), LineSpec(pear.variants[0].id, 2)],
        email="ann@example.com",
        shipping_price=Decimal("5.00"),
    )
    await shop.drain()
    assert shop.carts()[str(checkout.token)].order_total == 13.0
    await shop.saleor.publish(pear, CHANNEL, is_published=False)
    await shop.drain()
    cart = shop.carts()[str(checkout.token)]
    assert [(line.price, line.quantity) for line in cart.lines] == [(2.0, 1)]
    assert cart.order_total == 7.0  # the fig and the shipping


def _taxed(gross: str, tax: str) -> dict[str, Any]:
    return {"gross": {"amount": gross}, "tax": {"amount": tax}}


def _line(n: int, gross: str, tax: str) -> dict[str, Any]:
    return {
        "quantity": 1,
        "totalPrice": _taxed(gross, tax),
        "variant": {"id": f"UHJvZHVjdFZhcmlhbnQ6{n}", "product": {"id": f"UHJvZHVjdDo{n}"}},
    }


def test_a_carts_tax_is_that_of_its_lines_and_shipping() -> None:
    checkout = SaleorCheckout.model_validate(
        {
            "id": "Q2hlY2tvdXQ6MQ==",
            "token": "7f9c0e3a-1111-4222-8333-944455556666",
            "email": "ann@example.com",
            "channel": {"slug": CHANNEL, "currencyCode": "EUR"},
            "totalPrice": {"currency": "EUR", **_taxed("40.60", "7.60")},
            "subtotalPrice": _taxed("36.90", "6.90"),
            "shippingPrice": _taxed("3.70", "0.70"),
            "lines": [_line(1, "12.30", "2.30"), _line(2, "24.60", "4.60")],
        }
    )
    first = payloads.mailchimp_id(checkout.lines[0].variant.id)
    whole = cart_body(
        checkout,
        {first, payloads.mailchimp_id(checkout.lines[1].variant.id)},
        None,
        payloads.NO_OPT_IN,
    )
    assert whole is not None
    assert (whole.order_total, whole.tax_total) == (40.6, 7.6)
    shown = cart_body(checkout, {first}, None, payloads.NO_OPT_IN)
    assert shown is not None
    assert (shown.order_total, shown.tax_total) == (16.0, 3.0)
