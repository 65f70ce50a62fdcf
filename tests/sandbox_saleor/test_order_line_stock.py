"""Staff's line edits of an unconfirmed order move its stock, as Saleor's do (saleor/order/
utils.py `add_variant_to_order`, `change_order_line_quantity`, `delete_order_line`;
saleor/warehouse/management.py `increase_allocations`, `decrease_allocations`, tag 3.20.119 and
commit 723cd4e); a draft's lines hold none."""

from __future__ import annotations

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.models import ProductVariant
from sandboxes.saleor.order_models import Order, OrderStatus
from sandboxes.saleor.sandbox_order_edits import OrderInsufficientStock
from sandboxes.saleor.versions import (
    CURRENT_VERSION,
    OLDEST_VERSION,
    order_line_release_any_allocation,
)

from .conftest import stocked_variant

STOCK_EVENTS = ("PRODUCT_VARIANT_OUT_OF_STOCK", "PRODUCT_VARIANT_BACK_IN_STOCK")


async def _unconfirmed(sandbox: SaleorSandbox, variant: ProductVariant, quantity: int) -> Order:
    """An unpaid order the channel leaves unconfirmed, placed holding its stock."""
    sandbox.store.default_channel().automatically_confirm_all_new_orders = False
    return await sandbox.create_order(
        lines=[sandbox.order_line(variant, quantity)],
        email="kim@example.com",
        status=OrderStatus.UNCONFIRMED,
        paid=False,
    )


def test_the_release_of_any_allocation_came_with_3_21() -> None:
    assert not order_line_release_any_allocation("3.20.119")
    assert order_line_release_any_allocation("3.21.0")


async def test_adding_lines_allocates_them_and_refuses_what_the_stock_lacks(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    mug = stocked_variant(sandbox, "MUG", 5)
    cup = stocked_variant(sandbox, "CUP", 2)
    order = await _unconfirmed(sandbox, mug, 2)
    assert mug.quantity_allocated == 2
    emitted.clear()
    await sandbox.add_order_lines(order, [sandbox.order_line(mug, 1), sandbox.order_line(cup, 2)])
    current = sandbox.store.get_order(order.id)
    assert [(ln.quantity, ln.quantity_allocated) for ln in current.lines] == [(3, 3), (2, 2)]
    assert (mug.quantity_allocated, cup.quantity_allocated) == (3, 2)
    assert emitted == ["PRODUCT_VARIANT_OUT_OF_STOCK", "ORDER_UPDATED"]  # the cups ran out
    emitted.clear()
    with pytest.raises(OrderInsufficientStock, match="Insufficient stock for MUG"):
        await sandbox.add_order_lines(
            order, [sandbox.order_line(mug, 1), sandbox.order_line(mug, 2)]
        )
    assert emitted == [] and mug.quantity_allocated == 3  # nothing kept of the refused call
    assert [ln.quantity for ln in sandbox.store.get_order(order.id).lines] == [3, 2]


async def test_changing_a_lines_quantity_moves_its_allocation(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    """Up: `increase_allocations`, refused as INSUFFICIENT_STOCK "Cannot set new quantity
    because of insufficient stock."; down: `decrease_allocations`, BACK_IN_STOCK when the row
    had nothing to sell."""
    mug = stocked_variant(sandbox, "MUG", 3)
    order = await _unconfirmed(sandbox, mug, 3)
    [line] = order.lines
    emitted.clear()
    with pytest.raises(OrderInsufficientStock) as refused:
        await sandbox.update_order_line(order, line.id, 4)
    assert refused.value.code == "INSUFFICIENT_STOCK"
    assert str(refused.value) == "Cannot set new quantity because of insufficient stock."
    await sandbox.update_order_line(order, line.id, 1)
    assert emitted == ["PRODUCT_VARIANT_BACK_IN_STOCK", "ORDER_UPDATED"]
    assert mug.quantity_allocated == 1
    assert sandbox.store.get_order(order.id).lines[0].quantity_allocated == 1
    await sandbox.update_order_line(order, line.id, 3)
    assert mug.quantity_allocated == 3
    assert emitted[-2:] == ["PRODUCT_VARIANT_OUT_OF_STOCK", "ORDER_UPDATED"]


async def test_deleting_a_line_gives_its_stock_back(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    mug = stocked_variant(sandbox, "MUG", 2)
    cup = stocked_variant(sandbox, "CUP", 9)
    order = await _unconfirmed(sandbox, mug, 2)
    await sandbox.add_order_lines(order, [sandbox.order_line(cup, 1)])
    emitted.clear()
    await sandbox.delete_order_line(order, order.lines[0].id)
    assert (mug.quantity_allocated, cup.quantity_allocated) == (0, 1)
    assert emitted == ["PRODUCT_VARIANT_BACK_IN_STOCK", "ORDER_UPDATED"]


async def test_a_drafts_lines_hold_no_stock(sandbox: SaleorSandbox) -> None:
    mug = stocked_variant(sandbox, "MUG", 1)
    draft = await sandbox.create_order(
        lines=[sandbox.order_line(mug, 1)], email="kim@example.com", status=OrderStatus.DRAFT
    )
    await sandbox.add_order_lines(draft, [sandbox.order_line(mug, 5)])
    await sandbox.update_order_line(draft, draft.lines[0].id, 9)
    assert mug.quantity_allocated == 0


@pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
async def test_an_allocation_of_a_variant_no_longer_tracked(
    sandbox: SaleorSandbox, version: str
) -> None:
    """3.20.119 gives back only a tracked variant's allocation (`get_order_lines_with_track_
    inventory`); since 3.21.0 whatever the line holds (`get_order_lines_to_deallocate`)."""
    sandbox.version = version
    mug = stocked_variant(sandbox, "MUG", 4)
    order = await _unconfirmed(sandbox, mug, 2)
    mug.track_inventory = False
    await sandbox.delete_order_line(order, order.lines[0].id)
    assert mug.quantity_allocated == (0 if version == CURRENT_VERSION else 2)
