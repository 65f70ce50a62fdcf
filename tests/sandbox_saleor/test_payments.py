"""The Saleor sandbox computes order payment fields as Saleor does, for both payment models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.order_models import (
    Order,
    OrderAuthorizeStatus,
    OrderChargeStatus,
    PaymentChargeStatus,
    TransactionEvent,
    TransactionEventType,
    TransactionItem,
)
from sandboxes.saleor.payment_actions import (
    PaymentActionError,
    capture_legacy_payment,
    create_transaction,
    grant_refund,
    refund_legacy_payment,
    request_refund,
)
from sandboxes.saleor.payments import (
    is_paid,
    payment_status,
    recalculate_transaction,
    total_refund_pending,
    total_refunded,
)
from sandboxes.saleor.store_catalog import VariantSpec

from .conftest import APP_HOST, FakeApp

T = TransactionEventType
D = Decimal


def _order(sandbox: SaleorSandbox, **fields: Any) -> Order:
    """An unpaid order of 40.00."""
    store = sandbox.store
    product = store.create_product("Mug", [VariantSpec(sku="MUG", price=D("20.00"))])
    line = store.order_line_for(product.variants[0], 2)
    return store.create_order(lines=[line], email="a@example.com", paid=False, **fields)


def _item(*events: tuple[TransactionEventType, str, str]) -> TransactionItem:
    """A transaction with `events` (type, amount, PSP reference) a second apart."""
    item = TransactionItem(id=1, currency="USD")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for index, (kind, amount, reference) in enumerate(events):
        item.events.append(
            TransactionEvent(
                id=index + 1,
                type=kind,
                amount=D(amount),
                psp_reference=reference,
                created_at=start + timedelta(seconds=index),
            )
        )
    recalculate_transaction(item)
    return item


def test_transaction_amounts_follow_saleors_event_rules() -> None:
    # A charge moves money out of the authorization.
    item = _item((T.AUTHORIZATION_SUCCESS, "40", "a"), (T.CHARGE_SUCCESS, "30", "c"))
    assert (item.authorized_value, item.charged_value) == (D(10), D(30))
    # A refund request is pending (and no longer charged) until its result arrives.
    item = _item((T.CHARGE_SUCCESS, "40", "c"), (T.REFUND_REQUEST, "15", "r"))
    assert (item.charged_value, item.refund_pending_value, item.refunded_value) == (
        D(25),
        D(15),
        D(0),
    )
    charge, request = (T.CHARGE_SUCCESS, "40", "c"), (T.REFUND_REQUEST, "15", "r")
    item = _item(charge, request, (T.REFUND_SUCCESS, "15", "r"))
    assert (item.charged_value, item.refund_pending_value, item.refunded_value) == (
        D(25),
        D(0),
        D(15),
    )
    # A failure newer than the success wins; a failed refund leaves the money charged.
    refund = (T.REFUND_SUCCESS, "15", "r")
    item = _item(charge, refund, (T.REFUND_FAILURE, "15", "r"))
    assert (item.charged_value, item.refunded_value) == (D(40), D(0))
    # A reversed refund is charged again; a chargeback is no longer charged.
    item = _item(charge, refund, (T.REFUND_REVERSE, "15", "r"))
    assert (item.charged_value, item.refunded_value) == (D(40), D(0))
    item = _item((T.CHARGE_SUCCESS, "40", "c"), (T.CHARGE_BACK, "40", "c"))
    assert item.charged_value == D(0)


def test_events_without_a_psp_reference_add_their_amounts_as_they_are() -> None:
    """`transactionCreate`'s events (`create_manual_adjustment_events`) carry no PSP reference:
    `_handle_events_without_psp_reference` adds them as they are, a charge taking nothing out
    of the authorization and a refund nothing out of the charge."""
    item = _item((T.AUTHORIZATION_SUCCESS, "40", ""), (T.CHARGE_SUCCESS, "30", ""))
    assert (item.authorized_value, item.charged_value) == (D(40), D(30))
    item = _item((T.REFUND_SUCCESS, "25", ""))
    assert (item.charged_value, item.refunded_value) == (D(0), D(25))
    item = _item((T.CHARGE_SUCCESS, "40", ""), (T.CHARGE_BACK, "10", ""))
    assert item.charged_value == D(30)


def test_a_refund_recorded_by_hand_leaves_the_order_charged(sandbox: SaleorSandbox) -> None:
    order, ids = _order(sandbox), sandbox.store.next_id
    create_transaction(ids, order, charged=D(40))
    _, events = create_transaction(ids, order, refunded=D(40))
    assert events == ["ORDER_REFUNDED", "ORDER_UPDATED", "ORDER_FULLY_REFUNDED"]
    assert (order.total_charged, total_refunded(order)) == (D(40), D(40))
    assert payment_status(order) is PaymentChargeStatus.FULLY_CHARGED


def test_transaction_order_refunds_lower_the_charge_and_never_show_as_refunded(
    sandbox: SaleorSandbox,
) -> None:
    order, ids = _order(sandbox), sandbox.store.next_id
    _, events = create_transaction(ids, order, charged=D(40))
    assert events == ["ORDER_PAID", "ORDER_FULLY_PAID", "ORDER_UPDATED"]
    assert (order.charge_status, payment_status(order), is_paid(order)) == (
        OrderChargeStatus.FULL,
        PaymentChargeStatus.FULLY_CHARGED,
        True,
    )
    _, events = request_refund(ids, order, D(10))
    assert events == ["ORDER_REFUNDED", "ORDER_UPDATED"]
    assert (order.total_charged, total_refunded(order)) == (D(30), D(10))
    assert (order.charge_status, payment_status(order)) == (
        OrderChargeStatus.PARTIAL,
        PaymentChargeStatus.PARTIALLY_CHARGED,
    )
    _, events = request_refund(ids, order, settle=False)  # the rest, pending at the payment app
    assert events == ["ORDER_UPDATED"]
    assert (order.total_charged, total_refund_pending(order)) == (D(0), D(30))
    assert payment_status(order) is PaymentChargeStatus.NOT_CHARGED
    with pytest.raises(PaymentActionError):
        request_refund(ids, order, D(1))  # nothing charged is left


def test_a_refund_granted_first_makes_the_order_fully_charged_again(
    sandbox: SaleorSandbox,
) -> None:
    order, ids = _order(sandbox), sandbox.store.next_id
    create_transaction(ids, order, charged=D(40))
    granted = grant_refund(ids, order, D(40))
    assert order.charge_status is OrderChargeStatus.OVERCHARGED  # 40 charged, 0 due
    _, events = request_refund(ids, order, granted_refund=granted)
    assert events == ["ORDER_REFUNDED", "ORDER_UPDATED", "ORDER_FULLY_REFUNDED"]
    assert (order.charge_status, order.authorize_status, payment_status(order)) == (
        OrderChargeStatus.FULL,
        OrderAuthorizeStatus.NONE,  # nothing covers the (non-zero) total any more
        PaymentChargeStatus.FULLY_CHARGED,
    )
    assert total_refunded(order) == D(40)


def test_legacy_payment_refunds(sandbox: SaleorSandbox) -> None:
    order, ids = _order(sandbox), sandbox.store.next_id
    assert capture_legacy_payment(ids, order) == ["ORDER_PAID", "ORDER_FULLY_PAID", "ORDER_UPDATED"]
    assert refund_legacy_payment(ids, order, D(15)) == ["ORDER_REFUNDED", "ORDER_UPDATED"]
    assert (payment_status(order), order.charge_status) == (
        PaymentChargeStatus.PARTIALLY_REFUNDED,
        OrderChargeStatus.PARTIAL,
    )
    assert (order.total_charged, total_refunded(order)) == (D(25), D(15))
    events = refund_legacy_payment(ids, order)
    assert events == ["ORDER_REFUNDED", "ORDER_UPDATED", "ORDER_FULLY_REFUNDED"]
    [payment] = order.payments
    assert (payment.charge_status, payment.is_active) == (PaymentChargeStatus.FULLY_REFUNDED, False)
    assert (order.total_charged, total_refunded(order), is_paid(order)) == (D(0), D(40), False)
    with pytest.raises(PaymentActionError):
        refund_legacy_payment(ids, order)


async def test_mark_as_paid_is_refused_once_the_order_has_payments(
    sandbox: SaleorSandbox,
) -> None:
    order = _order(sandbox)
    await sandbox.mark_order_paid(order)
    with pytest.raises(ValueError, match="transactions can not be manually marked as paid"):
        await sandbox.mark_order_paid(order)


async def test_cancelling_a_fulfilled_order_is_refused(sandbox: SaleorSandbox) -> None:
    order = _order(sandbox)
    await sandbox.fulfill_order(order)
    with pytest.raises(ValueError, match="can't be canceled"):
        await sandbox.cancel_order(order)


async def test_the_api_serves_payment_fields(sandbox: SaleorSandbox, fake_app: FakeApp) -> None:
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    order = _order(sandbox)
    await sandbox.create_transaction(order, charged=D(40))
    await sandbox.refund_transaction(order, D(5))
    query = """query ($id: ID!) { order(id: $id) {
        paymentStatus chargeStatus authorizeStatus isPaid
        totalCharged { amount } totalRefunded { amount } totalRefundPending { amount }
        transactions { chargedAmount { amount } refundedAmount { amount }
                       events { type amount { amount } } }
    } }"""
    body = await sandbox.execute(query, {"id": order.global_id}, app=app)
    assert body == {
        "data": {
            "order": {
                "paymentStatus": "PARTIALLY_CHARGED",
                "chargeStatus": "PARTIAL",
                "authorizeStatus": "PARTIAL",
                "isPaid": False,
                "totalCharged": {"amount": 35.0},
                "totalRefunded": {"amount": 5.0},
                "totalRefundPending": {"amount": 0.0},
                "transactions": [
                    {
                        "chargedAmount": {"amount": 35.0},
                        "refundedAmount": {"amount": 5.0},
                        "events": [
                            {"type": "CHARGE_SUCCESS", "amount": {"amount": 40.0}},
                            {"type": "REFUND_REQUEST", "amount": {"amount": 5.0}},
                            {"type": "REFUND_SUCCESS", "amount": {"amount": 5.0}},
                        ],
                    }
                ],
            }
        }
    }


def test_generated_stores_hold_both_payment_models_and_refunds(sandbox: SaleorSandbox) -> None:
    sandbox.generate_store(products=10, customers=10, orders=300, seed=3)
    orders = list(sandbox.store.orders.values())
    statuses = {payment_status(o) for o in orders}
    assert {PaymentChargeStatus.PARTIALLY_REFUNDED, PaymentChargeStatus.FULLY_REFUNDED} <= statuses
    assert any(o.transactions and total_refunded(o) > 0 for o in orders)
    assert any(o.payments for o in orders) and any(o.transactions for o in orders)
