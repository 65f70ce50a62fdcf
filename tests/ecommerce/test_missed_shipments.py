"""A shipment's change made while Saleor delivered nothing to the app (deactivated, an outage)
reaches Mailchimp with the catch-up, though it leaves the order's `updatedAt` as it was: Saleor's
`fulfillmentUpdateTracking` saves the fulfilment only, and a shipment or a return saves the order
only when its status changes (saleor/order/utils.py `update_order_status`, tag 3.20.119), so the
`updatedAt` listing misses both (addon/installations/replay.py, SHIPMENTS)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from addon.clock import ManualClock
from addon.db.types import utcnow
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.installations.models import Installation, ReceiverHeartbeat
from addon.installations.outage import HEARTBEAT_SECONDS, RETRIES_END, beat
from addon.installations.replay import SHIPMENT_EVENT, SHIPMENTS_HORIZON
from addon.jobs.models import Job
from sandboxes.saleor.fulfillments import create_fulfillment
from sandboxes.saleor.order_models import Order, OrderStatus
from sandboxes.transport import HostRoutingTransport
from tests.ecommerce.conftest import Shop

OUTAGE = 240.0


async def _order(shop: Shop, **fields: object) -> Order:
    product = await shop.product("Tea", "4.00", "6.00")
    order = await shop.saleor.create_order(
        lines=[
            shop.saleor.order_line(product.variants[0], 1),
            shop.saleor.order_line(product.variants[1], 2),
        ],
        email="tea@example.com",
        **fields,
    )
    await shop.drain()
    return order


def _dated_back(shop: Shop, order: Order, days: float) -> datetime:
    """The order last saved `days` ago (beyond the catch-up's margin), as Saleor keeps it."""
    stored = shop.saleor.store.get_order(order.id)
    stored.updated_at = utcnow() - timedelta(days=days)
    return stored.updated_at


async def _deactivated(shop: Shop) -> None:
    await shop.saleor.set_app_active(shop.app, False)  # APP_STATUS_CHANGED: paused at once
    async with shop.services.db.session() as session:
        installation = (await session.execute(select(Installation))).scalar_one()
    assert installation.is_active is False and installation.missed_since is not None


async def _activated(shop: Shop) -> None:
    await shop.saleor.set_app_active(shop.app, True)
    await shop.drain()


async def _replayed_shipments(shop: Shop) -> list[str]:
    """The orders the catch-up replayed as shipped."""
    async with shop.services.db.session() as session:
        payloads = (await session.execute(select(Job.payload))).scalars()
        return [
            p["body"]["order"]["id"]
            for p in payloads
            if p.get("replayed") and p.get("event") == SHIPMENT_EVENT
        ]


async def test_a_tracking_number_added_while_deactivated_reaches_mailchimp(shop: Shop) -> None:
    order = await _order(shop)
    await shop.saleor.fulfill_order(order)
    await shop.drain()
    assert shop.orders()[str(order.id)].tracking_number == ""
    [fulfillment] = shop.saleor.store.get_order(order.id).fulfillments
    before = _dated_back(shop, order, 1)

    await _deactivated(shop)
    await shop.saleor.update_tracking_number(order, fulfillment, "RM123456785GB")
    await shop.drain()
    assert shop.saleor.store.get_order(order.id).updated_at == before  # as in Saleor
    await _activated(shop)

    mc = shop.orders()[str(order.id)]
    assert (mc.fulfillment_status, mc.tracking_number) == ("shipped", "RM123456785GB")


async def test_each_pause_pushes_a_shipped_order_again(shop: Shop) -> None:
    """The same order, unchanged in what the listing reads, is a new delivery at each
    catch-up (stored once per delivery): the second tracking number is not taken for the
    first one's replay."""
    order = await _order(shop)
    await shop.saleor.fulfill_order(order)
    await shop.drain()
    [fulfillment] = shop.saleor.store.get_order(order.id).fulfillments
    _dated_back(shop, order, 2)
    for number in ("RM-1", "RM-2"):
        await _deactivated(shop)
        await shop.saleor.update_tracking_number(order, fulfillment, number)
        await _activated(shop)
        assert shop.orders()[str(order.id)].tracking_number == number


async def test_a_second_partial_shipment_while_deactivated_reaches_mailchimp(shop: Shop) -> None:
    order = await _order(shop)
    first, second = shop.saleor.store.get_order(order.id).lines
    await shop.saleor.fulfill_order(order, "T1", quantities={first.id: 1})
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.fulfillment_status, mc.tracking_number) == ("partially_shipped", "T1")
    before = _dated_back(shop, order, 3)

    await _deactivated(shop)
    await shop.saleor.fulfill_order(order, "T2", quantities={second.id: 1})
    stored = shop.saleor.store.get_order(order.id)
    assert stored.status is OrderStatus.PARTIALLY_FULFILLED and stored.updated_at == before
    await _activated(shop)

    mc = shop.orders()[str(order.id)]
    assert (mc.fulfillment_status, mc.tracking_number) == ("partially_shipped", "T2")


async def test_a_shipped_order_nothing_changed_of_is_read_again_and_not_sent(shop: Shop) -> None:
    order = await _order(shop)
    await shop.saleor.fulfill_order(order, "T1")
    _dated_back(shop, order, 1)
    # The same number again: Mailchimp holds the order as it stands, its `updatedAt` included.
    [fulfillment] = shop.saleor.store.get_order(order.id).fulfillments
    await shop.saleor.update_tracking_number(order, fulfillment, "T1")
    await shop.drain()
    writes = len(shop.writes())

    await _deactivated(shop)
    await _activated(shop)

    assert await _replayed_shipments(shop) == [order.global_id]
    # Pushed again, and its fingerprint is what Mailchimp holds: nothing sent.
    assert [w for w in shop.writes()[writes:] if "/orders/" in w] == []
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED


async def test_an_order_created_before_the_horizon_is_not_read_again(shop: Shop) -> None:
    async with shop.services.db.transaction() as session:  # installed long ago
        await session.execute(
            update(Installation).values(installed_at=utcnow() - SHIPMENTS_HORIZON * 3)
        )
    old, recent = await _order(shop), await _order(shop)
    for order in (old, recent):
        await shop.saleor.fulfill_order(order)
    await shop.drain()
    # The old one placed just beyond the horizon before the pause (the margin and a day more:
    # Saleor's filter compares days), shipped since.
    horizon = utcnow() - SHIPMENTS_HORIZON
    shop.saleor.store.get_order(old.id).created = horizon - timedelta(days=2)
    shop.saleor.store.get_order(recent.id).created = horizon + timedelta(days=1)
    for order in (old, recent):
        _dated_back(shop, order, 1)

    await _deactivated(shop)
    for order in (old, recent):
        [fulfillment] = shop.saleor.store.get_order(order.id).fulfillments
        await shop.saleor.update_tracking_number(order, fulfillment, f"RM-{order.id}")
    await _activated(shop)

    assert await _replayed_shipments(shop) == [recent.global_id]
    assert shop.orders()[str(recent.id)].tracking_number == f"RM-{recent.id}"
    assert shop.orders()[str(old.id)].tracking_number == ""  # at its next change


async def test_an_order_placed_before_the_installation_is_not_sent(shop: Shop) -> None:
    """Saleor never delivered it, and the initial sync was not asked to send it: pushed, a
    shipped order would reach the shopper's inbox (Mailchimp's shipping confirmation)."""
    product = await shop.product("Tea", "4.00")
    await shop.drain()
    store = shop.saleor.store
    placed = store.create_order(  # no event: before the app was there
        lines=[shop.saleor.order_line(product.variants[0], 1)], email="tea@example.com"
    )
    create_fulfillment(store.next_id, placed, "T1")
    placed.created = placed.updated_at = utcnow() - timedelta(days=2)

    await _deactivated(shop)
    await _activated(shop)

    assert await _replayed_shipments(shop) == []
    assert str(placed.id) not in shop.orders()


async def test_a_tracking_number_added_during_an_outage_reaches_mailchimp(
    shop: Shop, clock: ManualClock, network: HostRoutingTransport
) -> None:
    shop.services.settings = shop.services.settings.model_copy(
        update={"webhook_outage_seconds": OUTAGE}
    )
    order = await _order(shop)
    await shop.saleor.fulfill_order(order)
    await shop.drain()
    [fulfillment] = shop.saleor.store.get_order(order.id).fulfillments
    _dated_back(shop, order, 1)
    await beat(shop.services)
    async with shop.services.db.session() as session:
        assert await session.get(ReceiverHeartbeat, 1) is not None

    app = network.remove("app.test")  # every web process down: the delivery is lost
    await shop.saleor.update_tracking_number(order, fulfillment, "RM123456785GB")
    network.add("app.test", app)

    clock.advance(OUTAGE + 60)
    assert await beat(shop.services) == 1
    for _ in range(int(RETRIES_END.total_seconds() // HEARTBEAT_SECONDS)):
        clock.advance(HEARTBEAT_SECONDS)
        await beat(shop.services)
    await shop.drain()
    assert shop.orders()[str(order.id)].tracking_number == "RM123456785GB"
