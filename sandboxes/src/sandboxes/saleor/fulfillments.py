"""Shipments (Saleor's fulfilments) and product attributes of the sandbox store.

Modelled on Saleor: `orderFulfill` creates one `Fulfillment` per call, numbered within the order,
carrying the tracking number given ("" without one), and moves the order to FULFILLED once every
line is fulfilled, PARTIALLY_FULFILLED before (saleor/order/actions.py `create_fulfillments`,
saleor/order/utils.py `update_order_status`); `fulfillmentUpdateTracking` replaces a
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

from .models import Product, utcnow
from .order_models import Fulfillment, FulfillmentStatus, Order, OrderStatus
from .payment_actions import IdSource

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
        fulfillment_order=max((f.fulfillment_order for f in order.fulfillments), default=0) + 1,
        tracking_number=tracking_number,
    )
    order.fulfillments.append(fulfillment)
    done = all(line.quantity_fulfilled >= line.quantity for line in order.lines)
    order.status = OrderStatus.FULFILLED if done else OrderStatus.PARTIALLY_FULFILLED
    order.updated_at = utcnow()
    return fulfillment


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
            "attribute": {
                "id": _id("Attribute", f"{product.id}-{a.slug}"),
                "name": a.name,
                "slug": a.slug,
                "visibleInStorefront": a.visible_in_storefront,
            },
            "values": [
                {"id": _id("AttributeValue", f"{a.slug}-{v}"), "name": v, "slug": v.lower()}
                for v in a.values
            ],
        }
        for a in product.attributes
        if everything or a.visible_in_storefront
    ]


def _id(type_name: str, key: str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()
