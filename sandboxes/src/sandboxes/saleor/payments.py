"""How Saleor computes an order's payment amounts and statuses, for both payment models.

Orders are paid either through the transaction API (`TransactionItem`s whose amounts come from
the events payment apps report) or through legacy `Payment` objects (the payment plugins). The
rules below follow Saleor's source (saleor/saleor, read at commit 723cd4e, 3.24 development;
unchanged in substance since 3.13, so they hold for 3.20, the oldest version the app supports):

* transaction amounts from events: saleor/payment/transaction_item_calculations.py
  (`recalculate_transaction_amounts`);
* the amounts and statuses stored on the order: saleor/order/utils.py
  (`updates_amounts_for_order`, `update_order_charge_status`, `update_order_authorize_status`);
* what GraphQL derives when read: saleor/graphql/order/types.py (`Order.resolve_payment_status`,
  `get_payment_status_for_order`, `resolve_total_refunded`, `resolve_is_paid`,
  `resolve_total_authorized`, `resolve_total_refund_pending`);
* a legacy payment's charge status: saleor/payment/utils.py (`update_payment_charge_status`);
* which webhooks a change fires: saleor/order/actions.py (`order_transaction_updated`,
  `order_charged`, `order_refunded`, `cancel_order`).

A refund never sets a `*_REFUNDED` `paymentStatus` on a transaction order: there it only lowers
`totalCharged` (and raises `totalRefunded`); the `*_REFUNDED` values come from legacy payments.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from .order_models import Order, OrderStatus
from .payment_models import (
    OrderAuthorizeStatus,
    OrderChargeStatus,
    Payment,
    PaymentChargeStatus,
    PaymentTransactionKind,
    TransactionEvent,
    TransactionEventType,
    TransactionItem,
)

ZERO = Decimal("0")
CENT = Decimal("0.01")

T = TransactionEventType
_AUTHORIZATION = {T.AUTHORIZATION_REQUEST: "request", T.AUTHORIZATION_SUCCESS: "success"}
_AUTHORIZATION |= {T.AUTHORIZATION_FAILURE: "failure"}
_CHARGE = {T.CHARGE_REQUEST: "request", T.CHARGE_SUCCESS: "success", T.CHARGE_FAILURE: "failure"}
_CHARGE |= {T.CHARGE_BACK: "back"}
_REFUND = {T.REFUND_REQUEST: "request", T.REFUND_SUCCESS: "success", T.REFUND_FAILURE: "failure"}
_REFUND |= {T.REFUND_REVERSE: "reverse"}
_CANCEL = {T.CANCEL_REQUEST: "request", T.CANCEL_SUCCESS: "success", T.CANCEL_FAILURE: "failure"}
# action -> (amount field, pending field, the field the amount moves out of)
_ACTIONS: dict[str, tuple[dict[TransactionEventType, str], str, str, str | None]] = {
    "authorization": (_AUTHORIZATION, "authorized_value", "authorize_pending_value", None),
    "charge": (_CHARGE, "charged_value", "charge_pending_value", "authorized_value"),
    "refund": (_REFUND, "refunded_value", "refund_pending_value", "charged_value"),
    "cancel": (_CANCEL, "canceled_value", "cancel_pending_value", "authorized_value"),
}


# An event without a PSP reference: the field it moves, and which way.
_WITHOUT_REFERENCE = {
    T.AUTHORIZATION_SUCCESS: ("authorized_value", 1),
    T.CHARGE_SUCCESS: ("charged_value", 1),
    T.CHARGE_BACK: ("charged_value", -1),
    T.REFUND_SUCCESS: ("refunded_value", 1),
    T.REFUND_REVERSE: ("charged_value", 1),
    T.CANCEL_SUCCESS: ("canceled_value", 1),
}


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT)


# --- transactions ------------------------------------------------------------------------------


def recalculate_transaction(item: TransactionItem) -> None:
    """Recompute a transaction's amounts from its events, as Saleor does.

    Events are matched by action and PSP reference: a request counts as pending until a success
    or failure with its reference arrives; a success counts unless a newer failure overrides
    it; a charge moves money out of `authorized`, a refund out of `charged`.
    """
    for field in (
        "authorized_value",
        "charged_value",
        "refunded_value",
        "canceled_value",
        "authorize_pending_value",
        "charge_pending_value",
        "refund_pending_value",
        "cancel_pending_value",
    ):
        setattr(item, field, ZERO)
    events = sorted(item.events, key=lambda e: e.created_at)
    # Events without a PSP reference (what `transactionCreate` and `transactionUpdate` record,
    # `create_manual_adjustment_events`) add their amounts as they are: a refund reported so
    # raises `refunded` and leaves `charged` alone (saleor/payment/
    # transaction_item_calculations.py `_handle_events_without_psp_reference`, the same at tag
    # 3.20.119).
    for event in events:
        if not event.psp_reference and event.type in _WITHOUT_REFERENCE:
            field, sign = _WITHOUT_REFERENCE[event.type]
            _add(item, field, sign * event.amount)
    for kinds, amount_field, pending_field, source_field in _ACTIONS.values():
        grouped: dict[str, dict[str, TransactionEvent]] = defaultdict(dict)
        for event in events:
            if event.type in kinds and event.psp_reference:
                grouped[event.psp_reference][kinds[event.type]] = event
        for found in grouped.values():
            request, success, failure = (found.get(k) for k in ("request", "success", "failure"))
            if back := found.get("back"):
                item.charged_value -= back.amount
            if reverse := found.get("reverse"):
                item.charged_value += reverse.amount
                item.refunded_value -= reverse.amount
            if request is not None and success is None and failure is None:
                _add(item, pending_field, request.amount)
                if source_field:
                    _add(item, source_field, -request.amount)
            if success is not None and (failure is None or success.created_at > failure.created_at):
                _add(item, amount_field, success.amount)
                if source_field:
                    _add(item, source_field, -success.amount)
    item.authorized_value = max(item.authorized_value, ZERO)
    item.authorize_pending_value = max(item.authorize_pending_value, ZERO)


def _add(item: TransactionItem, field: str, amount: Decimal) -> None:
    setattr(item, field, getattr(item, field) + amount)


# --- amounts stored on the order ---------------------------------------------------------------


def _legacy_authorized(payment: Payment) -> Decimal:
    """`Payment.get_authorized_amount`: nothing once a capture succeeded."""
    if any(t.kind is PaymentTransactionKind.CAPTURE and t.is_success for t in payment.transactions):
        return ZERO
    return sum(
        (
            t.amount
            for t in payment.transactions
            if t.kind is PaymentTransactionKind.AUTH and t.is_success
        ),
        ZERO,
    )


def granted_refund_total(order: Order) -> Decimal:
    return sum((g.amount for g in order.granted_refunds), ZERO)


def update_order_amounts(order: Order) -> None:
    """`updates_amounts_for_order`: total charged and authorized, charge and authorize status.

    Both compare against the order total minus the granted refunds, so after a refund that was
    granted first, a fully refunded order is "FULL" again (0 charged of 0 still due).
    """
    order.total_charged = sum((p.captured_amount for p in order.payments), ZERO) + sum(
        (t.charged_value for t in order.transactions), ZERO
    )
    order.total_authorized = sum(
        (_legacy_authorized(p) for p in order.payments if p.is_active), ZERO
    ) + sum((t.authorized_value for t in order.transactions), ZERO)
    due = _money(max(order.total_gross - granted_refund_total(order), ZERO))
    charged = _money(order.total_charged)
    if charged == due:
        order.charge_status = OrderChargeStatus.FULL
    elif charged <= 0:
        order.charge_status = OrderChargeStatus.NONE
    elif charged < due:
        order.charge_status = OrderChargeStatus.PARTIAL
    else:
        order.charge_status = OrderChargeStatus.OVERCHARGED
    covered = _money(order.total_authorized + order.total_charged)
    if covered == 0 and order.total_gross == 0:
        order.authorize_status = OrderAuthorizeStatus.FULL
    elif covered == 0:
        order.authorize_status = OrderAuthorizeStatus.NONE
    elif covered >= due:
        order.authorize_status = OrderAuthorizeStatus.FULL
    else:
        order.authorize_status = OrderAuthorizeStatus.PARTIAL


# --- what GraphQL derives ----------------------------------------------------------------------


def last_payment(order: Order) -> Payment | None:
    return max(order.payments, key=lambda p: (p.created, p.id), default=None)


def payment_status(order: Order) -> PaymentChargeStatus:
    """`Order.paymentStatus`.

    Refunded fulfillments (legacy `orderRefund`) covering the total make it FULLY_REFUNDED;
    with transactions it is charged versus due (never *_REFUNDED); otherwise the last legacy
    payment's charge status.
    """
    fulfillment_refunds = sum(order.refunded_fulfillments, ZERO)
    if fulfillment_refunds != 0 and fulfillment_refunds == order.total_gross:
        return PaymentChargeStatus.FULLY_REFUNDED
    if order.transactions:
        due = _money(order.total_gross - granted_refund_total(order))
        charged = _money(order.total_charged)
        if charged == 0 and due <= 0:
            return PaymentChargeStatus.FULLY_CHARGED
        if charged >= due:
            return PaymentChargeStatus.FULLY_CHARGED
        if 0 < charged < due:
            return PaymentChargeStatus.PARTIALLY_CHARGED
        return PaymentChargeStatus.NOT_CHARGED
    payment = last_payment(order)
    if payment is None:
        if order.total_gross == 0:
            return PaymentChargeStatus.FULLY_CHARGED
        return PaymentChargeStatus.NOT_CHARGED
    return payment.charge_status


def total_refunded(order: Order) -> Decimal:
    """`Order.totalRefunded`: the last legacy payment's successful refunds while it is active
    or fully refunded, otherwise what the transactions refunded."""
    payment = last_payment(order)
    if payment is not None and (
        payment.is_active or payment.charge_status is PaymentChargeStatus.FULLY_REFUNDED
    ):
        return sum(
            (
                t.amount
                for t in payment.transactions
                if t.kind is PaymentTransactionKind.REFUND and t.is_success
            ),
            ZERO,
        )
    return sum((t.refunded_value for t in order.transactions), ZERO)


def total_refund_pending(order: Order) -> Decimal:
    return sum((t.refund_pending_value for t in order.transactions), ZERO)


def total_authorized(order: Order) -> Decimal:
    """`Order.totalAuthorized`: the transactions' if there are any, else the legacy payments'."""
    if order.transactions:
        return _money(sum((t.authorized_value for t in order.transactions), ZERO))
    return sum((_legacy_authorized(p) for p in order.payments if p.is_active), ZERO)


def is_paid(order: Order) -> bool:
    """`Order.isPaid`: transactions charged the total; else legacy `Order.is_fully_paid`."""
    if order.transactions:
        return sum((t.charged_value for t in order.transactions), ZERO) >= order.total_gross
    return order.total_charged >= order.total_gross


# --- which webhooks a change fires --------------------------------------------------------------


def transaction_update_events(
    order: Order,
    *,
    authorized_before: Decimal,
    charged_before: Decimal,
    refunded_before: Decimal,
    item: TransactionItem,
) -> list[str]:
    """`order_transaction_updated`: the order webhooks after a transaction's amounts changed."""
    if order.status is OrderStatus.DRAFT:
        return []
    events: list[str] = []
    updated = item.authorized_value != authorized_before
    if item.charged_value > charged_before:
        # order_charged: ORDER_PAID, then ORDER_FULLY_PAID + ORDER_UPDATED or ORDER_UPDATED.
        events.append("ORDER_PAID")
        if order.charge_status in (OrderChargeStatus.FULL, OrderChargeStatus.OVERCHARGED):
            events.append("ORDER_FULLY_PAID")
        events.append("ORDER_UPDATED")
        updated = False
    elif item.charged_value != charged_before:
        updated = True
    if item.refunded_value > refunded_before:
        events += refund_events(order)
        updated = False
    if updated:
        events.append("ORDER_UPDATED")
    return _unique(events)


def refund_events(order: Order) -> list[str]:
    """`order_refunded`: ORDER_REFUNDED and ORDER_UPDATED, and ORDER_FULLY_REFUNDED once the
    refunds (the last legacy payment's, if it shows refunds, plus the transactions') reach the
    order total."""
    refunded = sum((t.refunded_value for t in order.transactions), ZERO)
    payment = last_payment(order)
    if payment is not None and payment.charge_status in (
        PaymentChargeStatus.PARTIALLY_REFUNDED,
        PaymentChargeStatus.FULLY_REFUNDED,
    ):
        refunded += sum(
            (
                t.amount
                for t in payment.transactions
                if t.kind is PaymentTransactionKind.REFUND and t.is_success
            ),
            ZERO,
        )
    events = ["ORDER_REFUNDED", "ORDER_UPDATED"]
    if refunded >= order.total_gross:
        events.append("ORDER_FULLY_REFUNDED")
    return events


def _unique(events: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(events))
