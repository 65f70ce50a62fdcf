"""Money on a checkout's transactions (a payment app's ``transactionCreate`` /
``transactionEventReport`` on a checkout, before or without ``checkoutComplete``): the checkout's
``chargeStatus`` and ``authorizeStatus``, and the events Saleor sends when they become full.

Saleor computes both statuses from the checkout's total and the sums of its transactions
(saleor/checkout/payment_utils.py `update_checkout_payment_statuses`, `_update_charge_status`,
`_update_authorize_status`, `_get_payment_amount_for_checkout`; the same at 3.20.119 and
723cd4e), and recomputes them whenever the checkout is read (`Checkout.resolve_charge_status`
and `resolve_authorize_status` call `fetch_checkout_data(force_status_update=True)`), so the
sandbox computes them when read. A transaction on a checkout (saleor/graphql/payment/mutations/
transaction/transaction_create.py → saleor/payment/utils.py
`process_order_or_checkout_with_transaction` → saleor/checkout/actions.py
`transaction_amounts_for_checkout_updated_without_price_recalculation`) sends, in
`_transaction_amounts_for_checkout_updated`, CHECKOUT_FULLY_PAID when the charge status becomes
FULL or OVERCHARGED and, since 3.22.0, CHECKOUT_FULLY_AUTHORIZED when the authorize status
becomes FULL (3.20.119 has no such event); never CHECKOUT_UPDATED.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from .manifest_events import async_events
from .models import Checkout, CheckoutTransaction, utcnow
from .order_models import Order
from .payment_actions import IdSource, adopt_transaction
from .payments import update_order_amounts

ZERO = Decimal("0")


class CheckoutChargeStatus(StrEnum):
    NONE = "NONE"
    PARTIAL = "PARTIAL"
    FULL = "FULL"
    OVERCHARGED = "OVERCHARGED"


class CheckoutAuthorizeStatus(StrEnum):
    NONE = "NONE"
    PARTIAL = "PARTIAL"
    FULL = "FULL"


FULLY_CHARGED = (CheckoutChargeStatus.FULL, CheckoutChargeStatus.OVERCHARGED)


def charge_status(checkout: Checkout, total: Decimal) -> CheckoutChargeStatus:
    """`_update_charge_status` (charged: the transactions' charged and charge-pending sums)."""
    charged = max(ZERO, checkout.transactions_charged)
    only_free_lines = bool(checkout.lines) and total <= ZERO
    if charged <= ZERO and only_free_lines:
        return CheckoutChargeStatus.FULL
    if charged <= ZERO:
        return CheckoutChargeStatus.NONE
    if charged < total:
        return CheckoutChargeStatus.PARTIAL
    if charged == total:
        return CheckoutChargeStatus.FULL
    return CheckoutChargeStatus.OVERCHARGED


def authorize_status(checkout: Checkout, total: Decimal) -> CheckoutAuthorizeStatus:
    """`_update_authorize_status`: what is authorized and charged together covers the total."""
    covered = checkout.transactions_authorized + checkout.transactions_charged
    if bool(checkout.lines) and total <= ZERO:
        return CheckoutAuthorizeStatus.FULL
    if covered == ZERO:
        return CheckoutAuthorizeStatus.NONE
    if covered >= total:
        return CheckoutAuthorizeStatus.FULL
    if covered > ZERO:
        return CheckoutAuthorizeStatus.PARTIAL
    return CheckoutAuthorizeStatus.NONE


def has_money(checkout: Checkout) -> bool:
    """Money on its transactions: Saleor's expiry spares it (saleor/checkout/tasks.py
    `delete_expired_checkouts`, `with_transactions`)."""
    return checkout.transactions_charged > ZERO or checkout.transactions_authorized > ZERO


def record_transaction(
    checkout: Checkout,
    total: Decimal,
    version: str,
    *,
    charged: Decimal = ZERO,
    authorized: Decimal = ZERO,
) -> list[str]:
    """Add a transaction's amounts to the checkout; the events Saleor sends for it."""
    charge_before = charge_status(checkout, total)
    authorize_before = authorize_status(checkout, total)
    checkout.transactions.append(CheckoutTransaction(charged=charged, authorized=authorized))
    charge_after, authorize_after = _statuses_updated(
        checkout, total, charge_before, authorize_before
    )
    events: list[str] = []
    if charge_before not in FULLY_CHARGED and charge_after in FULLY_CHARGED:
        events.append("CHECKOUT_FULLY_PAID")
    fully_authorized = (
        authorize_before is not CheckoutAuthorizeStatus.FULL
        and authorize_after is CheckoutAuthorizeStatus.FULL
    )
    if fully_authorized and "CHECKOUT_FULLY_AUTHORIZED" in async_events(version):
        events.append("CHECKOUT_FULLY_AUTHORIZED")
    return events


def release_funds(checkout: Checkout, total: Decimal) -> None:
    """Saleor's release of an expired checkout's funds (saleor/payment/tasks.py
    `transaction_release_funds_for_checkout_task`: CANCEL_REQUEST for what is authorized,
    REFUND_REQUEST for what is charged), once the payment app reports CANCEL_SUCCESS /
    REFUND_SUCCESS: the transactions hold nothing. The statuses drop, and Saleor sends no
    webhook for that (`_transaction_amounts_for_checkout_updated` sends events only when a
    status becomes full)."""
    charge_before = charge_status(checkout, total)
    authorize_before = authorize_status(checkout, total)
    for transaction in checkout.transactions:
        transaction.charged = ZERO
        transaction.authorized = ZERO
    _statuses_updated(checkout, total, charge_before, authorize_before)


def move_transactions(checkout: Checkout, total: Decimal, order: Order, ids: IdSource) -> None:
    """The checkout's transactions moved to its order (`_create_order_from_checkout`), amounts
    and all; the order's own (`paid` gave it one) stay. The checkout keeps none: its statuses
    drop, `last_change` saved with them, and Saleor sends no checkout webhook for it."""
    charge_before = charge_status(checkout, total)
    authorize_before = authorize_status(checkout, total)
    if not order.transactions:
        for moved in checkout.transactions:
            adopt_transaction(ids, order, moved)
        update_order_amounts(order)
    checkout.transactions = []
    _statuses_updated(checkout, total, charge_before, authorize_before)


def _statuses_updated(
    checkout: Checkout,
    total: Decimal,
    charge_before: CheckoutChargeStatus,
    authorize_before: CheckoutAuthorizeStatus,
) -> tuple[CheckoutChargeStatus, CheckoutAuthorizeStatus]:
    """The statuses after a change of the transactions. `update_checkout_payment_statuses`
    saves `last_change` with a changed status."""
    charge_after = charge_status(checkout, total)
    authorize_after = authorize_status(checkout, total)
    if (charge_before, authorize_before) != (charge_after, authorize_after):
        checkout.last_change = utcnow()
    return charge_after, authorize_after
