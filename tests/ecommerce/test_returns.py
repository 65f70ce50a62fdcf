"""Returns (`orderFulfillmentReturnProducts`): Saleor takes back lines never shipped as well as
shipped ones, counting both as fulfilled, and deletes a shipment a return leaves empty, so a
returned order cannot tell whether anything was shipped. Its `fulfillment_status` is left as
Mailchimp holds it: never `shipped` for an order nothing was shipped of (Mailchimp's Shipping
Confirmation)."""

from __future__ import annotations

from sandboxes.saleor.order_models import FulfillmentStatus, OrderStatus
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_tracking import _order as tea_order


async def test_lines_never_shipped_returned_send_no_shipping(shop: Shop) -> None:
    order = await tea_order(shop, None)
    first = order.lines[0]
    returned = await shop.saleor.return_products(order, unfulfilled={first.id: 1})
    assert returned.status is OrderStatus.PARTIALLY_RETURNED  # as Saleor works it out
    assert [f.status for f in returned.fulfillments] == [FulfillmentStatus.RETURNED]
    await shop.drain()
    assert shop.orders()[str(order.id)].fulfillment_status == ""
    assert not any(
        r.method == "PATCH" and "fulfillment_status" in (r.body or {})
        for r in shop.mailchimp.requests
        if f"/orders/{order.id}" in r.path and isinstance(r.body, dict)
    )


async def test_a_tea_order_returned_stays_shipped(shop: Shop) -> None:
    order = await tea_order(shop, None)
    await shop.saleor.fulfill_order(order)
    await shop.drain()
    assert shop.orders()[str(order.id)].fulfillment_status == "shipped"
    quantities = {line.id: line.quantity for line in order.lines}
    returned = await shop.saleor.return_products(order, fulfilled=quantities)
    # The shipment a return leaves empty is deleted: only the return is left.
    assert returned.status is OrderStatus.RETURNED
    assert [f.status for f in returned.fulfillments] == [FulfillmentStatus.RETURNED]
    await shop.drain()
    assert shop.orders()[str(order.id)].fulfillment_status == "shipped"


async def test_part_of_a_shipment_returned_is_partially_returned(shop: Shop) -> None:
    order = await tea_order(shop, None)
    second = order.lines[1]
    await shop.saleor.fulfill_order(order, quantities={second.id: 2})
    returned = await shop.saleor.return_products(order, fulfilled={second.id: 1})
    assert returned.status is OrderStatus.PARTIALLY_RETURNED
    shipped, back = returned.fulfillments
    assert (shipped.status, shipped.lines) == (FulfillmentStatus.FULFILLED, {second.id: 1})
    assert (back.status, back.lines) == (FulfillmentStatus.RETURNED, {second.id: 1})
