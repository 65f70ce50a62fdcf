"""An order's stock, as Saleor moves it (saleor/warehouse/management.py, tag 3.20.119 and
commit 723cd4e; the sandbox's stock_moves.py): checkoutComplete allocates tracked variants and
sends PRODUCT_VARIANT_OUT_OF_STOCK for a row left with nothing to sell, cancelling or expiring
the order gives it back with PRODUCT_VARIANT_BACK_IN_STOCK, a fulfilment takes the units off the
row with both; each of these events names the row its loop ended on."""

from __future__ import annotations

from typing import Any

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.models import ProductVariant
from sandboxes.saleor.order_models import Order, OrderStatus
from sandboxes.saleor.store_checkouts import LineSpec

from .conftest import stocked_variant

STOCK_EVENTS = ("PRODUCT_VARIANT_OUT_OF_STOCK", "PRODUCT_VARIANT_BACK_IN_STOCK")


@pytest.fixture
def sent(sandbox: SaleorSandbox) -> list[tuple[str, Any]]:
    """Every event the sandbox emits from now on, with its subject."""
    seen: list[tuple[str, Any]] = []
    emit = sandbox.emit

    async def recorded(event_type: str, root: Any, **kwargs: Any) -> Any:
        seen.append((event_type, root))
        return await emit(event_type, root, **kwargs)

    sandbox.emit = recorded  # type: ignore[method-assign]
    return seen


async def _order(sandbox: SaleorSandbox, *lines: tuple[ProductVariant, int]) -> Order:
    checkout = await sandbox.create_checkout(
        lines=[LineSpec(variant.id, quantity) for variant, quantity in lines],
        email="kim@example.com",
    )
    return await sandbox.complete_checkout(checkout)


def _names(sent: list[tuple[str, Any]]) -> list[str]:
    return [event for event, _ in sent]


async def test_an_order_taking_the_last_units_sends_out_of_stock_before_order_created(
    sandbox: SaleorSandbox, sent: list[tuple[str, Any]]
) -> None:
    mug = stocked_variant(sandbox, "MUG", 2)
    cup = stocked_variant(sandbox, "CUP", 5)
    sent.clear()
    order = await _order(sandbox, (mug, 2), (cup, 1))
    names = _names(sent)
    assert names.index("PRODUCT_VARIANT_OUT_OF_STOCK") < names.index("ORDER_CREATED")
    # One allocation ran out (the mug's), and its event names the loop's last row (the cup's):
    # `on_commit(lambda: trigger_product_variant_out_of_stock(allocation.stock, ...))`.
    assert [root for event, root in sent if event in STOCK_EVENTS] == [cup]
    assert (mug.quantity, mug.quantity_allocated, cup.quantity_allocated) == (2, 2, 1)
    assert [line.quantity_allocated for line in order.lines] == [2, 1]


async def test_untracked_or_preorder_variants_allocate_nothing(
    sandbox: SaleorSandbox, sent: list[tuple[str, Any]]
) -> None:
    """`get_order_lines_with_track_inventory`: `allocate_stocks` skips a variant that does not
    track its inventory or is on an active preorder."""
    free = stocked_variant(sandbox, "FREE", 1, track_inventory=False)
    later = stocked_variant(sandbox, "LATER", 1, is_preorder=True)
    sent.clear()
    order = await _order(sandbox, (free, 1), (later, 1))
    assert not set(_names(sent)) & set(STOCK_EVENTS)
    assert (free.quantity_allocated, later.quantity_allocated) == (0, 0)
    assert [line.quantity_allocated for line in order.lines] == [0, 0]


async def test_cancelling_gives_the_stock_back_with_back_in_stock(
    sandbox: SaleorSandbox, sent: list[tuple[str, Any]]
) -> None:
    mug = stocked_variant(sandbox, "MUG", 1)
    cup = stocked_variant(sandbox, "CUP", 1)
    order = await _order(sandbox, (mug, 1), (cup, 1))
    sent.clear()
    await sandbox.cancel_order(order)
    assert _names(sent) == [
        "PRODUCT_VARIANT_BACK_IN_STOCK",
        "PRODUCT_VARIANT_BACK_IN_STOCK",
        "ORDER_CANCELLED",
        "ORDER_UPDATED",
    ]
    assert [root for _, root in sent[:2]] == [cup, cup]  # both name the last allocation's row
    assert (mug.quantity_allocated, cup.quantity_allocated) == (0, 0)


async def test_expiry_gives_the_stock_back_before_order_expired(
    sandbox: SaleorSandbox, sent: list[tuple[str, Any]]
) -> None:
    sandbox.store.default_channel().allow_unpaid_orders = True
    mug = stocked_variant(sandbox, "MUG", 3)
    checkout = await sandbox.create_checkout(lines=[LineSpec(mug.id, 3)], email="kim@example.com")
    order = await sandbox.complete_checkout(checkout, paid=False)
    assert order.status is OrderStatus.UNCONFIRMED and mug.quantity_allocated == 3
    sent.clear()
    await sandbox.expire_order(order)
    assert _names(sent) == ["PRODUCT_VARIANT_BACK_IN_STOCK", "ORDER_EXPIRED", "ORDER_UPDATED"]
    assert mug.quantity_allocated == 0


async def test_an_order_with_stock_left_gives_it_back_silently(
    sandbox: SaleorSandbox, sent: list[tuple[str, Any]]
) -> None:
    mug = stocked_variant(sandbox, "MUG", 5)
    order = await _order(sandbox, (mug, 2))
    assert not set(_names(sent)) & set(STOCK_EVENTS)
    sent.clear()
    await sandbox.cancel_order(order)
    assert _names(sent) == ["ORDER_CANCELLED", "ORDER_UPDATED"]


async def test_shipping_the_last_units_sends_back_in_stock_then_out_of_stock(
    sandbox: SaleorSandbox, sent: list[tuple[str, Any]]
) -> None:
    """`decrease_stock`: `deallocate_stock` first frees the allocation (nothing to sell before,
    some after: BACK_IN_STOCK), then the shipped units leave the row (nothing left:
    OUT_OF_STOCK), all before the fulfilment's own events."""
    mug = stocked_variant(sandbox, "MUG", 2)
    order = await _order(sandbox, (mug, 2))
    sent.clear()
    await sandbox.fulfill_order(order, "T-1")
    assert _names(sent) == [
        "PRODUCT_VARIANT_BACK_IN_STOCK",
        "PRODUCT_VARIANT_OUT_OF_STOCK",
        "FULFILLMENT_TRACKING_NUMBER_UPDATED",
        "FULFILLMENT_CREATED",
        "FULFILLMENT_APPROVED",
        "ORDER_UPDATED",
        "ORDER_FULFILLED",
    ]
    assert (mug.quantity, mug.quantity_allocated) == (0, 0)
    assert [line.quantity_allocated for line in sandbox.store.get_order(order.id).lines] == [0]


async def test_shipping_with_stock_left_sends_no_stock_event(
    sandbox: SaleorSandbox, sent: list[tuple[str, Any]]
) -> None:
    mug = stocked_variant(sandbox, "MUG", 5)
    order = await _order(sandbox, (mug, 2))
    [line] = order.lines
    sent.clear()
    await sandbox.fulfill_order(order, quantities={line.id: 1})
    assert _names(sent) == ["FULFILLMENT_CREATED", "ORDER_UPDATED"]
    assert (mug.quantity, mug.quantity_allocated, line.quantity_allocated) == (4, 1, 1)


async def test_a_placed_order_holds_its_stock_a_draft_or_a_built_one_none(
    sandbox: SaleorSandbox, sent: list[tuple[str, Any]]
) -> None:
    """`SaleorSandbox.create_order` places an order as checkoutComplete would (allocated, its
    stock events before ORDER_CREATED); a draft allocates nothing, nor does the store's own
    builder (no event either)."""
    mug = stocked_variant(sandbox, "MUG", 3)
    sent.clear()
    await sandbox.create_order(lines=[sandbox.order_line(mug, 3)], email="a@x.test")
    assert _names(sent)[:2] == ["PRODUCT_VARIANT_OUT_OF_STOCK", "ORDER_CREATED"]
    assert mug.quantity_allocated == 3
    draft = await sandbox.create_order(
        lines=[sandbox.order_line(mug, 1)], email="a@x.test", status=OrderStatus.DRAFT
    )
    sandbox.store.create_order(lines=[sandbox.order_line(mug, 1)], email="a@x.test")
    assert mug.quantity_allocated == 3 and draft.lines[0].quantity_allocated == 0


async def test_cancelling_a_shipment_restocks_and_allocates_it_again_silently(
    sandbox: SaleorSandbox, sent: list[tuple[str, Any]]
) -> None:
    """`fulfillmentCancel` with a warehouse: `restock_fulfillment_lines` →
    `increase_stock(..., allocate=True)`: the units back on the row and allocated to their line
    again, what can be sold unchanged, so no stock event; then FULFILLMENT_CANCELED and
    ORDER_UPDATED (saleor/order/actions.py `cancel_fulfillment`)."""
    mug = stocked_variant(sandbox, "MUG", 2)
    order = await _order(sandbox, (mug, 2))
    await sandbox.fulfill_order(order, "T-1")
    assert (mug.quantity, mug.quantity_allocated) == (0, 0)
    sent.clear()
    current = sandbox.store.get_order(order.id)
    await sandbox.cancel_fulfillment(current, current.fulfillments[0])
    assert _names(sent) == ["FULFILLMENT_CANCELED", "ORDER_UPDATED"]
    assert (mug.quantity, mug.quantity_allocated) == (2, 2)
    assert [line.quantity_allocated for line in current.lines] == [2]


async def test_returning_lines_never_shipped_gives_their_allocation_back(
    sandbox: SaleorSandbox, sent: list[tuple[str, Any]]
) -> None:
    """`orderFulfillmentReturnProducts` of unfulfilled lines: `_move_order_lines_to_target_
    fulfillment` deallocates what they held (`deallocate_stock`: BACK_IN_STOCK for a row that
    had nothing to sell), before ORDER_UPDATED; cancelling that return allocates it again
    (`restock_fulfillment_lines`), once."""
    mug = stocked_variant(sandbox, "MUG", 2)
    order = await _order(sandbox, (mug, 2))
    [line] = order.lines
    sent.clear()
    await sandbox.return_products(order, unfulfilled={line.id: 2})
    assert _names(sent) == ["PRODUCT_VARIANT_BACK_IN_STOCK", "ORDER_UPDATED"]
    current = sandbox.store.get_order(order.id)
    assert (mug.quantity, mug.quantity_allocated, line.quantity_allocated) == (2, 0, 0)
    await sandbox.cancel_fulfillment(current, current.fulfillments[-1])
    assert (mug.quantity, mug.quantity_allocated, line.quantity_allocated) == (4, 2, 2)
