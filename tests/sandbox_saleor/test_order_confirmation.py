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
    store.default_channel().allow_unpaid_orders = True  # for the unpaid ones
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


async def test_a_new_order_sends_order_confirmed_where_the_channel_confirms_automatically(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    """saleor/order/actions.py `order_created` ends with `order_confirmed` whenever the channel
    confirms new orders automatically, whatever the order's status: an unpaid order that stays
    UNCONFIRMED gets ORDER_CONFIRMED too. A draft sends DRAFT_ORDER_CREATED alone."""
    store = sandbox.store
    store.default_channel().allow_unpaid_orders = True  # for the unpaid one
    mug = store.create_product("Mug", [VariantSpec(sku="MUG", price=5)]).variants[0]

    async def events_of(paid: bool) -> list[str]:
        checkout = await sandbox.create_checkout(lines=[LineSpec(mug.id)], email="a@x.test")
        emitted.clear()
        await sandbox.complete_checkout(checkout, paid=paid)
        return [event for event in emitted if not event.startswith("CHECKOUT_")]

    paid = ["ORDER_CREATED", "ORDER_PAID", "ORDER_FULLY_PAID", "ORDER_UPDATED"]
    assert await events_of(True) == [*paid, "ORDER_CONFIRMED"]
    assert await events_of(False) == ["ORDER_CREATED", "ORDER_CONFIRMED"]
    store.default_channel().automatically_confirm_all_new_orders = False
    assert await events_of(True) == paid
    emitted.clear()
    await sandbox.create_order(
        lines=[sandbox.order_line(mug, 1)], email="d@x.test", status=OrderStatus.DRAFT
    )
    assert emitted == ["DRAFT_ORDER_CREATED"]


async def test_marking_an_order_paid_sends_fully_paid_and_updated_alone(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    """saleor/order/actions.py `mark_order_as_paid_with_transaction` and `..._with_payment`:
    ORDER_FULLY_PAID and ORDER_UPDATED, no ORDER_PAID."""
    mug = sandbox.store.create_product("Mug", [VariantSpec(sku="MUG", price=5)]).variants[0]
    for legacy in (False, True):
        order = await sandbox.create_order(
            lines=[sandbox.order_line(mug, 1)], email="m@x.test", paid=False
        )
        emitted.clear()
        await sandbox.mark_order_paid(order, legacy_payment=legacy)
        assert emitted == ["ORDER_FULLY_PAID", "ORDER_UPDATED"], legacy


async def test_money_moving_confirms_an_unconfirmed_order_where_confirmation_is_automatic(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    """saleor/payment/utils.py `process_order_with_transaction` (`refresh_order_status`):
    an UNCONFIRMED order of a channel that confirms automatically is UNFULFILLED once a
    transaction is processed, with no ORDER_CONFIRMED; elsewhere it stays unconfirmed."""
    store = sandbox.store
    store.default_channel().allow_unpaid_orders = True
    mug = store.create_product("Mug", [VariantSpec(sku="MUG", price=5)]).variants[0]
    for automatic, after in ((True, OrderStatus.UNFULFILLED), (False, OrderStatus.UNCONFIRMED)):
        store.default_channel().automatically_confirm_all_new_orders = automatic
        checkout = await sandbox.create_checkout(lines=[LineSpec(mug.id)], email="t@x.test")
        order = await sandbox.complete_checkout(checkout, paid=False)
        assert order.status is OrderStatus.UNCONFIRMED
        emitted.clear()
        await sandbox.create_transaction(order, charged=order.total_gross)
        assert store.get_order(order.id).status is after
        assert "ORDER_CONFIRMED" not in emitted and "ORDER_FULLY_PAID" in emitted
