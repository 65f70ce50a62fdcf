"""Shipments of an order in ``SaleorSandbox`` (`fulfillments.py`), with the webhook events Saleor
sends for each: `orderFulfill`, `orderFulfillmentReturnProducts`, `fulfillmentUpdateTracking`
and `fulfillmentCancel`."""

from __future__ import annotations

from .fulfillments import (
    FulfillmentEvent,
    cancel_lines,
    create_fulfillment,
    return_lines,
    set_tracking_number,
)
from .models import utcnow
from .order_models import Fulfillment, Order, OrderEventType, OrderStatus
from .sandbox_order_edits import SandboxOrderEdits
from .stock_moves import deallocate, restock, ship


class SandboxFulfillments(SandboxOrderEdits):
    """Staff's shipments, returns and their cancellations, with their events."""

    async def fulfill_order(
        self,
        order: Order,
        tracking_number: str = "",
        quantities: dict[int, int] | None = None,
    ) -> Order:
        """``orderFulfill`` (of every line, or of ``quantities``: order line pk → quantity):
        one fulfilment with the tracking number, its units taken off the stock with the stock
        events that sends (`stock_moves.ship`), FULFILLMENT_TRACKING_NUMBER_UPDATED when it has a
        tracking number (`create_fulfillments`: `if tracking_number: call_event(manager.
        tracking_number_updated, fulfillment)`, before `order_fulfilled`), FULFILLMENT_CREATED,
        then, once every line is fulfilled, FULFILLMENT_APPROVED, then ORDER_UPDATED and, once
        every line is fulfilled, ORDER_FULFILLED (saleor/order/actions.py `create_fulfillments`,
        ``order_fulfilled``, the same at tag 3.20.119 and commit 723cd4e)."""
        current = self.store.get_order(order.id)
        fulfillment = create_fulfillment(self.store.next_id, current, tracking_number, quantities)
        # `order_fulfilled`: `events.fulfillment_fulfilled_items_event` (approved at once).
        self.store.record_order_event(current, OrderEventType.FULFILLMENT_FULFILLED_ITEMS)
        back, out = ship(current, fulfillment.lines, self.store.variants.get, utcnow())
        await self._stock_events(back=back, out=out)
        if fulfillment.tracking_number:
            await self.emit(
                "FULFILLMENT_TRACKING_NUMBER_UPDATED", FulfillmentEvent(fulfillment, current)
            )
        await self.emit("FULFILLMENT_CREATED", FulfillmentEvent(fulfillment, current))
        if current.status is OrderStatus.FULFILLED:
            await self.emit("FULFILLMENT_APPROVED", FulfillmentEvent(fulfillment, current))
        events = ["ORDER_UPDATED"]
        if current.status is OrderStatus.FULFILLED:
            events.append("ORDER_FULFILLED")
        return await self._emit_all(events, current)

    async def return_products(
        self,
        order: Order,
        unfulfilled: dict[int, int] | None = None,
        fulfilled: dict[int, int] | None = None,
    ) -> Order:
        """``orderFulfillmentReturnProducts`` (`fulfillments.return_lines`): the allocations of
        the lines never shipped it takes given back, with their BACK_IN_STOCK
        (`_move_order_lines_to_target_fulfillment` → `deallocate_stock`), then ORDER_UPDATED
        (`create_fulfillments_for_returned_products`)."""
        current = self.store.get_order(order.id)
        asked = unfulfilled or {}
        never_shipped = {
            line.id: min(line.quantity - line.quantity_fulfilled, asked[line.id])
            for line in current.lines
            if line.id in asked
        }
        return_lines(self.store.next_id, current, unfulfilled, fulfilled)
        # What they held of lines never shipped is given back (`deallocate_stock`).
        await self._stock_events(back=deallocate(current, never_shipped, self.store.variants.get))
        return await self._emit_all(["ORDER_UPDATED"], current)

    async def update_tracking_number(
        self, order: Order, fulfillment: Fulfillment, tracking_number: str
    ) -> Order:
        """``fulfillmentUpdateTracking``: FULFILLMENT_TRACKING_NUMBER_UPDATED and ORDER_UPDATED
        (saleor/order/actions.py ``fulfillment_tracking_updated``)."""
        current = self.store.get_order(order.id)
        updated = set_tracking_number(current, fulfillment.id, tracking_number)
        await self.emit("FULFILLMENT_TRACKING_NUMBER_UPDATED", FulfillmentEvent(updated, current))
        return await self._emit_all(["ORDER_UPDATED"], current)

    async def cancel_fulfillment(self, order: Order, fulfillment: Fulfillment) -> Order:
        """``fulfillmentCancel`` of a shipment, its units restocked to the sandbox's one
        warehouse (Saleor asks a warehouse of every shipment not awaiting approval, and the
        sandbox makes none that await it): the shipment CANCELED, its units back on the rows
        and allocated to their lines again (`stock_moves.restock`), the order's status worked
        out again (`fulfillments.cancel_lines`), its FULFILLMENT_CANCELED order event recorded,
        then FULFILLMENT_CANCELED and ORDER_UPDATED
        (saleor/order/actions.py `cancel_fulfillment`; saleor/graphql/order/mutations/
        fulfillment_cancel.py). Refused (`FulfillmentCancelRefused`, nothing changed or sent):
        a shipment already cancelled."""
        current = self.store.get_order(order.id)
        cancelled = cancel_lines(current, fulfillment.id)
        # `events.fulfillment_canceled_event`, first in `cancel_fulfillment`.
        self.store.record_order_event(current, OrderEventType.FULFILLMENT_CANCELED)
        restock(current, cancelled.lines, self.store.variants.get)
        await self.emit("FULFILLMENT_CANCELED", FulfillmentEvent(cancelled, current))
        return await self._emit_all(["ORDER_UPDATED"], current)
