"""Checkouts paid and priced as in Saleor, end to end: a checkout a payment app authorizes and
the shopper completes becomes an order Mailchimp gets `pending` (its Order Confirmation), made
`paid` by the later capture (its Invoice); a checkout line with a catalogue promotion goes to
Mailchimp at its discounted price, in the cart and in the order made of it. Played at both
Saleor versions the sandbox knows (CHECKOUT_FULLY_AUTHORIZED exists only since 3.22)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.order_models import OrderStatus, TransactionEventType
from sandboxes.saleor.store_checkouts import LineSpec
from sandboxes.saleor.versions import PLAYABLE_VERSIONS
from sandboxes.transport import HostRoutingTransport
from tests.conftest import SALEOR_API_URL
from tests.ecommerce.conftest import CHANNEL, Shop


@pytest.fixture(params=PLAYABLE_VERSIONS, ids=lambda version: f"saleor-{version}")
def saleor(
    request: pytest.FixtureRequest, network: HostRoutingTransport, saleor_signing_key: Any
) -> SaleorSandbox:
    sandbox = SaleorSandbox(
        SALEOR_API_URL, transport=network, signing_key=saleor_signing_key, version=request.param
    )
    network.add("saleor.test", sandbox.app)
    return sandbox


def _sent(shop: Shop) -> list[tuple[str, str]]:
    return shop.mailchimp.notifications(shop.account, shop.store_id)


async def test_an_authorized_checkout_completed_is_pending_until_captured(shop: Shop) -> None:
    product = await shop.product("Fig", "2.00")
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 2)], customer=customer
    )
    await shop.drain()
    assert set(shop.carts()) == {str(checkout.token)}

    # The payment app authorizes the total; the shopper completes the checkout.
    await shop.saleor.pay_checkout(checkout, authorized=Decimal("4.00"))
    order = await shop.saleor.complete_checkout(checkout)
    assert order.status is OrderStatus.UNFULFILLED
    await shop.drain()
    number = str(order.number)
    assert shop.orders()[number].financial_status == "pending"
    assert shop.orders()[number].order_total == 4.0
    assert _sent(shop) == [(number, "order_confirmation")]
    assert shop.carts() == {}  # no abandoned cart left

    # The capture, days later: the order is paid, and its Invoice goes.
    [authorization] = order.transactions
    await shop.saleor.report_transaction_event(
        order, authorization, TransactionEventType.CHARGE_SUCCESS, Decimal("4.00")
    )
    await shop.drain()
    assert shop.orders()[number].financial_status == "paid"
    assert _sent(shop) == [(number, "order_confirmation"), (number, "order_invoice")]


async def test_a_promoted_line_goes_at_its_discounted_price_in_cart_and_order(
    shop: Shop,
) -> None:
    shirt = await shop.product("Shirt", "19.99")
    mug = await shop.product("Mug", "5.00")
    await shop.saleor.promotions.create(
        "Summer", [{"channels": [CHANNEL], "product_ids": [shirt.id], "reward_value": 15}]
    )
    await shop.saleor.promotions.recalculate()
    checkout = await shop.saleor.create_checkout(
        CHANNEL,
        lines=[LineSpec(shirt.variants[0].id, 3), LineSpec(mug.variants[0].id, 1)],
        email="bob@example.com",
        shipping_price=Decimal("4.00"),
    )
    await shop.drain()
    cart = shop.carts()[str(checkout.token)]
    # 15 % of 19.99 is 2.9985: 3.00 off each shirt (Saleor's line total 50.97).
    assert [(ln.quantity, ln.price) for ln in cart.lines] == [(3, 16.99), (1, 5.0)]
    assert cart.order_total == 59.97

    order = await shop.saleor.complete_checkout(checkout)
    await shop.drain()
    held = shop.orders()[str(order.number)]
    assert [(ln.quantity, ln.price, ln.discount) for ln in held.lines] == [
        (3, 16.99, 9.0),
        (1, 5.0, 0.0),
    ]
    assert (held.order_total, held.shipping_total, held.discount_total) == (59.97, 4.0, 9.0)
    assert held.financial_status == "paid"
    assert shop.carts() == {}


async def test_an_authorized_order_waiting_for_staff_goes_pending_at_once(shop: Shop) -> None:
    """Where staff confirm orders by hand the order is UNCONFIRMED, but it holds the checkout's
    transaction: Saleor never expires it (saleor/order/tasks.py `_expire_orders`), so it is no
    tentative order to hold back (`sale_payloads.tentative`)."""
    shop.saleor.store.channel_by_slug(CHANNEL).automatically_confirm_all_new_orders = False
    product = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        CHANNEL, lines=[LineSpec(product.variants[0].id, 1)], email="cy@example.com"
    )
    await shop.saleor.pay_checkout(checkout, authorized=Decimal("2.00"))
    order = await shop.saleor.complete_checkout(checkout)
    assert order.status is OrderStatus.UNCONFIRMED
    await shop.drain()
    number = str(order.number)
    assert shop.orders()[number].financial_status == "pending"
    assert _sent(shop) == [(number, "order_confirmation")]
