"""A refund of money charged beyond an order's total is no refund of what was bought.

Staff may edit a paid order while it is UNCONFIRMED (saleor/order/__init__.py
`ORDER_EDITABLE_STATUS`): its total goes down, what was charged stays, and the overcharge is
refunded through the payment app. A payment app can also charge twice, and the duplicate is
refunded. Saleor counts every refund (`totalRefunded`; ORDER_FULLY_REFUNDED once they reach the
order's total, saleor/order/actions.py `order_refunded`), but the shopper keeps, and paid for,
everything the order still has: Mailchimp must not take the order as refunded, nor its revenue
off (`payment_state.refunded_goods`).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandboxes.saleor.order_models import Order, OrderStatus
from tests.ecommerce.conftest import Shop


def _events(shop: Shop, order: Order) -> list[str]:
    return [
        d.event_type
        for d in shop.saleor.deliveries
        if d.target_url.endswith("/ecommerce-orders") and order.global_id.encode() in d.body
    ]


async def _edited_down(shop: Shop, model: str = "transaction") -> Order:
    """A fig (2.00) and a pear (3.00), paid 5.00 (through a payment app, or a legacy payment),
    left UNCONFIRMED; staff then take the pear off (`orderLineDelete`): 2.00 due, 5.00 still
    charged."""
    fig = await shop.product("Fig", "2.00")
    pear = await shop.product("Pear", "3.00")
    order = await shop.saleor.create_order(
        lines=[
            shop.saleor.order_line(fig.variants[0], 1),
            shop.saleor.order_line(pear.variants[0], 1),
        ],
        email="ann@example.com",
        paid=True,
        legacy_payment=model == "legacy",
        status=OrderStatus.UNCONFIRMED,
    )
    await shop.drain()
    lines = shop.saleor.store.get_order(order.id).lines
    [pear_line] = [ln.id for ln in lines if ln.variant_id == pear.variants[0].id]
    await shop.saleor.delete_order_line(order, pear_line)
    await shop.drain()
    mc = shop.orders()[str(order.number)]
    assert (mc.financial_status, mc.order_total) == ("paid", 2.0)
    return order


async def _refund(shop: Shop, model: str, order: Order, amount: Decimal) -> None:
    if model == "legacy":
        await shop.saleor.refund_payment(order, amount)
    else:
        await shop.saleor.refund_transaction(order, amount)


@pytest.mark.parametrize("model", ["transaction", "legacy"])
async def test_the_overcharge_of_an_order_edited_down_refunded_leaves_it_paid(
    shop: Shop, model: str
) -> None:
    order = await _edited_down(shop, model)
    number = str(order.number)
    sent = shop.mailchimp.notifications(shop.account, shop.store_id)
    await _refund(shop, model, order, Decimal("3.00"))
    await shop.drain()

    # Saleor counts the 3.00 against the order's 2.00: "fully refunded".
    assert "ORDER_FULLY_REFUNDED" in _events(shop, order)
    current = shop.saleor.store.get_order(order.id)
    assert (current.total_gross, current.total_charged) == (Decimal("2.00"), Decimal("2.00"))
    mc = shop.orders()[number]
    assert (mc.financial_status, mc.order_total) == ("paid", 2.0)
    # No Refund e-mail for a fig the shopper keeps and paid for.
    assert shop.mailchimp.notifications(shop.account, shop.store_id) == sent

    # Then the fig is refunded too: that is a refund of the order.
    await _refund(shop, model, order, Decimal("2.00"))
    await shop.drain()
    mc = shop.orders()[number]
    assert (mc.financial_status, mc.order_total) == ("refunded", 0.0)


async def test_part_of_the_fig_refunded_after_the_overcharge_is_a_partial_refund(
    shop: Shop,
) -> None:
    order = await _edited_down(shop)
    await shop.saleor.refund_transaction(order, Decimal("3.50"))
    await shop.drain()
    mc = shop.orders()[str(order.number)]
    assert (mc.financial_status, mc.order_total) == ("partially_refunded", 1.5)


async def test_a_duplicate_charge_refunded_leaves_the_order_paid(shop: Shop) -> None:
    """Charged twice (a second transaction of the whole total), the duplicate refunded."""
    product = await shop.product("Kiwi", "10.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 2)], email="kiwi@example.com"
    )
    duplicate = await shop.saleor.create_transaction(order, charged=Decimal("20.00"))
    await shop.drain()
    await shop.saleor.refund_transaction(order, Decimal("20.00"), transaction=duplicate)
    await shop.drain()
    assert "ORDER_FULLY_REFUNDED" in _events(shop, order)
    mc = shop.orders()[str(order.number)]
    assert (mc.financial_status, mc.order_total) == ("paid", 20.0)
