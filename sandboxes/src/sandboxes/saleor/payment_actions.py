"""What payment apps and staff do to an order's money, as Saleor's mutations do it.

Each function changes the order in place and returns the order webhooks Saleor fires for it
(the sandbox delivers them). Transaction API: a payment app reports events
(`transactionCreate` / `transactionEventReport`), staff request a refund
(`transactionRequestAction` / `transactionRequestRefundForGrantedRefund`, answered by the app's
TRANSACTION_REFUND_REQUESTED handler) or grant one (`orderGrantRefundCreate`). Legacy payments:
a gateway captures (`checkoutComplete`, `orderCapture`, `orderMarkAsPaid`) and refunds
(`paymentRefund`, `orderRefund`). Sources are cited in `payments`; mutations:
saleor/graphql/payment/mutations/transaction/*, saleor/graphql/payment/mutations/payment/
payment_refund.py, saleor/graphql/order/mutations/order_refund.py and
order_grant_refund_create.py, saleor/payment/utils.py
(`create_transaction_event_from_request_and_webhook_response`).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from .models import CheckoutTransaction, utcnow
from .order_models import Order, OrderStatus
from .payment_models import (
    GrantedRefund,
    Payment,
    PaymentChargeStatus,
    PaymentTransaction,
    PaymentTransactionKind,
    TransactionEvent,
    TransactionEventType,
    TransactionItem,
)
from .payments import (
    ZERO,
    last_payment,
    recalculate_transaction,
    refund_events,
    transaction_update_events,
    update_order_amounts,
)


class PaymentActionError(ValueError):
    """Saleor would refuse the mutation (its error message)."""


IdSource = Callable[[], int]
"""The store's primary-key sequence (``SaleorStore.next_id``): new objects get fresh pks."""


def _psp_reference(ids: IdSource) -> str:
    """What the payment app calls the operation (deterministic, like the store's data)."""
    return f"psp_{ids()}"


def _record(order: Order, item: TransactionItem, *events: TransactionEvent) -> list[str]:
    """Add events to a transaction, recompute it and the order; the webhooks that follow."""
    before = (item.authorized_value, item.charged_value, item.refunded_value)
    item.events.extend(events)
    recalculate_transaction(item)
    item.modified_at = utcnow()
    update_order_amounts(order)
    order.updated_at = utcnow()
    return transaction_update_events(
        order,
        authorized_before=before[0],
        charged_before=before[1],
        refunded_before=before[2],
        item=item,
    )


def _event(
    ids: IdSource, kind: TransactionEventType, amount: Decimal, psp_reference: str
) -> TransactionEvent:
    return TransactionEvent(id=ids(), type=kind, amount=amount, psp_reference=psp_reference)


def _amount(amount: Decimal) -> Decimal:
    if amount <= 0:
        raise PaymentActionError("Amount should be a positive number.")
    return amount


# --- transaction API ---------------------------------------------------------------------------


def create_transaction(
    ids: IdSource,
    order: Order,
    *,
    charged: Decimal = ZERO,
    authorized: Decimal = ZERO,
    refunded: Decimal = ZERO,
    name: str = "Sandbox payment app",
) -> tuple[TransactionItem, list[str]]:
    """`transactionCreate` on the order: a payment app's charge and/or authorization, or what
    staff record by hand, e.g. the dashboard's manual refund (saleor-dashboard
    `CreateManualTransactionRefund`: `amountRefunded` alone). Its amounts are recorded as
    events without a PSP reference (saleor/payment/utils.py `create_manual_adjustment_events`),
    so a refund recorded so leaves the order's `totalCharged` as it was."""
    if min(charged, authorized, refunded) < 0 or charged + authorized + refunded <= 0:
        raise PaymentActionError("A transaction needs a positive amount.")
    item = TransactionItem(
        id=ids(), name=name, psp_reference=_psp_reference(ids), currency=order.currency
    )
    order.transactions.append(item)
    kinds = (
        (TransactionEventType.AUTHORIZATION_SUCCESS, authorized),
        (TransactionEventType.CHARGE_SUCCESS, charged),
        (TransactionEventType.REFUND_SUCCESS, refunded),
    )
    events = [_event(ids, kind, amount, "") for kind, amount in kinds if amount]
    return item, _record(order, item, *events)


def adopt_transaction(ids: IdSource, order: Order, moved: CheckoutTransaction) -> TransactionItem:
    """`checkoutComplete` moves the checkout's transactions to its order, amounts and all
    (saleor/checkout/complete_checkout.py `_create_order_from_checkout`:
    `payment_transactions.update(order=order, checkout_id=None)`, at 3.20.119 and 723cd4e); the
    caller recomputes the order's amounts after (`update_order_charge_data`,
    `update_order_authorize_data`: `payments.update_order_amounts`). No webhook of its own: the
    order's creation sends them (`order_created`)."""
    item = TransactionItem(
        id=ids(), name=moved.name, psp_reference=_psp_reference(ids), currency=order.currency
    )
    kinds = (
        (TransactionEventType.AUTHORIZATION_SUCCESS, moved.authorized),
        (TransactionEventType.CHARGE_SUCCESS, moved.charged),
    )
    item.events.extend(_event(ids, kind, amount, "") for kind, amount in kinds if amount)
    recalculate_transaction(item)
    order.transactions.append(item)
    return item


def report_event(
    ids: IdSource,
    order: Order,
    item: TransactionItem,
    kind: TransactionEventType,
    amount: Decimal,
    psp_reference: str | None = None,
) -> tuple[TransactionEvent, list[str]]:
    """`transactionEventReport` by the payment app that owns the transaction."""
    if not any(t is item for t in order.transactions):
        raise PaymentActionError("The transaction does not belong to the order.")
    event = _event(ids, kind, _amount(amount), psp_reference or _psp_reference(ids))
    return event, _record(order, item, event)


def request_refund(
    ids: IdSource,
    order: Order,
    amount: Decimal | None = None,
    *,
    item: TransactionItem | None = None,
    granted_refund: GrantedRefund | None = None,
    settle: bool = True,
) -> tuple[TransactionEvent, list[str]]:
    """Staff request a refund of a transaction; the payment app answers the sync webhook.

    A REFUND_REQUEST event is recorded with the app's PSP reference; with `settle` the app
    reports REFUND_SUCCESS in its answer, otherwise the refund stays pending until
    :func:`report_event` (the app's later `transactionEventReport`).
    """
    if item is None:
        charged = [t for t in order.transactions if t.charged_value > 0]
        if not charged:
            raise PaymentActionError("The order has no charged transaction to refund.")
        item = charged[-1]
    if granted_refund is not None:
        amount = granted_refund.amount
    value = _amount(item.charged_value if amount is None else amount)
    if value > item.charged_value:
        raise PaymentActionError("Refund amount exceeds the transaction's charged amount.")
    reference = _psp_reference(ids)
    request = _event(ids, TransactionEventType.REFUND_REQUEST, value, reference)
    events = [request]
    if settle:
        events.append(_event(ids, TransactionEventType.REFUND_SUCCESS, value, reference))
    return request, _record(order, item, *events)


def grant_refund(ids: IdSource, order: Order, amount: Decimal, reason: str = "") -> GrantedRefund:
    """`orderGrantRefundCreate`: no money moves and no webhook fires; charge status follows."""
    granted = GrantedRefund(id=ids(), amount=_amount(amount), reason=reason)
    order.granted_refunds.append(granted)
    update_order_amounts(order)
    order.updated_at = utcnow()
    return granted


# --- legacy payments ---------------------------------------------------------------------------


def capture_legacy_payment(
    ids: IdSource, order: Order, amount: Decimal | None = None, *, total: Decimal | None = None
) -> list[str]:
    """A legacy gateway authorises and captures `amount` (default: the order total) of a new
    payment of `total` (default: `amount`)."""
    value = _amount(order.total_gross if amount is None else amount)
    payment = Payment(id=ids(), total=value if total is None else total, currency=order.currency)
    payment.transactions = [
        PaymentTransaction(id=ids(), kind=PaymentTransactionKind.AUTH, amount=value),
        PaymentTransaction(id=ids(), kind=PaymentTransactionKind.CAPTURE, amount=value),
    ]
    # update_payment_charge_status, CAPTURE
    payment.captured_amount = value
    payment.charge_status = (
        PaymentChargeStatus.FULLY_CHARGED
        if payment.total - value <= 0
        else PaymentChargeStatus.PARTIALLY_CHARGED
    )
    order.payments.append(payment)
    update_order_amounts(order)
    order.updated_at = utcnow()
    if order.status is OrderStatus.DRAFT:
        return []
    events = ["ORDER_PAID"]
    if order.charge_status.value in ("FULL", "OVERCHARGED"):
        events.append("ORDER_FULLY_PAID")
    return [*events, "ORDER_UPDATED"]


def refund_legacy_payment(
    ids: IdSource, order: Order, amount: Decimal | None = None, *, as_fulfillment: bool = False
) -> list[str]:
    """`paymentRefund` (or `orderRefund` with `as_fulfillment`) of the last payment."""
    payment = last_payment(order)
    refundable = (
        PaymentChargeStatus.PARTIALLY_CHARGED,
        PaymentChargeStatus.FULLY_CHARGED,
        PaymentChargeStatus.PARTIALLY_REFUNDED,
    )
    if payment is None or payment.charge_status not in refundable:
        raise PaymentActionError("Payment cannot be refunded.")
    value = _amount(payment.captured_amount if amount is None else amount)
    if value > payment.captured_amount:
        raise PaymentActionError("Cannot refund more than captured.")
    payment.transactions.append(
        PaymentTransaction(id=ids(), kind=PaymentTransactionKind.REFUND, amount=value)
    )
    # update_payment_charge_status, REFUND
    payment.captured_amount -= value
    payment.charge_status = PaymentChargeStatus.PARTIALLY_REFUNDED
    if payment.captured_amount <= 0:
        payment.captured_amount = ZERO
        payment.charge_status = PaymentChargeStatus.FULLY_REFUNDED
        payment.is_active = False
    payment.modified = utcnow()
    update_order_amounts(order)
    if as_fulfillment:
        order.refunded_fulfillments.append(value)
    order.updated_at = utcnow()
    return refund_events(order)
