"""A checkout paid (or authorized) in full through a payment app but never completed is no
abandoned cart: its cart is deleted (`ecommerce/cart_payment.py`)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from addon.ecommerce.cart_payment import CART_PAID_NOTE
from addon.ecommerce.models import EntityKind, SyncStatus
from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.models import Checkout
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop


async def _checkout(shop: Shop, email: str = "ann@example.com") -> Checkout:
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 2)], email=email
    )
    await shop.drain()
    assert str(checkout.token) in shop.carts()
    return checkout


def _events(saleor: SaleorSandbox, since: int) -> list[str]:
    return [d.event_type for d in saleor.deliveries[since:]]


async def test_a_checkout_paid_in_full_is_no_abandoned_cart(shop: Shop) -> None:
    checkout = await _checkout(shop)
    sent = len(shop.saleor.deliveries)
    # The shopper pays through a payment app and closes the tab: no checkoutComplete. Saleor
    # sends CHECKOUT_FULLY_PAID (and, charged covering it, CHECKOUT_FULLY_AUTHORIZED), no
    # CHECKOUT_UPDATED.
    await shop.saleor.pay_checkout(checkout, charged=Decimal("4.00"))
    assert _events(shop.saleor, sent) == ["CHECKOUT_FULLY_PAID", "CHECKOUT_FULLY_AUTHORIZED"]
    await shop.drain()
    assert str(checkout.token) not in shop.carts()
    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None
    assert (record.status, record.mailchimp_id, record.last_error) == (
        SyncStatus.REMOVED,
        None,
        CART_PAID_NOTE,
    )
    # Its order, made later, converts as usual (the cart is gone already).
    await shop.saleor.complete_checkout(checkout)
    await shop.drain()
    assert len(shop.orders()) == 1
    assert str(checkout.token) not in shop.carts()


async def test_a_partly_paid_checkout_stays_a_cart(shop: Shop) -> None:
    checkout = await _checkout(shop)
    sent = len(shop.saleor.deliveries)
    await shop.saleor.pay_checkout(checkout, charged=Decimal("1.00"))
    assert _events(shop.saleor, sent) == []
    await shop.saleor.update_checkout(checkout, customer_note="ring twice")
    await shop.drain()
    assert str(checkout.token) in shop.carts()


async def test_a_checkout_with_nothing_to_pay_stays_a_cart(shop: Shop) -> None:
    """Saleor calls a checkout whose total is nothing (a gift card covering it) charged and
    authorized in full, with nothing paid: its shopper has not checked out."""
    checkout = await _checkout(shop)
    await shop.saleor.update_checkout(checkout, gift_card_balance=Decimal("4.00"))
    await shop.drain()
    assert str(checkout.token) in shop.carts()


async def test_a_checkout_authorized_in_full_is_no_abandoned_cart(shop: Shop) -> None:
    checkout = await _checkout(shop)
    sent = len(shop.saleor.deliveries)
    await shop.saleor.pay_checkout(checkout, authorized=Decimal("4.00"))
    # CHECKOUT_FULLY_AUTHORIZED (since Saleor 3.22) reaches the webhook the app registers
    # there (`webhooks/registered/ecommerce_checkouts_authorized.graphql`; before, the cart
    # goes at the checkout's next change, whose push reads the statuses).
    assert _events(shop.saleor, sent) == ["CHECKOUT_FULLY_AUTHORIZED"]
    await shop.drain()
    assert str(checkout.token) not in shop.carts()


async def test_saleor_keeps_a_paid_checkout_past_its_expiry(shop: Shop) -> None:
    """Why the cart sweep never removes such a cart: Saleor never deletes the checkout."""
    paid, unpaid = await _checkout(shop), await _checkout(shop, "bob@example.com")
    await shop.saleor.pay_checkout(paid, charged=Decimal("4.00"))
    store = shop.saleor.store
    now = store.get_checkout(unpaid.token).last_change + timedelta(days=91)
    assert [c.token for c in store.delete_expired_checkouts(now)] == [unpaid.token]
    assert store.get_checkout(paid.token) is not None
