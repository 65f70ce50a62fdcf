"""Refunds reach Mailchimp with the right statuses, for both of Saleor's payment models.

Orders paid through the transaction API (every current payment app) and through legacy payments
are refunded the way Saleor's mutations do it (see sandboxes.saleor.payment_actions); the
sandbox derives `paymentStatus`, `totalCharged` and `totalRefunded` as the real server does, so
for transactions a refund never shows as a `*_REFUNDED` payment status.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sandboxes.saleor.order_models import Order, TransactionEventType
from sandboxes.saleor.payment_actions import refund_legacy_payment, request_refund
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import finish, start

MODELS = ["transaction", "legacy"]

ORDER_PAYMENT = """
query ($id: ID!) {
  order(id: $id) {
    paymentStatus chargeStatus authorizeStatus isPaid
    totalCharged { amount } totalRefunded { amount } totalAuthorized { amount }
    transactions { chargedAmount { amount } refundedAmount { amount } events { type } }
    payments { chargeStatus capturedAmount { amount } }
  }
}
"""


async def _paid_order(shop: Shop, model: str, name: str = "Fig") -> Order:
    """An order of 2 x 10.00 + 5.00 shipping (25.00), paid in full with `model`."""
    product = await shop.product(name, "10.00")
    return await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 2)],
        email=f"{name.lower()}@example.com",
        shipping_price=Decimal("5.00"),
        legacy_payment=model == "legacy",
    )


async def _refund(shop: Shop, model: str, order: Order, amount: Decimal | None = None) -> None:
    if model == "legacy":
        await shop.saleor.refund_payment(order, amount)
    else:
        await shop.saleor.refund_transaction(order, amount)


async def _saleor_view(shop: Shop, order: Order) -> dict[str, Any]:
    """The order's payment fields as the app reads them from Saleor."""
    body = await shop.saleor.execute(ORDER_PAYMENT, {"id": order.global_id}, app=shop.app)
    assert "errors" not in body, body
    return dict(body["data"]["order"])


def _events(shop: Shop, order: Order) -> list[str]:
    """The e-commerce order webhooks delivered to the app about `order`, in order."""
    return [
        d.event_type
        for d in shop.saleor.deliveries
        if d.target_url.endswith("/ecommerce-orders") and order.global_id.encode() in d.body
    ]


@pytest.mark.parametrize("model", MODELS)
async def test_partial_refund(shop: Shop, model: str) -> None:
    order = await _paid_order(shop, model)
    await shop.drain()
    assert shop.orders()[str(order.id)].financial_status == "paid"
    await _refund(shop, model, order, Decimal("7.50"))
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.financial_status, mc.fulfillment_status) == ("partially_refunded", "")
    saleor = await _saleor_view(shop, order)
    assert saleor["totalCharged"] == {"amount": 17.5}
    assert saleor["totalRefunded"] == {"amount": 7.5}
    assert saleor["chargeStatus"] == "PARTIAL"
    # Saleor shows a refund in paymentStatus only for legacy payments.
    expected = "PARTIALLY_CHARGED" if model == "transaction" else "PARTIALLY_REFUNDED"
    assert saleor["paymentStatus"] == expected
    assert _events(shop, order)[-2:] == ["ORDER_REFUNDED", "ORDER_UPDATED"]


@pytest.mark.parametrize("model", MODELS)
async def test_full_refund(shop: Shop, model: str) -> None:
    order = await _paid_order(shop, model)
    await shop.drain()
    await _refund(shop, model, order)
    await shop.drain()
    assert shop.orders()[str(order.id)].financial_status == "refunded"
    saleor = await _saleor_view(shop, order)
    assert (saleor["totalCharged"], saleor["totalRefunded"]) == ({"amount": 0}, {"amount": 25})
    assert saleor["chargeStatus"] == "NONE"
    assert saleor["isPaid"] is False
    expected = "NOT_CHARGED" if model == "transaction" else "FULLY_REFUNDED"
    assert saleor["paymentStatus"] == expected
    assert "ORDER_FULLY_REFUNDED" in _events(shop, order)


async def test_a_refund_recorded_by_hand_is_a_refund_in_full(shop: Shop) -> None:
    """The dashboard's manual refund (saleor-dashboard `CreateManualTransactionRefund`: a
    transaction created with `amountRefunded` alone) leaves `totalCharged` as it was: Saleor
    says the order is refunded in full (ORDER_FULLY_REFUNDED), and so does Mailchimp."""
    order = await _paid_order(shop, "transaction")
    await shop.drain()
    await shop.saleor.create_transaction(order, refunded=Decimal("10.00"))
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.financial_status, mc.order_total) == ("partially_refunded", 15)
    await shop.saleor.create_transaction(order, refunded=Decimal("15.00"))
    await shop.drain()
    saleor = await _saleor_view(shop, order)
    assert (saleor["totalCharged"], saleor["totalRefunded"]) == ({"amount": 25}, {"amount": 25})
    assert (saleor["paymentStatus"], saleor["chargeStatus"]) == ("FULLY_CHARGED", "FULL")
    assert "ORDER_FULLY_REFUNDED" in _events(shop, order)
    mc = shop.orders()[str(order.id)]
    assert (mc.financial_status, mc.order_total) == ("refunded", 0)


@pytest.mark.parametrize("model", MODELS)
async def test_refunds_after_fulfilment_keep_it_shipped(shop: Shop, model: str) -> None:
    order = await _paid_order(shop, model)
    await shop.saleor.fulfill_order(order)
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.financial_status, mc.fulfillment_status) == ("paid", "shipped")
    await _refund(shop, model, order, Decimal("10.00"))
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.financial_status, mc.fulfillment_status) == ("partially_refunded", "shipped")
    await _refund(shop, model, order)  # the rest
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.financial_status, mc.fulfillment_status) == ("refunded", "shipped")
    # one PATCH per status change: paid after its `pending` creation (so that Mailchimp
    # confirms it, `order_confirmation.py`), then two refunds
    assert shop.writes().count(f"PATCH /orders/{order.id}") == 3


@pytest.mark.parametrize("model", MODELS)
async def test_cancel_after_refund(shop: Shop, model: str) -> None:
    order = await _paid_order(shop, model)
    await _refund(shop, model, order)
    await shop.drain()
    assert shop.orders()[str(order.id)].financial_status == "refunded"
    await shop.saleor.cancel_order(order)
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.financial_status, mc.fulfillment_status) == ("cancelled", "")
    assert mc.cancelled_at_foreign
    assert _events(shop, order)[-2:] == ["ORDER_CANCELLED", "ORDER_UPDATED"]


@pytest.mark.parametrize("model", MODELS)
async def test_cancel_after_partial_refund(shop: Shop, model: str) -> None:
    order = await _paid_order(shop, model)
    await _refund(shop, model, order, Decimal("5.00"))
    await shop.saleor.cancel_order(order)
    await shop.drain()
    assert shop.orders()[str(order.id)].financial_status == "cancelled"


async def test_a_refund_granted_first_reads_as_refunded_though_saleor_says_fully_charged(
    shop: Shop,
) -> None:
    """The dashboard's refund flow: grant a refund, then send it to the payment app. Saleor
    compares the charged amount with the total minus granted refunds, so a fully refunded order
    is "FULL" / FULLY_CHARGED again (saleor/order/utils.py `update_order_charge_status`)."""
    order = await _paid_order(shop, "transaction")
    await shop.drain()
    granted = await shop.saleor.grant_refund(order, Decimal("25.00"), "damaged")
    await shop.drain()
    assert shop.orders()[str(order.id)].financial_status == "paid"  # no money moved yet
    await shop.saleor.refund_transaction(order, granted_refund=granted)
    await shop.drain()
    saleor = await _saleor_view(shop, order)
    assert (saleor["paymentStatus"], saleor["chargeStatus"]) == ("FULLY_CHARGED", "FULL")
    assert shop.orders()[str(order.id)].financial_status == "refunded"


async def test_a_pending_refund_is_refunded_when_the_payment_app_reports_it(shop: Shop) -> None:
    order = await _paid_order(shop, "transaction")
    await shop.drain()
    request = await shop.saleor.refund_transaction(order, Decimal("10.00"), settle=False)
    await shop.drain()
    saleor = await _saleor_view(shop, order)
    assert saleor["totalCharged"] == {"amount": 15}  # Saleor deducts the pending refund
    assert shop.orders()[str(order.id)].financial_status == "paid"  # nothing refunded yet
    assert _events(shop, order)[-1] == "ORDER_UPDATED"
    [transaction] = shop.saleor.store.get_order(order.id).transactions
    await shop.saleor.report_transaction_event(
        order, transaction, TransactionEventType.REFUND_SUCCESS, Decimal("10.00"),
        request.psp_reference,
    )  # fmt: skip
    await shop.drain()
    assert shop.orders()[str(order.id)].financial_status == "partially_refunded"
    assert _events(shop, order)[-2:] == ["ORDER_REFUNDED", "ORDER_UPDATED"]


async def test_legacy_order_refund_of_everything(shop: Shop) -> None:
    """Legacy `orderRefund` records a REFUNDED fulfilment; covering the total, it makes the
    order FULLY_REFUNDED."""
    order = await _paid_order(shop, "legacy")
    await shop.saleor.order_refund(order, Decimal("25.00"))
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    # Whatever `totalRefunded` says of a legacy refund, nothing of a refunded order is revenue.
    assert (mc.financial_status, mc.order_total) == ("refunded", 0.0)
    assert (await _saleor_view(shop, order))["paymentStatus"] == "FULLY_REFUNDED"


async def test_authorized_then_charged_in_parts(shop: Shop) -> None:
    product = await shop.product("Kiwi", "10.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 3)], email="k@example.com", paid=False
    )
    transaction = await shop.saleor.create_transaction(order, authorized=Decimal("30.00"))
    await shop.drain()
    assert shop.orders()[str(order.id)].financial_status == "pending"
    saleor = await _saleor_view(shop, order)
    assert (saleor["authorizeStatus"], saleor["totalAuthorized"]) == ("FULL", {"amount": 30})
    charge = TransactionEventType.CHARGE_SUCCESS
    await shop.saleor.report_transaction_event(order, transaction, charge, Decimal("12.00"))
    await shop.drain()
    assert shop.orders()[str(order.id)].financial_status == "partially_paid"
    await shop.saleor.report_transaction_event(order, transaction, charge, Decimal("18.00"))
    await shop.drain()
    assert shop.orders()[str(order.id)].financial_status == "paid"
    saleor = await _saleor_view(shop, order)
    assert (saleor["totalAuthorized"], saleor["paymentStatus"]) == ({"amount": 0}, "FULLY_CHARGED")
    # ORDER_PAID fires too; the app takes ORDER_UPDATED, which Saleor sends with every change.
    assert _events(shop, order)[-2:] == ["ORDER_FULLY_PAID", "ORDER_UPDATED"]


async def test_a_refund_granted_before_the_capture_leaves_the_order_paid_at_what_was_charged(
    shop: Shop,
) -> None:
    """Fails before the fix: one of three kiwis is out of stock, staff grant its 10.00 back
    before capturing the rest. Saleor charges the order up to its total less its granted
    refunds (`update_order_charge_status`: FULLY_CHARGED, ORDER_FULLY_PAID); the app sent it
    "partially_paid" at its whole 30.00, its revenue 10.00 too high and no paid notification."""
    product = await shop.product("Kiwi", "10.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 3)], email="k@example.com", paid=False
    )
    transaction = await shop.saleor.create_transaction(order, authorized=Decimal("30.00"))
    await shop.drain()
    await shop.saleor.grant_refund(order, Decimal("10.00"), "out of stock")
    charge = TransactionEventType.CHARGE_SUCCESS
    await shop.saleor.report_transaction_event(order, transaction, charge, Decimal("20.00"))
    await shop.drain()

    saleor = await _saleor_view(shop, order)
    assert (saleor["paymentStatus"], saleor["chargeStatus"]) == ("FULLY_CHARGED", "FULL")
    mc = shop.orders()[str(order.id)]
    assert (mc.financial_status, mc.order_total) == ("paid", 20.0)
    # Charged only in part of what is still due: partially paid, of what is due.
    other = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 3)], email="m@example.com", paid=False
    )
    item = await shop.saleor.create_transaction(other, authorized=Decimal("30.00"))
    await shop.saleor.grant_refund(other, Decimal("10.00"), "out of stock")
    await shop.saleor.report_transaction_event(other, item, charge, Decimal("5.00"))
    await shop.drain()
    mc = shop.orders()[str(other.id)]
    assert (mc.financial_status, mc.order_total) == ("partially_paid", 20.0)


async def test_a_chargeback_returns_the_money_as_a_refund_does(shop: Shop) -> None:
    """Fails before the fix: a chargeback lowers `totalCharged` with no refund recorded
    (saleor/payment/transaction_item_calculations.py), and the app sent the paid order back to
    "pending" at its whole total: revenue the shop lost, shown as awaiting payment."""
    order = await _paid_order(shop, "transaction")
    await shop.drain()
    [transaction] = shop.saleor.store.get_order(order.id).transactions
    back = TransactionEventType.CHARGE_BACK
    await shop.saleor.report_transaction_event(order, transaction, back, Decimal("10.00"))
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.financial_status, mc.order_total) == ("partially_refunded", 15.0)
    assert (await _saleor_view(shop, order))["totalCharged"] == {"amount": 15}
    await shop.saleor.report_transaction_event(order, transaction, back, Decimal("15.00"))
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.financial_status, mc.order_total) == ("refunded", 0.0)


async def test_a_refund_granted_on_a_paid_order_is_not_forgiven_by_a_chargeback(
    shop: Shop,
) -> None:
    """A chargeback lowers `totalCharged`: counted as unpaid, it made the open grant look
    forgiven, and the order's value dropped by both."""
    order = await _paid_order(shop, "transaction")
    await shop.drain()
    await shop.saleor.grant_refund(order, Decimal("5.00"), "late")  # to be refunded
    [transaction] = shop.saleor.store.get_order(order.id).transactions
    back = TransactionEventType.CHARGE_BACK
    await shop.saleor.report_transaction_event(order, transaction, back, Decimal("10.00"))
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.financial_status, mc.order_total) == ("partially_refunded", 15.0)


async def test_a_legacy_payment_captured_in_part(shop: Shop) -> None:
    product = await shop.product("Lychee", "10.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 3)], email="l@example.com", paid=False
    )
    await shop.saleor.capture_payment(order, Decimal("12.00"))
    await shop.drain()
    assert shop.orders()[str(order.id)].financial_status == "partially_paid"
    assert (await _saleor_view(shop, order))["paymentStatus"] == "PARTIALLY_CHARGED"


async def test_initial_sync_sends_refunded_orders_with_their_status(shop: Shop) -> None:
    """Orders refunded before tracking started (no webhook reached the app)."""
    store = shop.saleor.store
    product = store.create_product("Pear", [])
    line = store.order_line_for(product.variants[0], 2)
    orders: dict[str, Order] = {}
    for model in MODELS:
        for case in ("paid", "partial", "full"):
            order = store.create_order(
                lines=[line.model_copy(update={"id": store.next_id()})],
                email=f"{model}.{case}@example.com",
                legacy_payment=model == "legacy",
            )
            amount = {"paid": None, "partial": Decimal("4.00"), "full": order.total_gross}[case]
            if amount is not None and model == "legacy":
                refund_legacy_payment(store.next_id, order, amount)
            elif amount is not None:
                request_refund(store.next_id, order, amount)
            orders[f"{model}.{case}"] = order
    await start(shop)
    await finish(shop)
    mc = shop.orders()
    statuses = {key: mc[str(order.id)].financial_status for key, order in orders.items()}
    assert statuses == {
        f"{model}.{case}": status
        for model in MODELS
        for case, status in (
            ("paid", "paid"),
            ("partial", "partially_refunded"),
            ("full", "refunded"),
        )
    }


@pytest.mark.parametrize("event", ["ORDER_REFUNDED", "ORDER_FULLY_REFUNDED"])
async def test_each_refund_webhook_alone_updates_the_order(shop: Shop, event: str) -> None:
    """The app subscribes to Saleor's refund events (since 3.14) and acts on each of them."""
    order = await _paid_order(shop, "transaction")
    await shop.drain()
    current = shop.saleor.store.get_order(order.id)
    request_refund(shop.saleor.store.next_id, current)  # no webhook yet
    deliveries = await shop.saleor.emit(event, current)
    assert [d.target_url.rsplit("/", 1)[1] for d in deliveries] == ["ecommerce-orders"]
    await shop.drain()
    assert shop.orders()[str(order.id)].financial_status == "refunded"


async def test_a_refunds_revenue_never_goes_below_nothing(shop: Shop) -> None:
    """Mailchimp's revenue is the orders' totals less their shipping and tax (the spec's
    `total_revenue`). The goods refunded, the shipping and tax go in the share kept; all
    refunded, none (as a cancelled order), where the whole tax and shipping made it negative."""
    product = await shop.product("Pot", "60.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 2, tax_rate=Decimal("0.2"))],
        email="pot@example.com",
        shipping_price=Decimal("10.00"),
        shipping_tax_rate=Decimal("0.2"),
    )  # 130.00: 21.67 of tax (20.00 on the goods, 1.67 on the shipping)
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.order_total, mc.tax_total, mc.shipping_total) == (130, 21.67, 10)

    await _refund(shop, "transaction", order, Decimal("120.00"))  # the goods
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.financial_status, mc.order_total) == ("partially_refunded", 10)
    assert (mc.tax_total, mc.shipping_total) == (1.67, 0.77)  # 10 / 130 of them
    assert mc.order_total - mc.shipping_total - mc.tax_total >= 0

    await _refund(shop, "transaction", order)  # the rest
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert mc.financial_status == "refunded"
    assert (mc.order_total, mc.tax_total, mc.shipping_total, mc.discount_total) == (0, 0, 0, 0)
