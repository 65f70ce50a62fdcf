"""Staff's edits of an order in ``SaleorSandbox``, with the webhook events Saleor sends for each:
`orderUpdate` (`order_update.py`), `orderLinesCreate`, `orderLineUpdate`, `orderLineDelete` and
`orderNoteAdd` (saleor/graphql/order/mutations/, at tag 3.20.119 and commit 723cd4e). Each sends
ORDER_UPDATED (DRAFT_ORDER_UPDATED for a draft: `call_event_by_order_status` in mutations/
utils.py), `orderUpdate` only when it changed something since 3.21.0; `updatedAt` changes when
the order is saved with it, as each version saves it (`versions.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .models import ProductVariant, utcnow
from .order_models import Order, OrderEventType, OrderLine, OrderStatus
from .order_update import OrderUpdateRefused, order_update_changes
from .sandbox_webhooks import SandboxWebhooks
from .stock_checks import InsufficientStock
from .stock_moves import decrease, increase
from .versions import (
    order_line_release_any_allocation,
    order_line_update_saves_updated,
    order_note_saves_order,
    order_update_only_changes,
)

# saleor/order/__init__.py `ORDER_EDITABLE_STATUS`: the lines of other orders cannot change.
EDITABLE = (OrderStatus.DRAFT, OrderStatus.UNCONFIRMED)


class SandboxOrderEdits(SandboxWebhooks):
    """Staff's `orderUpdate`, line edits and notes, with their events."""

    async def update_order(self, order: Order, **given: Any) -> Order:
        """`orderUpdate(input: given)` (`user_email`, `shipping_address`, `billing_address`;
        `language_code` since 3.21.0): what changes is saved, `updatedAt` with it, and a new
        `userEmail` gives the order the active user of exactly that address, or no user
        (`order_update.py`). ORDER_UPDATED follows a change only since 3.21.0; 3.20.119 sends it
        on every call, a call that changes nothing leaving `updatedAt` alone. Refused
        (`OrderUpdateRefused`, nothing changed or sent): a draft, an invalid address."""
        current = self.store.get_order(order.id)
        changes = order_update_changes(self.store, current, self.version, **given)
        if changes:
            self.store.update_order(current, **changes)
        elif order_update_only_changes(self.version):
            return current
        await self.emit("ORDER_UPDATED", current)
        return current

    async def add_order_lines(
        self, order: Order, lines: Sequence[OrderLine], *, force_new_line: bool = False
    ) -> Order:
        """`orderLinesCreate` (lines built by `order_line`): a variant the order has one line
        of adds to that line unless `force_new_line` (`_find_line_id_for_variant_if_exist`,
        saleor/order/utils.py `add_variant_to_order`); saved with `updated_at`, one event."""
        current = self._editable(order)
        if not lines or any(line.quantity <= 0 for line in lines):
            raise OrderUpdateRefused("Ensure this value is greater than 0.")
        kept = list(current.lines)
        with _Allocations(self, current) as moves:
            for line in lines:
                same = [i for i, ln in enumerate(current.lines) if ln.variant_id == line.variant_id]
                if len(same) == 1 and not force_new_line:
                    was = kept[same[0]]
                    added = was.model_copy(update={"quantity": was.quantity + line.quantity})
                    kept[same[0]] = added
                else:
                    added = line.model_copy(update={"quantity_allocated": 0})
                    kept.append(added)
                moves.increase(added, line.quantity)
        self.store.update_order(current, lines=kept)
        await self._stock_events(out=moves.out)
        return await self._edited(current)

    async def update_order_line(self, order: Order, line_id: int, quantity: int) -> Order:
        """`orderLineUpdate`: the line's new quantity (above 0: "Ensure this value is greater
        than 0."); `updated_at` saved with it since 3.22.23 / 3.23.0 only."""
        current = self._editable(order)
        if quantity <= 0:
            raise OrderUpdateRefused("Ensure this value is greater than 0.")
        was = self._line(current, line_id)
        changed = was.model_copy(update={"quantity": quantity})
        with _Allocations(self, current) as moves:
            if quantity > was.quantity:
                moves.increase(changed, quantity - was.quantity, refused=_SHORT_FOR_UPDATE)
            else:
                moves.decrease(changed, was.quantity - quantity)
        lines = [changed if ln.id == line_id else ln for ln in current.lines]
        if order_line_update_saves_updated(self.version):
            self.store.update_order(current, lines=lines)
        else:
            current.lines = lines
        await self._stock_events(back=moves.back, out=moves.out)
        return await self._edited(current)

    async def delete_order_line(self, order: Order, line_id: int) -> Order:
        """`orderLineDelete`: the line gone, saved with `updated_at`."""
        current = self._editable(order)
        line = self._line(current, line_id)
        with _Allocations(self, current) as moves:
            moves.decrease(line, line.quantity)
        self.store.update_order(current, lines=[ln for ln in current.lines if ln.id != line_id])
        await self._stock_events(back=moves.back)
        return await self._edited(current)

    async def add_order_note(self, order: Order, message: str) -> Order:
        """`orderNoteAdd`, of any order: the note, a NOTE_ADDED `OrderEvent`
        (`order_note_added_event`), and its webhook; `updated_at` saved since 3.22.0
        (`update_order_search_vector(order)`), left alone at 3.20.119. A blank message is
        refused: "Message can't be empty." (`validate_required_string_field`)."""
        current = self.store.get_order(order.id)
        if not message.strip():
            raise OrderUpdateRefused("Message can't be empty.")
        self.store.record_order_event(current, OrderEventType.NOTE_ADDED, message=message)
        if order_note_saves_order(self.version):
            current.updated_at = utcnow()
        return await self._edited(current)

    def _editable(self, order: Order) -> Order:
        current = self.store.get_order(order.id)
        if current.status not in EDITABLE:  # `EditableOrderValidationMixin.validate_order`
            raise OrderUpdateRefused("Only draft and unconfirmed orders can be edited.")
        return current

    @staticmethod
    def _line(order: Order, line_id: int) -> OrderLine:
        found = next((ln for ln in order.lines if ln.id == line_id), None)
        if found is None:
            raise OrderUpdateRefused(f"Couldn't resolve to a node: OrderLine {line_id}")
        return found

    async def _stock_events(
        self, *, back: Sequence[ProductVariant] = (), out: Sequence[ProductVariant] = ()
    ) -> None:
        """An order's stock events (stock_moves.py): BACK_IN_STOCK, then OUT_OF_STOCK."""
        for variant in back:
            await self.emit("PRODUCT_VARIANT_BACK_IN_STOCK", variant)
        for variant in out:
            await self.emit("PRODUCT_VARIANT_OUT_OF_STOCK", variant)

    async def _edited(self, order: Order) -> Order:
        event = "DRAFT_ORDER_UPDATED" if order.status is OrderStatus.DRAFT else "ORDER_UPDATED"
        await self.emit(event, order)
        return order


class OrderInsufficientStock(OrderUpdateRefused):
    """A line edit of an unconfirmed order its stock cannot cover (`_Allocations`)."""

    code = "INSUFFICIENT_STOCK"


_SHORT_FOR_UPDATE = "Cannot set new quantity because of insufficient stock."


class _Allocations:
    """The stock an unconfirmed order's line edit moves (`stock_moves.increase`, `decrease`; a
    draft holds none, `allocate_stock=order.is_unconfirmed()`), with its events; all undone when
    one line cannot be allocated (the mutation's `traced_atomic_transaction`), which
    `orderLineUpdate` answers as INSUFFICIENT_STOCK, `orderLinesCreate` lets through as the
    exception's own message ("Insufficient stock for ...", a GraphQL error)."""

    def __init__(self, sandbox: SandboxOrderEdits, order: Order) -> None:
        self._variant_of = sandbox.store.variants.get
        self._active = order.status is OrderStatus.UNCONFIRMED
        self._any_line = order_line_release_any_allocation(sandbox.version)
        self._saved: dict[int, int] = {}
        self.back: list[ProductVariant] = []
        self.out: list[ProductVariant] = []

    def _variant(self, line: OrderLine) -> ProductVariant | None:
        variant = self._variant_of(line.variant_id or 0)
        if variant is not None:
            self._saved.setdefault(variant.id, variant.quantity_allocated)
        return variant

    def increase(self, line: OrderLine, added: int, refused: str | None = None) -> None:
        if not self._active:
            return
        try:
            self.out += increase(line, self._variant(line), added, utcnow())
        except InsufficientStock as exc:
            raise OrderInsufficientStock(refused or str(exc)) from exc

    def decrease(self, line: OrderLine, removed: int) -> None:
        if self._active:
            self.back += decrease(line, self._variant(line), removed, utcnow(), self._any_line)

    def __enter__(self) -> _Allocations:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            for pk, allocated in self._saved.items():
                self._variant_of(pk).quantity_allocated = allocated  # type: ignore[union-attr]
