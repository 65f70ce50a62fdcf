"""An order placed from a draft is a new purchase when the draft is completed, however long ago
staff began it: Saleor keeps the draft's `created` (`draftOrderComplete`), and records when it
became an order as its PLACED_FROM_DRAFT event, which the app reads (`SaleorOrder.placed`). A
cancelled order's cancellation time is its CANCELED event's, not its `updatedAt`, which every
later save moves (`sale_payloads.cancelled_at`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sandboxes.saleor import Order
from sandboxes.saleor.models import utcnow
from sandboxes.saleor.order_models import OrderEventType, OrderStatus
from tests.ecommerce.conftest import Shop

THREE_DAYS = timedelta(days=3)


def _sent(shop: Shop) -> list[tuple[str, str]]:
    return shop.mailchimp.notifications(shop.account, shop.store_id)


async def _draft(shop: Shop, *, created: datetime, paid: bool = True) -> Order:
    """Ann's draft, with what `draftOrderComplete` asks of one, begun at `created`."""
    product = await shop.product("Quince", "4.00")
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    return await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)],
        user=customer,
        status=OrderStatus.DRAFT,
        paid=paid,
        billing_address=shop.saleor.address(first_name="Ann"),
        shipping_address=shop.saleor.address(first_name="Ann"),
        created=created,
    )


async def test_a_draft_completed_days_after_it_was_begun_gets_its_confirmation(
    shop: Shop,
) -> None:
    """Begun three days ago, completed and paid now: created `pending` (its Order
    Confirmation), then made `paid` (its Invoice), as any new paid order. Read by its
    `created`, it would pass for a purchase long past and e-mail no one."""
    draft = await _draft(shop, created=utcnow() - THREE_DAYS)
    await shop.drain()
    assert shop.orders() == {}  # a draft is staff's: not sent
    order = await shop.saleor.complete_draft_order(draft)
    assert order.created == draft.created  # Saleor keeps the draft's
    await shop.drain()
    number = str(order.number)
    assert _sent(shop) == [(number, "order_confirmation"), (number, "order_invoice")]
    held = shop.orders()[number]
    assert held.financial_status == "paid"
    assert held.processed_at_foreign  # its completion (test_draft_order_processed_at.py)


async def test_a_draft_completed_days_ago_is_history(shop: Shop) -> None:
    """The rule is the placing's: a draft completed three days ago, first seen now (its channel
    tracked since, say), is no new purchase: no e-mail."""
    draft = await _draft(shop, created=utcnow() - 2 * THREE_DAYS)
    order = await shop.saleor.complete_draft_order(draft)
    placed = next(e for e in order.events if e.type is OrderEventType.PLACED_FROM_DRAFT)
    placed.date = utcnow() - THREE_DAYS
    await shop.drain()
    assert str(order.number) in shop.orders()
    assert _sent(shop) == []


async def test_a_cancellation_keeps_its_time_when_the_order_is_saved_again(shop: Shop) -> None:
    """Cancelled two days ago, a note added today (which saves the order, `updatedAt` with
    it): Mailchimp keeps the time it was cancelled, the CANCELED event's."""
    product = await shop.product("Sloe", "3.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], email="c@example.com"
    )
    await shop.drain()
    await shop.saleor.cancel_order(order)
    current = shop.saleor.store.get_order(order.id)
    then = utcnow() - timedelta(days=2)
    cancelled = next(e for e in current.events if e.type is OrderEventType.CANCELED)
    cancelled.date = current.updated_at = then  # cancelled, and saved, two days ago
    await shop.drain()
    number = str(order.number)
    assert shop.orders()[number].cancelled_at_foreign == then.isoformat()

    await shop.saleor.add_order_note(order, "Called the shopper")
    assert shop.saleor.store.get_order(order.id).updated_at > then
    start = len(shop.writes())
    await shop.drain()
    assert [w for w in shop.writes()[start:] if "/orders" in w] == [f"PATCH /orders/{number}"]
    assert shop.orders()[number].cancelled_at_foreign == then.isoformat()
    assert shop.orders()[number].financial_status == "cancelled"


async def test_a_cancellation_without_its_event_keeps_the_time_first_sent(shop: Shop) -> None:
    """Cancelled with no CANCELED event (as an import is: `orderBulkCreate` records none):
    the time first sent stays, a later save's `updatedAt` is not sent."""
    product = await shop.product("Medlar", "3.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)],
        email="m@example.com",
        status=OrderStatus.CANCELED,
    )
    first = utcnow() - timedelta(hours=2)
    shop.saleor.store.get_order(order.id).updated_at = first
    await shop.drain()
    number = str(order.number)
    assert shop.orders()[number].cancelled_at_foreign == first.isoformat()

    await shop.saleor.add_order_note(order, "Imported cancelled")
    start = len(shop.writes())
    await shop.drain()
    assert [w for w in shop.writes()[start:] if "/orders" in w] == [f"PATCH /orders/{number}"]
    assert shop.orders()[number].cancelled_at_foreign == first.isoformat()
