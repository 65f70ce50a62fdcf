"""A checkout paid (or authorized) in full but never completed loses its cart
(`ecommerce/cart_payment.py`); its payment may go away again with no webhook. What was wrong:
the cart never came back, not even through the daily sweep, so a shopper who did not buy and
had their money back got no abandoned-cart e-mail.

Saleor releases the funds of a checkout left alone for `checkout_ttl_before_releasing_funds`
(6 h by default; saleor/payment/tasks.py `transaction_release_funds_for_checkout_task`:
CANCEL_REQUEST / REFUND_REQUEST) and sends no checkout webhook for it
(saleor/checkout/actions.py `_transaction_amounts_for_checkout_updated` sends FULLY_PAID /
FULLY_AUTHORIZED only on the way up). The daily cart sweep now reads the payment statuses of
the checkouts whose carts went as paid (`ecommerce/cart_sweep.py`)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from addon.clock import ManualClock
from addon.ecommerce.burst_orders import _Ledger, _unconverted
from addon.ecommerce.cart_payment import CART_PAID_NOTE
from addon.ecommerce.daily_sweep import SWEEP_EVERY
from addon.ecommerce.models import EntityKind, SyncRecord, SyncStatus
from addon.ecommerce.record_states import CART_CONVERTED_NOTE, converted_cart
from addon.ecommerce.saleor_schemas import SaleorOrder
from sandboxes.saleor.models import Checkout
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop


async def _paid_checkout(shop: Shop) -> Checkout:
    """A checkout whose cart was sent, then authorized in full: its cart is gone."""
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 2)], email="ann@example.com"
    )
    await shop.drain()
    assert str(checkout.token) in shop.carts()
    await shop.saleor.pay_checkout(checkout, authorized=Decimal("4.00"))
    await shop.drain()
    assert str(checkout.token) not in shop.carts()  # paid: no abandoned cart (as designed)
    return checkout


async def _next_sweep(shop: Shop, clock: ManualClock) -> None:
    """Seven hours on (past Saleor's release of the funds), then the daily sweep."""
    clock.advance(timedelta(hours=7).total_seconds())
    await shop.drain()
    clock.advance(SWEEP_EVERY.total_seconds())
    await shop.drain()


async def test_a_checkout_whose_payment_saleor_released_is_an_abandoned_cart_again(
    shop: Shop, clock: ManualClock
) -> None:
    checkout = await _paid_checkout(shop)
    sent = len(shop.saleor.deliveries)
    # Saleor's release-funds task cancels the authorization: no webhook, the checkout stays.
    shop.saleor.release_checkout_funds(checkout)
    await _next_sweep(shop, clock)

    assert shop.saleor.deliveries[sent:] == []
    assert str(checkout.token) in shop.carts(), (
        "the unpaid, abandoned checkout never gets its cart back in Mailchimp"
    )
    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED


async def test_a_checkout_still_paid_stays_without_a_cart(shop: Shop, clock: ManualClock) -> None:
    checkout = await _paid_checkout(shop)
    await _next_sweep(shop, clock)

    assert str(checkout.token) not in shop.carts()
    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None
    assert (record.status, record.last_error) == (SyncStatus.REMOVED, CART_PAID_NOTE)


async def test_a_paid_checkout_ordered_meanwhile_gets_no_cart(
    shop: Shop, clock: ManualClock
) -> None:
    """`checkoutComplete` makes the order (the checkout's transactions move to it) and deletes
    the checkout. The order's push marks the cart converted: the sweep reads it no more."""
    checkout = await _paid_checkout(shop)
    await shop.saleor.complete_checkout(checkout)
    await shop.drain()
    assert len(shop.orders()) == 1
    await _next_sweep(shop, clock)

    assert str(checkout.token) not in shop.carts()
    assert len(shop.orders()) == 1
    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None
    assert (record.status, record.mailchimp_id, record.last_error) == (
        SyncStatus.REMOVED,
        None,
        CART_CONVERTED_NOTE,
    )


async def test_a_paid_checkout_kept_by_its_order_gets_no_cart(
    shop: Shop, clock: ManualClock
) -> None:
    """`orderCreateFromCheckout(removeCheckout: false)` keeps the checkout, but its transactions
    move to the order (saleor/checkout/complete_checkout.py `_create_order_from_checkout`), so
    the kept checkout reads unpaid: the sweep must not take it for a payment released."""
    checkout = await _paid_checkout(shop)
    [line] = checkout.lines
    variant = shop.saleor.store.get_variant(line.variant_id)
    await shop.saleor.create_order(
        lines=[shop.saleor.order_line(variant, line.quantity)],
        email="ann@example.com",
        checkout_token=checkout.token,
        paid=False,
    )
    await shop.drain()
    assert len(shop.orders()) == 1
    assert shop.saleor.store.checkouts.get(checkout.token) is not None  # kept, money gone
    await _next_sweep(shop, clock)

    assert str(checkout.token) not in shop.carts()


def test_an_order_sent_in_a_burst_converts_a_cart_removed_as_paid() -> None:
    """The burst's orders (`burst_orders`) mark their carts converted as `Pusher._convert_cart`
    does, a cart removed as paid too: before, they skipped every removed cart, and the sweep
    took a kept checkout's for a payment released."""
    checkout_id = "Q2hlY2tvdXQ6MQ=="

    def cart(note: str, children: dict[str, str]) -> SyncRecord:
        return SyncRecord(
            installation_id=1,
            channel_slug="default-channel",
            kind=EntityKind.CART,
            saleor_id=checkout_id,
            status=SyncStatus.REMOVED,
            last_error=note,
            children=children,
        )

    paid = cart(CART_PAID_NOTE, {})
    converted = cart(CART_CONVERTED_NOTE, converted_cart().children)
    order = SaleorOrder.model_construct(checkout_id=checkout_id)
    assert _unconverted(_Ledger({}, {}, {checkout_id: paid}), order)
    assert not _unconverted(_Ledger({}, {}, {checkout_id: converted}), order)
