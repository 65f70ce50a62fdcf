"""The order notifications Mailchimp sends for what the app sends: a new order its Order
Confirmation (created `pending`) and, once paid, its Invoice; nothing for history sent under
`is_syncing`, nor for an old order new to Mailchimp but what happens to it now (the Mailchimp
sandbox records them, `orders.notify`)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from addon.db.types import utcnow
from addon.ecommerce.models import QUIET, EntityKind, Fingerprint
from addon.ecommerce.sale_sender import moved_sends
from sandboxes.saleor import Customer, Order, Product
from sandboxes.saleor.fulfillments import create_fulfillment
from sandboxes.saleor.order_models import OrderStatus
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.ecommerce.test_burst import batch_calls, bursty, settle  # noqa: F401
from tests.ecommerce.test_store_state import recreate_deleted_store


def _sent(shop: Shop) -> list[tuple[str, str]]:
    return shop.mailchimp.notifications(shop.account, shop.store_id)


async def _buyer(shop: Shop) -> tuple[Product, Customer]:
    product = await shop.product("Fig", "2.00")
    return product, await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")


async def _old_order(shop: Shop, *, shipped: bool) -> Order:
    """Ann's order of last week, paid then (and shipped the day after), first seen today."""
    product, customer = await _buyer(shop)
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)],
        user=customer,
        paid=True,
        created=utcnow() - timedelta(days=7),
    )
    if shipped:
        await shop.saleor.fulfill_order(order)
        shop.saleor.store.get_order(order.id).fulfillments[-1].created = utcnow() - timedelta(
            days=6
        )
    await shop.drain()
    return order


async def test_an_order_paid_at_checkout_gets_its_confirmation_and_its_invoice(
    shop: Shop,
) -> None:
    """Created `paid`, Mailchimp would send no confirmation: the app creates it `pending`,
    then makes it `paid`, as Mailchimp for WooCommerce does."""
    product, customer = await _buyer(shop)
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer, paid=True
    )
    await shop.drain()
    number = str(order.number)
    assert _sent(shop) == [(number, "order_confirmation"), (number, "order_invoice")]
    assert shop.orders()[number].financial_status == "paid"


async def test_an_order_paid_later_gets_each_when_it_happens(shop: Shop) -> None:
    product, customer = await _buyer(shop)
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer, paid=False
    )
    await shop.drain()
    number = str(order.number)
    assert _sent(shop) == [(number, "order_confirmation")]
    await shop.saleor.mark_order_paid(order)
    await shop.drain()
    assert _sent(shop) == [(number, "order_confirmation"), (number, "order_invoice")]


async def test_a_recreated_stores_history_e_mails_no_one(shop: Shop) -> None:
    product, customer = await _buyer(shop)
    old = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer, paid=True
    )
    await shop.drain()
    await recreate_deleted_store(shop)
    await shop.drain()
    assert str(old.number) in shop.orders()
    assert _sent(shop) == []  # the new store's own list: its history sent nothing


async def test_an_old_order_new_to_mailchimp_e_mails_only_what_happens_now(shop: Shop) -> None:
    """A channel tracked without an initial sync, an order of last week paid then and changed
    today: created without its statuses (each would send its e-mail about a purchase long
    past), its revenue counted all the same; a refund today is news, and gets its e-mail."""
    order = await _old_order(shop, shipped=False)
    number = str(order.number)
    held = shop.orders()[number]
    assert (held.financial_status, held.fulfillment_status, held.order_total) == ("", "", 2.0)
    assert _sent(shop) == []

    # Changed again (its `updatedAt` patched), its statuses as they were: still untold.
    start = len(shop.writes())
    await shop.saleor.add_order_note(order, "Gift")
    await shop.drain()
    assert [w for w in shop.writes()[start:] if "/orders" in w] == [f"PATCH /orders/{number}"]
    assert shop.orders()[number].financial_status == ""
    assert _sent(shop) == []

    await shop.saleor.refund_transaction(order)
    await shop.drain()
    assert shop.orders()[number].financial_status == "refunded"
    assert _sent(shop) == [(number, "refund_confirmation")]


async def test_an_old_orders_shipment_is_news_only_when_it_is_recent(shop: Shop) -> None:
    """Orders of last week Mailchimp never had, first seen today (no webhook reached the app
    before): the one shipped today gets its Shipping Confirmation, the one shipped last week
    nothing; neither an Invoice."""
    product, customer = await _buyer(shop)
    store = shop.saleor.store
    week_ago = utcnow() - timedelta(days=7)
    today, then = (
        store.create_order(
            lines=[shop.saleor.order_line(product.variants[0], 1)],
            user=customer,
            paid=True,
            created=week_ago,
        )
        for _ in range(2)
    )
    create_fulfillment(store.next_id, today)
    create_fulfillment(store.next_id, then).created = week_ago
    for order in (today, then):
        await shop.saleor.emit("ORDER_UPDATED", store.get_order(order.id))
    await shop.drain()

    held = shop.orders()
    assert held[str(today.number)].fulfillment_status == "shipped"
    assert held[str(then.number)].fulfillment_status == ""
    assert _sent(shop) == [(str(today.number), "shipping_confirmation")]


async def test_orders_imported_in_bulk_e_mail_no_one(shop: Shop) -> None:
    """`orderBulkCreate` imports orders placed elsewhere (their shoppers had that place's
    e-mails), dated today or not: Mailchimp gets them without their statuses."""
    product = await shop.product("Fig", "2.00")
    await shop.drain()
    imported = await shop.saleor.bulk_create_orders(
        [
            {"lines": [shop.saleor.order_line(product.variants[0], 1)], "email": f"p{i}@x.example"}
            for i in range(3)
        ]
    )
    for order in imported[:2]:
        create_fulfillment(shop.saleor.store.next_id, order)
    await shop.drain()
    held = shop.orders()
    assert {held[str(o.number)].financial_status for o in imported} == {""}
    assert _sent(shop) == []


async def test_a_burst_of_old_orders_e_mails_no_one(bursty: Shop) -> None:  # noqa: F811
    """Above the threshold, old orders go out in batches, as quiet as alone; their statuses
    kept in the ledger, so redelivered they send nothing more."""
    shop = bursty
    product, _ = await _buyer(shop)
    await settle(shop)
    orders = [
        await shop.saleor.create_order(
            lines=[shop.saleor.order_line(product.variants[0], 1)],
            email=f"old{i}@example.com",
            created=utcnow() - timedelta(days=30),
        )
        for i in range(5)
    ]
    start = len(shop.mailchimp.requests)
    await settle(shop)
    assert batch_calls(shop, start) >= 1
    held = shop.orders()
    assert {held[str(o.number)].financial_status for o in orders} == {""}
    assert _sent(shop) == []
    start = len(shop.mailchimp.requests)
    for order in orders:
        await shop.saleor.emit("ORDER_UPDATED", shop.saleor.store.get_order(order.id))
    await settle(shop)
    assert batch_calls(shop, start) == 0
    assert [w for w in shop.writes()[start:] if "/orders" in w] == []
    assert _sent(shop) == []


async def test_what_forgets_an_old_orders_content_keeps_its_untold_statuses(shop: Shop) -> None:
    """A resync (and a batch whose outcome Mailchimp did not say: `Fingerprint.unknown`)
    forgets what Mailchimp holds, so the next push sends all of it: but not the statuses it was
    never told, which would e-mail its shopper about a purchase long past."""
    order = await _old_order(shop, shipped=True)
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.children[QUIET] == "paid/shipped"
    assert Fingerprint.unknown(record.children).children[QUIET] == "paid/shipped"

    response = await shop.api(
        "POST", f"/api/ecommerce/channels/{CHANNEL}/resync", {"kind": "order"}
    )
    assert response.status_code == 200, response.text
    await shop.drain()
    number = str(order.number)
    assert (shop.orders()[number].financial_status, shop.orders()[number].fulfillment_status) == (
        "",
        "",
    )
    assert _sent(shop) == []


async def test_an_old_orders_status_once_told_is_told_when_it_returns(shop: Shop) -> None:
    """An old order, paid and still unconfirmed (its lines editable: saleor/order/__init__.py
    `ORDER_EDITABLE_STATUS`): staff add a unit today (`orderLinesCreate`, `partially_paid`,
    told: news), then the rest is charged. Back to the status it was not told, Mailchimp must
    hear it, or it would keep `partially_paid`."""
    product, customer = await _buyer(shop)
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)],
        user=customer,
        paid=True,
        status=OrderStatus.UNCONFIRMED,
        created=utcnow() - timedelta(days=7),
    )
    await shop.drain()
    number = str(order.number)
    assert shop.orders()[number].financial_status == ""

    await shop.saleor.add_order_lines(order, [shop.saleor.order_line(product.variants[0], 1)])
    await shop.drain()
    assert shop.orders()[number].financial_status == "partially_paid"

    await shop.saleor.create_transaction(order, charged=Decimal("2.00"))  # the rest
    await shop.drain()
    assert shop.orders()[number].financial_status == "paid"
    assert _sent(shop) == [(number, "order_invoice"), (number, "order_invoice")]
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and QUIET not in record.children


async def test_an_old_order_with_no_line_to_reference_keeps_only_what_it_still_was_not_told(
    shop: Shop,
) -> None:
    """Its lines' variants deleted before Saleor kept their ids, an order is patched without
    lines, its record keeping the lines Mailchimp holds: but not the statuses it was not told
    then, or one told since would be left out again on its way back."""
    order = await _old_order(shop, shipped=True)
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.children[QUIET] == "paid/shipped"

    for line in shop.saleor.store.get_order(order.id).lines:
        line.variant_id = line.product_variant_id = None
    await shop.saleor.refund_transaction(order)
    await shop.drain()
    number = str(order.number)
    assert shop.orders()[number].financial_status == "refunded"
    assert _sent(shop) == [(number, "refund_confirmation")]
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.children[QUIET] == "/shipped"


def test_a_moved_orders_note_says_which_e_mails_its_new_address_gets() -> None:
    assert "no e-mail of them" in moved_sends("paid/shipped")
    assert "without the payment status" in moved_sends("paid/")
    assert "Shipping Confirmation when shipped" in moved_sends("paid/")
    assert "without the shipping status" in moved_sends("/shipped")
    assert "current status" in moved_sends(None)


async def test_an_old_order_mailchimp_lost_is_created_again_without_its_e_mails(
    shop: Shop,
) -> None:
    """Deleted in Mailchimp, an order of last week first seen today is created again by its
    next push (whose PATCH is answered 404) still without the statuses it was not told, each
    of which would send its e-mail about a purchase long past. A status that changes
    afterwards is news, told."""
    order = await _old_order(shop, shipped=True)
    number = str(order.number)
    assert _sent(shop) == []
    [shipment] = shop.saleor.store.get_order(order.id).fulfillments
    path = f"/ecommerce/stores/{shop.store_id}/orders/{number}"
    await shop.mailchimp.call(shop.account, "DELETE", path)
    await shop.saleor.update_tracking_number(order, shipment, "T-2")
    await shop.drain()
    held = shop.orders()[number]
    assert (held.tracking_number, held.financial_status, held.fulfillment_status) == ("T-2", "", "")
    assert _sent(shop) == []
    await shop.saleor.refund_transaction(order)
    await shop.drain()
    assert _sent(shop) == [(number, "refund_confirmation")]
    assert shop.orders()[number].financial_status == "refunded"


async def test_a_cancelled_shipment_is_taken_back_and_the_next_one_is_news(shop: Shop) -> None:
    """`fulfillmentCancel` leaves the order unfulfilled: Mailchimp holds it as not shipped
    (`fulfillment_status` ""), and shipping it again sends a second Shipping Confirmation.
    Without the cancellation told, Mailchimp would keep "shipped" and the new shipment would
    change nothing there."""
    product, customer = await _buyer(shop)
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer, paid=True
    )
    await shop.saleor.fulfill_order(order, "T-1")
    await shop.drain()
    number = str(order.number)
    assert shop.orders()[number].fulfillment_status == "shipped"
    current = shop.saleor.store.get_order(order.id)
    await shop.saleor.cancel_fulfillment(current, current.fulfillments[0])
    await shop.drain()
    assert shop.orders()[number].fulfillment_status == ""
    await shop.saleor.fulfill_order(current, "T-2")
    await shop.drain()
    assert shop.orders()[number].fulfillment_status == "shipped"
    assert _shipping_confirmations(shop) == 2


async def test_cancelling_one_of_two_shipments_e_mails_no_one(shop: Shop) -> None:
    """Shipped in two parts, one part cancelled: the order is partly shipped again, but
    `partially_shipped` where Mailchimp held `shipped` would send a Shipping Confirmation for a
    cancellation. Mailchimp is told "" until a shipment made after it, which is news."""
    product, customer = await _buyer(shop)
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 2)], user=customer, paid=True
    )
    [line] = order.lines
    number = str(order.number)
    for tracking in ("T-1", "T-2"):
        await shop.saleor.fulfill_order(order, tracking, quantities={line.id: 1})
        await shop.drain()
    assert shop.orders()[number].fulfillment_status == "shipped"
    current = shop.saleor.store.get_order(order.id)
    await shop.saleor.cancel_fulfillment(current, current.fulfillments[0])
    await shop.drain()
    assert current.status is OrderStatus.PARTIALLY_FULFILLED
    assert shop.orders()[number].fulfillment_status == ""
    assert _shipping_confirmations(shop) == 2  # partly, then wholly shipped

    await shop.saleor.fulfill_order(current, "T-3")
    await shop.drain()
    assert shop.orders()[number].fulfillment_status == "shipped"
    assert _shipping_confirmations(shop) == 3


def _shipping_confirmations(shop: Shop) -> int:
    return sum(1 for _, sent in _sent(shop) if sent == "shipping_confirmation")
