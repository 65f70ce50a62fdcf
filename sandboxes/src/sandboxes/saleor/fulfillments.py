"""Shipments (Saleor's fulfilments) and product attributes of the sandbox store.

Modelled on Saleor: `orderFulfill` creates one `Fulfillment` per call, numbered within the order,
carrying the tracking number given ("" without one), and moves the order to FULFILLED once every
line is fulfilled, PARTIALLY_FULFILLED before (saleor/order/actions.py `create_fulfillments`,
saleor/order/utils.py `update_order_status`), touching its `updatedAt` only when its status
changes (`_refresh_status`); `fulfillmentCancel` cancels one (`cancel_lines`);
`fulfillmentUpdateTracking` replaces a
fulfilment's tracking number (saleor/graphql/order/mutations/fulfillment_update_tracking.py).
`Order.fulfillments` lists every fulfilment to staff and apps, and all but the cancelled ones to
others (saleor/graphql/order/types.py `Order.resolve_fulfillments`); `Product.attributes` lists
every attribute to staff and apps, the ones visible in the storefront to others
(saleor/graphql/product/resolvers.py `resolve_product_attributes`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .models import Product, ProductAttribute, utcnow
from .order_models import Fulfillment, FulfillmentStatus, Order, OrderStatus
from .payment_actions import IdSource
from .store_catalog import slugify

if TYPE_CHECKING:
    from graphql import GraphQLResolveInfo


@dataclass(frozen=True)
class FulfillmentEvent:
    """The subject of a FULFILLMENT_* webhook: the fulfilment and its order."""

    fulfillment: Fulfillment
    order: Order


def create_fulfillment(
    ids: IdSource,
    order: Order,
    tracking_number: str = "",
    quantities: dict[int, int] | None = None,
) -> Fulfillment:
    """Fulfil `quantities` (order line pk → quantity; default: what is left of every line)."""
    wanted = quantities or {ln.id: ln.quantity - ln.quantity_fulfilled for ln in order.lines}
    for line in order.lines:
        quantity = wanted.get(line.id, 0)
        if quantity < 0 or line.quantity_fulfilled + quantity > line.quantity:
            # saleor/order/utils.py `clean_order_line_quantities`
            left = line.quantity - line.quantity_fulfilled
            raise ValueError(f"Only {left} items left to fulfill.")
        line.quantity_fulfilled += quantity
    if not any(wanted.values()):
        raise ValueError("Total quantity must be larger than 0.")
    fulfillment = Fulfillment(
        id=ids(),
        fulfillment_order=_next_number(order),
        tracking_number=tracking_number,
        lines={pk: quantity for pk, quantity in wanted.items() if quantity},
    )
    order.fulfillments.append(fulfillment)
    _refresh_status(order)
    return fulfillment


def _next_number(order: Order) -> int:
    return max((f.fulfillment_order for f in order.fulfillments), default=0) + 1


_RETURNED = (FulfillmentStatus.RETURNED, FulfillmentStatus.REFUNDED_AND_RETURNED)
_SHIPPING = (FulfillmentStatus.FULFILLED, FulfillmentStatus.WAITING_FOR_APPROVAL)


def return_lines(
    ids: IdSource,
    order: Order,
    unfulfilled: dict[int, int] | None = None,
    fulfilled: dict[int, int] | None = None,
) -> Fulfillment:
    """``orderFulfillmentReturnProducts`` without refund or replacement: one RETURNED
    fulfilment of `unfulfilled` quantities of order lines never shipped ("List of unfulfilled
    lines to return": they count as fulfilled, `_move_order_lines_to_target_fulfillment`) and
    of `fulfilled` quantities taken out of the order's shipments
    (`_move_fulfillment_lines_to_target_fulfillment`); a shipment left without lines is
    deleted, and the order's status is worked out again (saleor/order/actions.py
    `create_fulfillments_for_returned_products`, saleor/order/utils.py `refresh_order_status`,
    `determine_order_status`; the same at tag 3.20.119)."""
    returned = Fulfillment(
        id=ids(), fulfillment_order=_next_number(order), status=FulfillmentStatus.RETURNED
    )
    by_pk = {line.id: line for line in order.lines}
    for pk, quantity in (unfulfilled or {}).items():
        line = by_pk[pk]
        moved = min(line.quantity - line.quantity_fulfilled, quantity)
        line.quantity_fulfilled += moved
        returned.lines[pk] = returned.lines.get(pk, 0) + moved
    for pk, quantity in (fulfilled or {}).items():
        for shipment in order.fulfillments:
            if shipment.status not in _SHIPPING or quantity <= 0:
                continue
            moved = min(shipment.lines.get(pk, 0), quantity)
            if moved:
                shipment.lines[pk] -= moved
                shipment.lines = {k: v for k, v in shipment.lines.items() if v}
                returned.lines[pk] = returned.lines.get(pk, 0) + moved
                quantity -= moved
        if quantity > 0:
            raise ValueError(f"Order line {pk}: not that many shipped to return.")
    if not any(returned.lines.values()):
        raise ValueError("Total quantity must be larger than 0.")
    order.fulfillments = [f for f in order.fulfillments if f.status not in _SHIPPING or f.lines] + [
        returned
    ]
    _refresh_status(order)
    return returned


class FulfillmentCancelRefused(ValueError):
    """`fulfillmentCancel` refused (an `OrderError` of code CANNOT_CANCEL_FULFILLMENT)."""


def cancel_lines(order: Order, fulfillment_id: int) -> Fulfillment:
    """``fulfillmentCancel``'s change to the order (saleor/order/actions.py
    `cancel_fulfillment`): the shipment CANCELED, its quantities no longer fulfilled, the order's
    status worked out again. Refused for one already cancelled (`Fulfillment.can_edit`,
    saleor/order/models.py). Its lines stay on it, as Saleor keeps its `FulfillmentLine`s."""
    found = next((f for f in order.fulfillments if f.id == fulfillment_id), None)
    if found is None:
        raise LookupError(f"Fulfillment {fulfillment_id} is not one of order {order.id}'s")
    if found.status is FulfillmentStatus.CANCELED:
        raise FulfillmentCancelRefused("This fulfillment can't be canceled")
    by_pk = {line.id: line for line in order.lines}
    for pk, quantity in found.lines.items():
        by_pk[pk].quantity_fulfilled -= quantity
    found.status = FulfillmentStatus.CANCELED
    _refresh_status(order)
    return found


def _refresh_status(order: Order) -> None:
    """The order's status worked out again, and the order saved only when it changed:
    `updatedAt` stays on a shipment or a return that leaves the status as it was (a second
    partial shipment, a second partial return). saleor/order/utils.py `update_order_status`
    (`if status_updated: locked_order.save(update_fields=["status", "updated_at"])`), reached
    from `orderFulfill` (saleor/order/actions.py `create_fulfillments` -> `order_fulfilled`) and
    from `orderFulfillmentReturnProducts` (`create_return_fulfillment` -> `order_returned`), the
    order saved nowhere else on either path (tag 3.20.119)."""
    status = _status(order)
    if status is not order.status:
        order.status = status
        order.updated_at = utcnow()


def _status(order: Order) -> OrderStatus:
    """saleor/order/utils.py `determine_order_status` (no replacements, nothing awaiting
    approval)."""
    total = sum(line.quantity for line in order.lines)
    fulfilled = sum(line.quantity_fulfilled for line in order.lines)
    returned = sum(sum(f.lines.values()) for f in order.fulfillments if f.status in _RETURNED)
    if fulfilled <= 0:
        return OrderStatus.UNFULFILLED
    if 0 < returned < total:
        return OrderStatus.PARTIALLY_RETURNED
    if returned == total:
        return OrderStatus.RETURNED
    if fulfilled < total:
        return OrderStatus.PARTIALLY_FULFILLED
    return OrderStatus.FULFILLED


def set_tracking_number(order: Order, fulfillment_id: int, tracking_number: str) -> Fulfillment:
    found = next((f for f in order.fulfillments if f.id == fulfillment_id), None)
    if found is None:
        raise LookupError(f"Fulfillment {fulfillment_id} is not one of order {order.id}'s")
    # Only the fulfilment is saved: the order's `updated_at` stays (fulfillment.save() in
    # `FulfillmentUpdateTracking.perform_mutation`).
    found.tracking_number = tracking_number
    return found


def _sees_everything(info: GraphQLResolveInfo[Any]) -> bool:
    viewer = info.context.viewer
    return viewer.app is not None or viewer.is_staff


def resolve_order_fulfillments(order: Order, info: GraphQLResolveInfo[Any]) -> list[Fulfillment]:
    if _sees_everything(info):
        return list(order.fulfillments)
    return [f for f in order.fulfillments if f.status is not FulfillmentStatus.CANCELED]


def resolve_product_attributes(source: Any, info: GraphQLResolveInfo[Any]) -> list[dict[str, Any]]:
    product: Product = getattr(source, "node", source)
    everything = _sees_everything(info)
    return [
        {
            "attribute": attribute_node(product, a),
            "values": [attribute_value(a.slug, v) for v in a.values],
        }
        for a in product.attributes
        if everything or a.visible_in_storefront
    ]


def attribute_node(product: Product, attribute: ProductAttribute) -> dict[str, Any]:
    """The `Attribute` of one of the product's selected attributes."""
    return {
        "id": _id("Attribute", f"{product.id}-{attribute.slug}"),
        "name": attribute.name,
        "slug": attribute.slug,
        "visibleInStorefront": attribute.visible_in_storefront,
    }


def attribute_value(attribute_slug: str, name: str) -> dict[str, Any]:
    """An `AttributeValue` of the attribute of that slug (one per name: the sandbox keeps a
    product's values as names)."""
    return {
        "id": _id("AttributeValue", f"{attribute_slug}-{name}"),
        "name": name,
        "slug": slugify(name),
    }


def _id(type_name: str, key: str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()
