"""Fulfilments and product attributes, as Saleor serves them: orderFulfill and
fulfillmentUpdateTracking with their webhooks (MANAGE_ORDERS), Order.fulfillments and
Product.attributes for apps and for shoppers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.fulfillments import FulfillmentCancelRefused
from sandboxes.saleor.models import ProductAttribute
from sandboxes.saleor.order_models import FulfillmentStatus, Order, OrderEventType, OrderStatus
from sandboxes.saleor.store_catalog import VariantSpec

from .conftest import APP_HOST, FakeApp, default_manifest

FULFILLMENTS = """
subscription {
  event {
    ... on FulfillmentCreated {
      fulfillment { trackingNumber status fulfillmentOrder }
      order { id status }
    }
    ... on FulfillmentTrackingNumberUpdated {
      fulfillment { trackingNumber }
      order { id updatedAt }
    }
  }
}
"""


async def _install(sandbox: SaleorSandbox, fake_app: FakeApp, permissions: list[str]) -> None:
    manifest = default_manifest()
    manifest["permissions"] = permissions
    manifest["webhooks"] = [
        {
            "name": "Fulfilments",
            "asyncEvents": ["FULFILLMENT_CREATED", "FULFILLMENT_TRACKING_NUMBER_UPDATED"],
            "query": FULFILLMENTS,
            "targetUrl": f"http://{APP_HOST}/api/webhooks/fulfillments",
            "isActive": True,
        }
    ]
    fake_app.manifest = manifest
    await sandbox.install_app(f"http://{APP_HOST}/api/manifest")


def _order(sandbox: SaleorSandbox) -> Order:
    product = sandbox.store.create_product("Mug", [VariantSpec(sku="MUG", price=Decimal("5"))])
    return sandbox.store.create_order(
        lines=[sandbox.order_line(product.variants[0], 3)], email="a@example.com"
    )


async def test_fulfil_in_parts_then_update_the_tracking_number(
    sandbox: SaleorSandbox, fake_app: FakeApp
) -> None:
    await _install(sandbox, fake_app, ["MANAGE_ORDERS"])
    order = _order(sandbox)
    [line] = order.lines
    await sandbox.fulfill_order(order, "T-1", quantities={line.id: 1})
    current = sandbox.store.get_order(order.id)
    assert current.status is OrderStatus.PARTIALLY_FULFILLED
    events = [d.event_type for d in sandbox.deliveries]
    # saleor/order/actions.py `order_fulfilled`: ORDER_FULFILLED only once all is fulfilled.
    assert "ORDER_FULFILLED" not in events
    # saleor/order/actions.py `create_fulfillments`: a tracking number given sends
    # FULFILLMENT_TRACKING_NUMBER_UPDATED before `order_fulfilled` sends FULFILLMENT_CREATED.
    tracking, created = [json.loads(b) for _, b in fake_app.webhooks]
    assert tracking["fulfillment"] == {"trackingNumber": "T-1"}
    assert created["fulfillment"] == {
        "trackingNumber": "T-1",
        "status": "FULFILLED",
        "fulfillmentOrder": 1,
    }
    assert created["order"] == {"id": current.global_id, "status": "PARTIALLY_FULFILLED"}

    await sandbox.fulfill_order(current)  # the rest
    assert sandbox.store.get_order(current.id).status is OrderStatus.FULFILLED
    second = current.fulfillments[1]
    assert (second.fulfillment_order, second.tracking_number) == (2, "")
    with pytest.raises(ValueError, match="larger than 0"):
        await sandbox.fulfill_order(current)

    updated_at = current.updated_at
    await sandbox.update_tracking_number(current, second, "T-2")
    payload = json.loads(fake_app.webhooks[-1][1])
    assert payload["fulfillment"] == {"trackingNumber": "T-2"}
    assert sandbox.store.get_order(current.id).updated_at == updated_at  # only the fulfilment


async def test_fulfilment_webhooks_need_manage_orders(
    sandbox: SaleorSandbox, fake_app: FakeApp
) -> None:
    await _install(sandbox, fake_app, ["MANAGE_PRODUCTS"])
    await sandbox.fulfill_order(_order(sandbox), "T-1")
    assert [d for d in sandbox.deliveries if d.event_type.startswith("FULFILLMENT_")] == []


QUERY = """
query ($id: ID!) {
  order(id: $id) { fulfillments { status trackingNumber } }
}
"""
PRODUCT = """
query ($id: ID!) {
  product(id: $id) { attributes { attribute { slug name } values { name } } }
}
"""


async def test_apps_see_every_fulfilment_and_attribute(
    sandbox: SaleorSandbox, fake_app: FakeApp
) -> None:
    await _install(sandbox, fake_app, ["MANAGE_ORDERS", "MANAGE_PRODUCTS"])
    app = next(iter(sandbox.store.apps.values()))
    order = _order(sandbox)
    await sandbox.fulfill_order(order, "T-9")
    current = sandbox.store.get_order(order.id)
    current.fulfillments[0].status = FulfillmentStatus.CANCELED
    body = await sandbox.execute(QUERY, {"id": current.global_id}, app=app)
    assert body["data"]["order"]["fulfillments"] == [
        {"status": "CANCELED", "trackingNumber": "T-9"}
    ]

    product = sandbox.store.create_product(
        "Boot",
        [VariantSpec(sku="B")],
        attributes=[
            ProductAttribute(slug="brand", name="Brand", values=["Acme"]),
            ProductAttribute(slug="cost", name="Cost", values=["4"], visible_in_storefront=False),
        ],
    )
    seen = await sandbox.execute(PRODUCT, {"id": product.global_id}, app=app)
    assert seen["data"]["product"]["attributes"] == [
        {"attribute": {"slug": "brand", "name": "Brand"}, "values": [{"name": "Acme"}]},
        {"attribute": {"slug": "cost", "name": "Cost"}, "values": [{"name": "4"}]},
    ]
    shopper = await sandbox.execute(PRODUCT, {"id": product.global_id})
    assert [a["attribute"]["slug"] for a in shopper["data"]["product"]["attributes"]] == ["brand"]


async def test_a_fulfilment_that_completes_the_order_is_approved_too(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    """saleor/order/actions.py `order_fulfilled`: FULFILLMENT_CREATED, then FULFILLMENT_APPROVED
    once the order is FULFILLED, then ORDER_UPDATED and ORDER_FULFILLED; `create_fulfillments`
    sends FULFILLMENT_TRACKING_NUMBER_UPDATED before them for a fulfilment with a number."""
    mug = sandbox.store.create_product(
        "Mug", [VariantSpec(sku="MUG", price=5, quantity=10)]
    ).variants[0]
    order = await sandbox.create_order(lines=[sandbox.order_line(mug, 3)], email="f@x.test")
    [line] = sandbox.store.get_order(order.id).lines
    emitted.clear()
    await sandbox.fulfill_order(order, "T-1", quantities={line.id: 1})
    assert emitted == [
        "FULFILLMENT_TRACKING_NUMBER_UPDATED",
        "FULFILLMENT_CREATED",
        "ORDER_UPDATED",
    ]
    emitted.clear()
    await sandbox.fulfill_order(order, quantities={line.id: 1})  # no tracking number
    assert emitted == ["FULFILLMENT_CREATED", "ORDER_UPDATED"]
    emitted.clear()
    await sandbox.fulfill_order(order, "T-2", quantities={line.id: 1})
    assert emitted == [
        "FULFILLMENT_TRACKING_NUMBER_UPDATED",
        "FULFILLMENT_CREATED",
        "FULFILLMENT_APPROVED",
        "ORDER_UPDATED",
        "ORDER_FULFILLED",
    ]


async def test_a_shipment_or_return_saves_the_order_only_when_its_status_changes(
    sandbox: SaleorSandbox,
) -> None:
    """saleor/order/utils.py `update_order_status` (from `order_fulfilled` and `order_returned`,
    tag 3.20.119): `updatedAt` moves with the status only, so a second partial shipment or a
    second partial return leaves it."""
    mug = sandbox.store.create_product("Mug", [VariantSpec(sku="MUG", price=5)]).variants[0]
    order = await sandbox.create_order(lines=[sandbox.order_line(mug, 4)], email="f@x.test")
    current = sandbox.store.get_order(order.id)
    [line] = current.lines

    def dated_back() -> datetime:
        current.updated_at -= timedelta(days=1)
        return current.updated_at

    before = dated_back()
    await sandbox.fulfill_order(current, "T-1", quantities={line.id: 1})
    assert current.status is OrderStatus.PARTIALLY_FULFILLED and current.updated_at > before
    before = dated_back()
    await sandbox.fulfill_order(current, "T-2", quantities={line.id: 1})
    assert current.status is OrderStatus.PARTIALLY_FULFILLED and current.updated_at == before
    await sandbox.return_products(current, fulfilled={line.id: 1})
    assert current.status is OrderStatus.PARTIALLY_RETURNED and current.updated_at > before
    before = dated_back()
    await sandbox.return_products(current, fulfilled={line.id: 1})
    assert current.status is OrderStatus.PARTIALLY_RETURNED and current.updated_at == before


async def test_cancelling_a_shipment_unfulfils_its_lines_once(sandbox: SaleorSandbox) -> None:
    """saleor/order/actions.py `cancel_fulfillment`: the shipment CANCELED, its quantities no
    longer fulfilled, the order's status worked out again (and saved with `updatedAt`); a
    shipment already cancelled is refused (`Fulfillment.can_edit`), nothing changed."""
    mug = sandbox.store.create_product("Mug", [VariantSpec(sku="MUG", price=5)]).variants[0]
    order = await sandbox.create_order(lines=[sandbox.order_line(mug, 3)], email="c@x.test")
    current = sandbox.store.get_order(order.id)
    [line] = current.lines
    await sandbox.fulfill_order(current, "T-1", quantities={line.id: 1})
    await sandbox.fulfill_order(current, "T-2", quantities={line.id: 2})
    first, second = current.fulfillments
    assert current.status is OrderStatus.FULFILLED
    current.updated_at -= timedelta(days=1)
    before = current.updated_at
    await sandbox.cancel_fulfillment(current, second)
    assert second.status is FulfillmentStatus.CANCELED and second.lines == {line.id: 2}
    # `events.fulfillment_canceled_event`: the order's history says when.
    assert current.events[-1].type is OrderEventType.FULFILLMENT_CANCELED
    assert line.quantity_fulfilled == 1
    assert current.status is OrderStatus.PARTIALLY_FULFILLED and current.updated_at > before
    await sandbox.cancel_fulfillment(current, first)
    assert line.quantity_fulfilled == 0 and current.status is OrderStatus.UNFULFILLED
    with pytest.raises(FulfillmentCancelRefused, match="can't be canceled"):
        await sandbox.cancel_fulfillment(current, first)
    assert line.quantity_fulfilled == 0
    # Shipped again: a third shipment, numbered after the cancelled ones.
    await sandbox.fulfill_order(current, "T-3")
    assert current.status is OrderStatus.FULFILLED
    assert current.fulfillments[-1].fulfillment_order == 3
