"""An order placed from a checkout is confirmed at once only when its channel confirms new
orders automatically and, in the transaction flow, a transaction paid it; `orderConfirm`
confirms the others with ORDER_CONFIRMED alone (saleor/checkout/complete_checkout.py,
saleor/graphql/order/mutations/order_confirm.py)."""

from __future__ import annotations

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.order_models import OrderStatus
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec


async def test_orders_are_confirmed_as_saleor_confirms_them(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    store = sandbox.store
    mug = store.create_product("Mug", [VariantSpec(sku="MUG", price=5)]).variants[0]

    async def placed(paid: bool, **kwargs: bool) -> OrderStatus:
        checkout = await sandbox.create_checkout(lines=[LineSpec(mug.id)], email="a@x.test")
        order = await sandbox.complete_checkout(checkout, paid=paid, **kwargs)
        return order.status

    assert await placed(True) is OrderStatus.UNFULFILLED
    assert await placed(False) is OrderStatus.UNCONFIRMED  # no transaction
    assert await placed(False, legacy_payment=True) is OrderStatus.UNFULFILLED
    store.default_channel().automatically_confirm_all_new_orders = False
    assert await placed(True) is OrderStatus.UNCONFIRMED
    assert await placed(True, legacy_payment=True) is OrderStatus.UNCONFIRMED

    checkout = await sandbox.create_checkout(lines=[LineSpec(mug.id)], email="b@x.test")
    order = await sandbox.complete_checkout(checkout, paid=False)
    emitted.clear()
    confirmed = await sandbox.confirm_order(order)
    assert confirmed.status is OrderStatus.UNFULFILLED
    assert emitted == ["ORDER_CONFIRMED"]
    with pytest.raises(ValueError, match="non-unconfirmed"):
        await sandbox.confirm_order(order)
