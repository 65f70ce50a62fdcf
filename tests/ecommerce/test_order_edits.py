"""An order Mailchimp holds is changed in place, never deleted and created again for new lines:
Mailchimp takes a re-created order as a new one and sends its notifications again. Its lines go
in its PATCH, those gone are deleted one by one (`sale_sender.py`). Only a corrected shopper
re-creates it: a PATCH cannot move an order to another customer."""

from __future__ import annotations

from sqlalchemy import select

from addon.ecommerce.models import EntityKind
from addon.ecommerce.sale_sender import ORDER_MOVED_NOTE
from addon.jobs.models import Job, JobStatus
from sandboxes.saleor import Product
from sandboxes.saleor.order_models import Order, OrderStatus
from tests.ecommerce.conftest import Shop


def _sent(shop: Shop) -> list[tuple[str, str]]:
    return shop.mailchimp.notifications(shop.account, shop.store_id)


def _lines(shop: Shop, number: str) -> list[tuple[str, int]]:
    return [(ln.product_variant_id, ln.quantity) for ln in shop.orders()[number].lines]


async def _unconfirmed(shop: Shop) -> tuple[Order, Product, Product]:
    """A paid order a channel without automatic confirmation leaves UNCONFIRMED: its lines stay
    editable (saleor/order/__init__.py `ORDER_EDITABLE_STATUS`)."""
    fig = await shop.product("Fig", "2.00")
    pear = await shop.product("Pear", "3.00")
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    order = await shop.saleor.create_order(
        lines=[
            shop.saleor.order_line(fig.variants[0], 1),
            shop.saleor.order_line(pear.variants[0], 1),
        ],
        user=customer,
        paid=True,
        status=OrderStatus.UNCONFIRMED,
    )
    await shop.drain()
    number = str(order.number)
    assert _sent(shop) == [(number, "order_confirmation"), (number, "order_invoice")]
    return order, fig, pear


async def test_a_line_removed_from_a_held_order_is_deleted_alone(shop: Shop) -> None:
    """Staff remove the pear (`orderLineDelete`, ORDER_UPDATED): the order's PATCH, then the
    pear's line deleted; no second Order Confirmation or Invoice."""
    order, fig, pear = await _unconfirmed(shop)
    number = str(order.number)
    [pear_line] = [
        ln.id
        for ln in shop.orders()[number].lines
        if ln.product_variant_id == str(pear.variants[0].id)
    ]
    lines = shop.saleor.store.get_order(order.id).lines
    [pear_pk] = [ln.id for ln in lines if ln.variant_id == pear.variants[0].id]
    start = len(shop.writes())
    await shop.saleor.delete_order_line(order, pear_pk)
    await shop.drain()

    assert shop.writes()[start:] == [
        f"PATCH /orders/{number}",
        f"DELETE /orders/{number}/lines/{pear_line}",
    ]
    assert _lines(shop, number) == [(str(fig.variants[0].id), 1)]
    # The order's new totals came with its lines.
    assert shop.orders()[number].order_total == 2.0
    assert _sent(shop) == [(number, "order_confirmation"), (number, "order_invoice")]


async def test_added_and_changed_lines_go_in_the_orders_patch(shop: Shop) -> None:
    """A quantity changed (`orderLineUpdate`) and a line added (`orderLinesCreate`): one PATCH
    names both, nothing deleted or created."""
    order, fig, pear = await _unconfirmed(shop)
    number = str(order.number)
    kiwi = await shop.product("Kiwi", "1.00")
    await shop.drain()
    start = len(shop.writes())
    fig_line = shop.saleor.store.get_order(order.id).lines[0]
    await shop.saleor.update_order_line(order, fig_line.id, 3)
    await shop.saleor.add_order_lines(order, [shop.saleor.order_line(kiwi.variants[0], 2)])
    await shop.drain()

    assert [w for w in shop.writes()[start:] if "/orders" in w] == [f"PATCH /orders/{number}"]
    assert sorted(_lines(shop, number)) == sorted(
        [(str(fig.variants[0].id), 3), (str(pear.variants[0].id), 1), (str(kiwi.variants[0].id), 2)]
    )
    # Paid for two lines, it now has more to pay: `partially_paid`, for which Mailchimp sends
    # the Invoice again (its rules: `orders.notify` in the sandbox), now with what is owed.
    assert shop.orders()[number].financial_status == "partially_paid"
    assert _sent(shop) == [
        (number, "order_confirmation"),
        (number, "order_invoice"),
        (number, "order_invoice"),
    ]


async def test_a_corrected_guest_address_moves_the_order_to_it(shop: Shop) -> None:
    """Staff correct a guest's mistyped address (`orderUpdate(userEmail)`, ORDER_UPDATED): the
    order is re-created under the customer of the right address, which gets the e-mail of its
    current status; Activity says so."""
    fig = await shop.product("Fig", "2.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(fig.variants[0], 1)], email="ann@exmaple.com", paid=True
    )
    await shop.drain()
    number = str(order.number)
    assert shop.orders()[number].customer.email_address == "ann@exmaple.com"
    assert _sent(shop) == [(number, "order_confirmation"), (number, "order_invoice")]
    await shop.saleor.update_order(order, user_email="ann@example.org")
    await shop.saleor.fulfill_order(order, tracking_number="1Z999")
    await shop.drain()

    held = shop.orders()[number]
    assert held.customer.email_address == "ann@example.org"
    assert held.fulfillment_status == "shipped"
    assert f"DELETE /orders/{number}" in shop.writes()
    # Created as it is (paid and shipped): no Order Confirmation again.
    assert _sent(shop)[2:] == [(number, "order_invoice"), (number, "shipping_confirmation")]
    async with shop.services.db.session() as session:
        [note] = await session.scalars(select(Job).where(Job.kind == ORDER_MOVED_NOTE))
    assert note.status is JobStatus.DONE
    assert note.last_error is not None
    assert "from ann@exmaple.com to ann@example.org" in note.last_error
    assert f"Order #{number}" in note.last_error
    # The same address in capitals: the same customer, nothing re-created.
    start = len(shop.writes())
    await shop.saleor.update_order(order, user_email="Ann@Example.org")
    await shop.drain()
    assert not any(w.startswith(("DELETE", "POST")) for w in shop.writes()[start:])
    assert len(_sent(shop)) == 4


async def test_a_guest_order_given_to_the_shopper_who_registered_stays(shop: Shop) -> None:
    """Saleor gives a guest's orders to the user who registers with the address, once they
    confirm it (saleor/order/utils.py `match_orders_with_new_user`, run by `confirmAccount`,
    no webhook): the same address, the order stays."""
    fig = await shop.product("Fig", "2.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(fig.variants[0], 1)], email="bo@example.com", paid=True
    )
    await shop.drain()
    number = str(order.number)
    customer = await shop.saleor.create_customer("bo@example.com", "Bo", "Ray")
    await shop.drain()
    start = len(shop.writes())
    await shop.saleor.confirm_account(customer)
    assert shop.saleor.store.get_order(order.id).user_id == customer.id
    await shop.saleor.fulfill_order(order, tracking_number="1Z1")
    await shop.drain()
    assert [w for w in shop.writes()[start:] if "/orders" in w] == [f"PATCH /orders/{number}"]
    assert _sent(shop)[2:] == [(number, "shipping_confirmation")]
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and set(record.children) == {"lines", "customer", "address"}


async def test_a_customers_new_address_keeps_their_orders(shop: Shop) -> None:
    """A registered shopper's new address is their customer's (re-created under the same id,
    `email_change.py`): their orders follow it, none re-created."""
    fig = await shop.product("Fig", "2.00")
    customer = await shop.saleor.create_customer("cy@example.com", "Cy", "Oak")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(fig.variants[0], 1)], user=customer, paid=True
    )
    await shop.drain()
    number = str(order.number)
    await shop.saleor.confirm_email_change(customer, "cy.oak@example.com")
    await shop.drain()
    start = len(shop.writes())
    await shop.saleor.fulfill_order(order, tracking_number="1Z2")
    await shop.drain()
    assert [w for w in shop.writes()[start:] if "/orders" in w] == [f"PATCH /orders/{number}"]
    assert shop.orders()[number].customer.email_address == "cy.oak@example.com"
    assert _sent(shop)[2:] == [(number, "shipping_confirmation")]
