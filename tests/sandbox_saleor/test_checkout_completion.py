"""`checkoutComplete` in the transaction flow as Saleor runs it (saleor/checkout/
complete_checkout.py, the same at 3.20.119 and 723cd4e): refused unless the checkout's
transactions authorize its total (or the channel allows unpaid orders), the transactions moved
to the order with its charge and authorize statuses following them, and the order confirmed at
once only where the channel confirms automatically and the checkout had a transaction."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.models import Checkout
from sandboxes.saleor.order_models import (
    OrderAuthorizeStatus,
    OrderChargeStatus,
    OrderStatus,
    TransactionEventType,
)
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import CheckoutNotFullyPaid, LineSpec


async def _checkout(sandbox: SaleorSandbox, price: str = "5.00", quantity: int = 2) -> Checkout:
    store = sandbox.store
    product = store.create_product(
        f"Mug {len(store.products)}", [VariantSpec(sku=None, price=Decimal(price))]
    )
    return await sandbox.create_checkout(
        lines=[LineSpec(product.variants[0].id, quantity)], email="ann@example.com"
    )


async def test_an_authorized_checkout_becomes_an_order_holding_its_authorization(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    checkout = await _checkout(sandbox)
    await sandbox.pay_checkout(checkout, authorized=Decimal("10.00"))
    emitted.clear()
    order = await sandbox.complete_checkout(checkout)
    # Nothing charged: no ORDER_PAID (saleor/order/actions.py `order_created`).
    assert emitted == ["ORDER_CREATED", "ORDER_CONFIRMED"]
    assert order.status is OrderStatus.UNFULFILLED
    assert (order.charge_status, order.authorize_status) == (
        OrderChargeStatus.NONE,
        OrderAuthorizeStatus.FULL,
    )
    [item] = order.transactions
    assert (item.authorized_value, item.charged_value) == (Decimal("10.00"), Decimal("0"))
    assert (order.total_authorized, order.total_charged) == (Decimal("10.00"), Decimal("0"))
    assert checkout.token not in sandbox.store.checkouts
    # The payment app captures it later: the order is paid.
    emitted.clear()
    await sandbox.report_transaction_event(
        order, item, TransactionEventType.CHARGE_SUCCESS, Decimal("10.00")
    )
    current = sandbox.store.get_order(order.id)
    assert current.charge_status is OrderChargeStatus.FULL
    assert (item.authorized_value, item.charged_value) == (Decimal("0"), Decimal("10.00"))
    assert "ORDER_PAID" in emitted and "ORDER_FULLY_PAID" in emitted


async def test_a_charged_checkout_is_paid_by_its_own_transaction_alone(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    checkout = await _checkout(sandbox)
    await sandbox.pay_checkout(checkout, charged=Decimal("10.00"))
    emitted.clear()
    order = await sandbox.complete_checkout(checkout)
    assert emitted == [
        "ORDER_CREATED",
        "ORDER_PAID",
        "ORDER_FULLY_PAID",
        "ORDER_UPDATED",
        "ORDER_CONFIRMED",
    ]
    assert [t.charged_value for t in order.transactions] == [Decimal("10.00")]
    assert order.total_charged == Decimal("10.00")  # not charged twice
    assert order.charge_status is OrderChargeStatus.FULL


async def test_paid_on_a_checkout_without_transactions_is_a_charge_before_completion(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    """The convenience `paid=True`: a payment app's `transactionCreate` charging the total, with
    its CHECKOUT_FULLY_PAID (and, since 3.22, CHECKOUT_FULLY_AUTHORIZED), then completion."""
    checkout = await _checkout(sandbox)
    emitted.clear()
    order = await sandbox.complete_checkout(checkout)
    assert emitted[0] == "CHECKOUT_FULLY_PAID"
    assert emitted[emitted.index("ORDER_CREATED") :][:2] == ["ORDER_CREATED", "ORDER_PAID"]
    assert [t.charged_value for t in order.transactions] == [Decimal("10.00")]


async def test_a_checkout_not_authorized_in_full_is_refused(sandbox: SaleorSandbox) -> None:
    checkout = await _checkout(sandbox)
    await sandbox.pay_checkout(checkout, authorized=Decimal("6.00"))
    message = "The authorized amount doesn't cover the checkout's total amount."
    with pytest.raises(CheckoutNotFullyPaid, match=message) as refused:
        await sandbox.complete_checkout(checkout)
    assert refused.value.code == "CHECKOUT_NOT_FULLY_PAID"
    assert checkout.token in sandbox.store.checkouts
    # Charged and authorized together cover it.
    await sandbox.pay_checkout(checkout, charged=Decimal("4.00"))
    order = await sandbox.complete_checkout(checkout)
    assert [(t.authorized_value, t.charged_value) for t in order.transactions] == [
        (Decimal("6.00"), Decimal("0")),
        (Decimal("0"), Decimal("4.00")),
    ]
    assert order.charge_status is OrderChargeStatus.PARTIAL
    assert order.authorize_status is OrderAuthorizeStatus.FULL


async def test_an_unpaid_checkout_needs_a_channel_allowing_unpaid_orders(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    checkout = await _checkout(sandbox)
    message = "Provided payment methods can not cover the checkout's total amount"
    with pytest.raises(CheckoutNotFullyPaid, match=message):
        await sandbox.complete_checkout(checkout, paid=False)
    sandbox.store.default_channel().allow_unpaid_orders = True
    order = await sandbox.complete_checkout(checkout, paid=False)
    assert order.status is OrderStatus.UNCONFIRMED  # no transaction
    assert (order.transactions, order.charge_status) == ([], OrderChargeStatus.NONE)
    # Partly authorized, allowed: its transaction moves and confirms it.
    partly = await _checkout(sandbox)
    await sandbox.pay_checkout(partly, authorized=Decimal("3.00"))
    order = await sandbox.complete_checkout(partly)
    assert order.status is OrderStatus.UNFULFILLED
    assert order.authorize_status is OrderAuthorizeStatus.PARTIAL


async def test_an_authorized_order_waits_where_the_channel_confirms_by_hand(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    sandbox.store.default_channel().automatically_confirm_all_new_orders = False
    checkout = await _checkout(sandbox)
    await sandbox.pay_checkout(checkout, authorized=Decimal("10.00"))
    emitted.clear()
    order = await sandbox.complete_checkout(checkout)
    assert order.status is OrderStatus.UNCONFIRMED
    assert emitted == ["ORDER_CREATED"]
