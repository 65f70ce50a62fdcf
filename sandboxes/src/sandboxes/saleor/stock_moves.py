"""What an order does to its variants' stock rows, and the stock webhooks Saleor sends for it
(saleor/warehouse/management.py, read at tag 3.20.119 and commit 723cd4e; the sandbox has one
warehouse, so a variant has at most one row, `ProductVariant.stocked`):

* ``checkoutComplete`` allocates its lines (`allocate_stocks`): only variants that track their
  inventory and are not on an active preorder (`get_order_lines_with_track_inventory`), from a
  row they have. Then, for every allocation that leaves its row nothing to sell,
  PRODUCT_VARIANT_OUT_OF_STOCK.
* Cancelling or expiring an order gives its allocations back (`deallocate_stock_for_orders`):
  PRODUCT_VARIANT_BACK_IN_STOCK for every allocation whose row had nothing to sell before.
* A fulfilment (`orderFulfill`, approved at once) first gives back what the order allocated of
  what it ships (`deallocate_stock`: BACK_IN_STOCK for a row that had nothing to sell and has
  some once the allocation is gone), then takes the shipped units off the rows
  (`decrease_stock`: OUT_OF_STOCK for every row left with nothing to sell, even one that had
  nothing before). The sandbox fulfils as staff do with `allowStockToBeExceeded`: a row may go
  below zero, a variant without a row ships without one.

Each event is queued by ``transaction.on_commit(lambda: trigger(allocation.stock))`` inside the
loop over the rows, and the lambda reads the loop variable when the transaction commits: every
one of them names the row the loop ended on, not the row that ran out (the sandbox takes the
order's last line, or the last row by pk: in Saleor whichever row its query read last). The
sandbox sends them so (`_as_sent`): an app cannot count on the event naming the variant
concerned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from .models import ProductVariant
from .order_models import Order, OrderLine
from .stock_checks import InsufficientStock

VariantLookup = Callable[[int], ProductVariant | None]


def _as_sent(rows: Sequence[ProductVariant], hits: int) -> list[ProductVariant]:
    """`hits` events, each naming the last of `rows` (the loop variable's final value)."""
    return [rows[-1]] * hits if rows and hits else []


def _available(variant: ProductVariant) -> int:
    return variant.quantity - variant.quantity_allocated


def allocates(variant: ProductVariant | None, now: datetime) -> bool:
    """Whether `allocate_stocks` allocates a line of `variant` from its row."""
    return (
        variant is not None
        and variant.track_inventory
        and not variant.is_preorder_active(now)
        and variant.stocked
    )


def allocate(line: OrderLine, variant: ProductVariant) -> None:
    line.quantity_allocated = line.quantity
    variant.quantity_allocated += line.quantity


def allocate_order(order: Order, variant_of: VariantLookup, now: datetime) -> None:
    """Allocate the lines of a placed order that hold nothing yet (what `checkoutComplete`
    and `draftOrderComplete` do; `SaleorStore.complete_checkout` allocates its own)."""
    for line in order.lines:
        variant = variant_of(line.variant_id or 0)
        if not line.quantity_allocated and variant is not None and allocates(variant, now):
            allocate(line, variant)


def out_of_stock_after_allocation(order: Order, variant_of: VariantLookup) -> list[ProductVariant]:
    """The OUT_OF_STOCK events of an order's allocations, made just now (`allocate_stocks`:
    `if not max(allocation.stock.quantity - allocated_stock, 0)`)."""
    rows = [
        variant
        for line in order.lines
        if line.quantity_allocated and (variant := variant_of(line.variant_id or 0))
    ]
    return _as_sent(rows, sum(1 for variant in rows if _available(variant) <= 0))


def release(order: Order, variant_of: VariantLookup) -> list[ProductVariant]:
    """Give back every allocation of the order (`deallocate_stock_for_orders`); its
    BACK_IN_STOCK events: one per allocation whose row had nothing to sell before
    (`stock_available_quantity <= 0`, read before the allocations are zeroed)."""
    rows: list[ProductVariant] = []
    hits = 0
    for line in order.lines:
        variant = variant_of(line.variant_id or 0)
        if variant is not None and line.quantity_allocated > 0:
            rows.append(variant)
            hits += _available(variant) <= 0
    for line in order.lines:
        variant = variant_of(line.variant_id or 0)
        if variant is not None:
            variant.quantity_allocated -= line.quantity_allocated
        line.quantity_allocated = 0
    return _as_sent(rows, hits)


def ship(
    order: Order, shipped: dict[int, int], variant_of: VariantLookup, now: datetime
) -> tuple[list[ProductVariant], list[ProductVariant]]:
    """Take `shipped` (order line pk → quantity) off the order's allocations and rows; the
    BACK_IN_STOCK events of the deallocation, then the OUT_OF_STOCK events of the decrease."""
    lines = [line for line in order.lines if shipped.get(line.id)]
    back = deallocate(order, shipped, variant_of)
    rows: dict[int, ProductVariant] = {}
    for line in lines:  # `decrease_stock`, tracked lines with a row only
        variant = variant_of(line.variant_id or 0)
        if variant is not None and allocates(variant, now):
            variant.quantity -= shipped[line.id]
            rows[variant.id] = variant
    by_pk = [rows[pk] for pk in sorted(rows)]
    out = sum(1 for variant in by_pk if _available(variant) <= 0)
    return back, _as_sent(by_pk, out)


def deallocate(
    order: Order, given: dict[int, int], variant_of: VariantLookup
) -> list[ProductVariant]:
    """`deallocate_stock` of `given` (order line pk → quantity): what the lines hold of it
    given back; BACK_IN_STOCK for every row that had nothing to sell and now has some. A
    shipment's first step (`ship`), and a return's of lines never shipped
    (saleor/order/actions.py `_move_order_lines_to_target_fulfillment`)."""
    released: list[ProductVariant] = []
    back = 0
    for line in order.lines:
        variant = variant_of(line.variant_id or 0)
        taken = min(given.get(line.id, 0), line.quantity_allocated)
        if variant is None or taken <= 0:
            continue
        before = _available(variant)
        line.quantity_allocated -= taken
        variant.quantity_allocated -= taken
        released.append(variant)
        back += before <= 0 < _available(variant)
    return _as_sent(released, back)


def increase(
    line: OrderLine, variant: ProductVariant | None, added: int, now: datetime
) -> list[ProductVariant]:
    """More of an unconfirmed order's line (`orderLinesCreate`, `orderLineUpdate` up:
    saleor/order/utils.py `add_variant_to_order`, `_update_allocations_for_line`;
    management.py `increase_allocations`): a tracked variant not on preorder re-allocates what
    its line held plus `added`, refused (`InsufficientStock`, nothing changed) when its row lacks
    it or it has no row; OUT_OF_STOCK when the row is left with nothing to sell. A variant on
    preorder allocates nothing here (no `allocate_preorders`), nor does an untracked one."""
    if variant is None or not variant.track_inventory or variant.is_preorder_active(now):
        return []
    wanted = line.quantity_allocated + added
    left = variant.quantity - (variant.quantity_allocated - line.quantity_allocated)
    if not variant.stocked or wanted > left:
        raise InsufficientStock([(variant, max(left, 0) if variant.stocked else 0)])
    line.quantity_allocated = wanted
    variant.quantity_allocated += added
    return _as_sent([variant], int(_available(variant) <= 0))


def decrease(
    line: OrderLine, variant: ProductVariant | None, removed: int, now: datetime, any_line: bool
) -> list[ProductVariant]:
    """Less of an unconfirmed order's line (`orderLineUpdate` down, `orderLineDelete`:
    `decrease_allocations` → `deallocate_stock`): up to `removed` of what it holds given back,
    BACK_IN_STOCK when its row had nothing to sell and now has. Which lines: at 3.20.119 those of
    a tracked variant not on preorder (`get_order_lines_with_track_inventory`); since 3.21.0
    (saleor/saleor#17657, commit 0696ec30) any line holding an allocation (`any_line`,
    `get_order_lines_to_deallocate`)."""
    if variant is None or line.quantity_allocated <= 0:
        return []
    if not any_line and (not variant.track_inventory or variant.is_preorder_active(now)):
        return []
    given = min(removed, line.quantity_allocated)
    before = _available(variant)
    line.quantity_allocated -= given
    variant.quantity_allocated -= given
    return _as_sent([variant], int(before <= 0 < _available(variant)))


def restock(order: Order, cancelled: dict[int, int], variant_of: VariantLookup) -> None:
    """A cancelled shipment's units back on the rows, allocated again to their lines
    (`fulfillmentCancel` with a warehouse: saleor/order/utils.py `restock_fulfillment_lines` →
    saleor/warehouse/management.py `increase_stock(..., allocate=True)`): for variants that
    track their inventory, a row made where there was none. What can be sold does not change,
    so no stock event is sent."""
    for line in order.lines:
        quantity = cancelled.get(line.id, 0)
        variant = variant_of(line.variant_id or 0)
        if not quantity or variant is None or not variant.track_inventory:
            continue
        if not variant.stocked:
            variant.stocked, variant.quantity, variant.quantity_allocated = True, 0, 0
        variant.quantity += quantity
        variant.quantity_allocated += quantity
        line.quantity_allocated += quantity
