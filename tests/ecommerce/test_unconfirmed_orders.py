"""Orders nobody has confirmed or paid yet (an unpaid checkout completed, `allowUnpaidOrders`):
held back, so Mailchimp sends no Order Confirmation for an order that may expire, and sent as a
new order once confirmed or paid, however late; one cancelled or expired first never goes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import delete, update

from addon.clock import ManualClock
from addon.ecommerce.models import PUSH_JOB, EntityKind, SyncRecord, SyncStatus
from addon.jobs.models import Job
from sandboxes.saleor.order_models import OrderStatus
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop


@pytest.fixture(autouse=True)
def _unpaid_orders_allowed(shop: Shop) -> None:
    """Unpaid checkouts become orders only where the channel allows it (`allowUnpaidOrders`,
    off by default): elsewhere `checkoutComplete` refuses them, CHECKOUT_NOT_FULLY_PAID."""
    shop.saleor.store.default_channel().allow_unpaid_orders = True


def _order_writes(shop: Shop, start: int) -> list[tuple[str, str | None]]:
    """Mailchimp's order writes since `start`: method and the financial status sent."""
    return [
        (r.method, (r.body or {}).get("financial_status"))
        for r in shop.mailchimp.requests[start:]
        if "/orders" in r.path and r.method != "GET"
    ]


async def test_an_order_nobody_confirmed_or_paid_waits_and_if_it_expires_never_goes(
    shop: Shop,
) -> None:
    """An unpaid checkout completed (`allowUnpaidOrders`) is UNCONFIRMED with nothing charged
    (`sale_payloads.tentative`): sent, Mailchimp would e-mail an Order Confirmation, then a
    Cancellation once Saleor expires it. Its cart goes all the same: it was placed."""
    product = await shop.product("Kiwi", "1.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="k@example.com"
    )
    await shop.drain()
    assert set(shop.carts()) == {str(checkout.token)}
    start = len(shop.mailchimp.requests)
    order = await shop.saleor.complete_checkout(checkout, paid=False)
    assert order.status is OrderStatus.UNCONFIRMED
    await shop.drain()
    assert shop.carts() == {} and shop.orders() == {}
    await shop.saleor.expire_order(order)
    await shop.drain()
    assert shop.orders() == {} and _order_writes(shop, start) == []
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.status is SyncStatus.REMOVED


async def test_an_unpaid_order_goes_once_confirmed_and_a_paid_one_at_once(shop: Shop) -> None:
    """`orderConfirm` sends ORDER_CONFIRMED alone: the order goes `pending` (the shopper's
    Order Confirmation). Paid before anyone confirmed it, it goes as a new paid order does:
    created `pending`, then `paid` (`order_confirmation.py`)."""
    product = await shop.product("Plum", "2.00")
    confirmed, paid = [
        await shop.saleor.complete_checkout(
            await shop.saleor.create_checkout(
                lines=[LineSpec(product.variants[0].id, 1)], email=f"{name}@example.com"
            ),
            paid=False,
        )
        for name in ("confirmed", "paid")
    ]
    await shop.drain()
    start = len(shop.mailchimp.requests)
    await shop.saleor.confirm_order(confirmed)
    await shop.drain()
    assert _order_writes(shop, start) == [("POST", "pending")]
    start = len(shop.mailchimp.requests)
    await shop.saleor.mark_order_paid(paid)
    await shop.drain()
    assert _order_writes(shop, start) == [("POST", "pending"), ("PATCH", "paid")]
    assert {o.financial_status for o in shop.orders().values()} == {"pending", "paid"}


async def test_an_order_paid_days_after_it_was_placed_still_gets_its_confirmation(
    shop: Shop, clock: ManualClock
) -> None:
    """Held back while nobody had confirmed or paid it (its record says so), a bank transfer
    paid three days later is a new purchase to its shopper: created `pending` (Mailchimp's
    Order Confirmation), then `paid`, although placed more than a day before."""
    product = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="fig@example.com"
    )
    order = await shop.saleor.complete_checkout(checkout, paid=False)
    await shop.drain()
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.status is SyncStatus.REMOVED
    listed = (await shop.api("GET", "/api/ecommerce/records?status=removed")).json()
    [held] = [r for r in listed if r["saleor_id"] == order.global_id]
    assert "nobody has confirmed or paid this order" in held["reason"]  # the admin sees why
    clock.advance(3 * 24 * 3600)
    start = len(shop.mailchimp.requests)
    await shop.saleor.mark_order_paid(order)
    await shop.drain()
    assert _order_writes(shop, start) == [("POST", "pending"), ("PATCH", "paid")]
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED and record.last_error is None


async def test_an_unconfirmed_order_paid_then_refunded_keeps_following_saleor(shop: Shop) -> None:
    """Refunded back to nothing charged, it is not waiting for a payment (it has one): sent
    `paid`, Mailchimp gets its refund, its record kept."""
    product = await shop.product("Lime", "6.00")
    store = shop.saleor.store
    store.default_channel().automatically_confirm_all_new_orders = False
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="l@example.com"
    )
    order = await shop.saleor.complete_checkout(checkout)  # paid, by a transaction
    assert order.status is OrderStatus.UNCONFIRMED
    await shop.drain()
    assert shop.orders()[str(order.number)].financial_status == "paid"
    await shop.saleor.refund_transaction(order)
    await shop.drain()
    assert shop.orders()[str(order.number)].financial_status == "refunded"
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED


async def test_an_order_cancelled_before_anyone_paid_never_goes(shop: Shop) -> None:
    """Unconfirmed and unpaid, then cancelled by staff: Mailchimp never heard of it, so no
    Cancellation Confirmation; a zero-total order without a transaction waits the same way."""
    product = await shop.product("Melon", "4.00")
    free = await shop.product("Sticker", "0.00")
    orders = [
        await shop.saleor.complete_checkout(
            await shop.saleor.create_checkout(
                lines=[LineSpec(variant.id, 1)], email=f"{variant.id}@example.com"
            ),
            paid=False,
        )
        for variant in (product.variants[0], free.variants[0])
    ]
    await shop.drain()
    await shop.saleor.cancel_order(orders[0])
    await shop.drain()
    assert shop.orders() == {}
    assert shop.mailchimp.requests and not [
        r for r in shop.mailchimp.requests if "/orders" in r.path and r.method != "GET"
    ]


async def test_a_held_back_order_keeps_its_confirmation_through_a_failed_push(
    shop: Shop, clock: ManualClock
) -> None:
    """That it waited is kept in its record's fingerprint (`WAITED`), which the failure's
    reason shown on the record does not overwrite, nor the admin's Retry clear: it still goes
    as a new purchase."""
    product = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="fig@example.com"
    )
    order = await shop.saleor.complete_checkout(checkout, paid=False)
    await shop.drain()
    clock.advance(3 * 24 * 3600)
    await shop.saleor.mark_order_paid(shop.saleor.store.get_order(order.id))
    # Its push failed for good (`failures.py` writes the reason over the note) before it sent.
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(SyncRecord)
            .where(SyncRecord.saleor_id == order.global_id)
            .values(status=SyncStatus.QUARANTINED, last_error="Mailchimp did not answer")
        )
        await session.execute(delete(Job).where(Job.kind == PUSH_JOB))
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.last_error == "Mailchimp did not answer"
    start = len(shop.mailchimp.requests)
    response = await shop.api("POST", f"/api/ecommerce/records/{record.id}/retry")
    assert response.status_code == 200, response.text
    await shop.drain()
    assert _order_writes(shop, start) == [("POST", "pending"), ("PATCH", "paid")]


async def test_an_order_first_paid_in_part_gets_its_confirmation_then_its_invoice(
    shop: Shop,
) -> None:
    """Paid in part, an order new to Mailchimp would send the Invoice alone (`partially_paid`
    does, Mailchimp's rules, mc-woocommerce#79): it is created `pending` first, as a paid
    one is, so that the shopper gets the Order Confirmation too."""
    product = await shop.product("Pear", "10.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="p@example.com"
    )
    order = await shop.saleor.complete_checkout(checkout, paid=False)
    await shop.drain()
    assert shop.orders() == {}  # held back: nobody confirmed or paid it
    start = len(shop.mailchimp.requests)

    await shop.saleor.create_transaction(order, charged=Decimal("4.00"))
    await shop.drain()

    assert _order_writes(shop, start) == [("POST", "pending"), ("PATCH", "partially_paid")]
    assert shop.orders()[str(order.id)].financial_status == "partially_paid"
