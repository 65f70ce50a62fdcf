"""Saleor's release of an expired checkout's funds (saleor/payment/tasks.py
`transaction_release_funds_for_checkout_task`): the checkout stays, its statuses drop as Saleor
computes them from its transactions (saleor/checkout/payment_utils.py
`update_checkout_payment_statuses`), and no webhook goes out (saleor/checkout/actions.py
`_transaction_amounts_for_checkout_updated` sends events only when a status becomes full)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.checkout_payments import (
    CheckoutAuthorizeStatus,
    CheckoutChargeStatus,
    authorize_status,
    charge_status,
)
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec


@pytest.mark.parametrize(
    ("charged", "authorized"), [(Decimal("10.00"), Decimal("0")), (Decimal("0"), Decimal("10.00"))]
)
async def test_released_funds_leave_the_checkout_unpaid_without_a_webhook(
    sandbox: SaleorSandbox, emitted: list[str], charged: Decimal, authorized: Decimal
) -> None:
    product = sandbox.store.create_product("Mug", [VariantSpec(sku=None, price=Decimal("5.00"))])
    checkout = await sandbox.create_checkout(
        lines=[LineSpec(product.variants[0].id, 2)], email="ann@example.com"
    )
    await sandbox.pay_checkout(checkout, charged=charged, authorized=authorized)
    current = sandbox.store.get_checkout(checkout.token)
    total = sandbox.store.checkout_total(current)
    assert authorize_status(current, total) is CheckoutAuthorizeStatus.FULL
    paid_at = current.last_change
    emitted.clear()

    sandbox.release_checkout_funds(checkout)

    assert emitted == []
    released = sandbox.store.get_checkout(checkout.token)
    assert charge_status(released, total) is CheckoutChargeStatus.NONE
    assert authorize_status(released, total) is CheckoutAuthorizeStatus.NONE
    assert released.last_change >= paid_at
