"""Two pushes of one channel right after a re-installation, both with the context they loaded
before the store was adopted (`uuid_orders_before` None): whichever of them adopts the store
(`store_pusher._adopt_orders`), each sends the orders Mailchimp holds under their UUID under the
same ids, never as second orders under their number (`sale_payloads.order_id`). The pushes'
interleaving is driven explicitly (events held in their adoption, or one after the other), not
left to the scheduler. A burst goes through the same `ensure_store` before it plans orders."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import delete, select, update

from addon.connection.service import mailchimp_for
from addon.db.types import utcnow
from addon.ecommerce.context import Context, load_context
from addon.ecommerce.models import EntityKind, MailchimpStore, SyncRecord
from addon.ecommerce.payloads import mailchimp_id
from addon.ecommerce.push_request import PushRequest
from addon.ecommerce.pusher import Pusher
from addon.ecommerce.store_pusher import StorePusher
from addon.installations.models import Installation
from sandboxes.saleor import Order
from tests.ecommerce.conftest import CHANNEL, Shop


async def _held_under_uuids(shop: Shop) -> tuple[Order, Order]:
    """Two orders a previous installation sent under their UUID (an earlier version's), then a
    re-installation's start: no ledger, a store row marked nothing."""
    async with shop.services.db.transaction() as session:
        # An earlier version's store: every order goes under its UUID.
        ahead = utcnow() + timedelta(days=1)
        await session.execute(update(MailchimpStore).values(uuid_orders_before=ahead))
    product = await shop.product("Medlar", "3.00")
    ann = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    bea = await shop.saleor.create_customer("bea@example.com", "Bea", "Ray")
    first = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=ann
    )
    second = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 2)], user=bea
    )
    await shop.drain()
    assert set(shop.orders()) == {mailchimp_id(first.global_id), mailchimp_id(second.global_id)}
    async with shop.services.db.transaction() as session:
        await session.execute(delete(SyncRecord))
        await session.execute(update(MailchimpStore).values(uuid_orders_before=None))
    return first, second


async def _context(shop: Shop) -> Context:
    async with shop.services.db.session() as session:
        installation_id = (await session.execute(select(Installation.id))).scalar_one()
    context = await load_context(shop.services, installation_id, CHANNEL)
    assert context is not None and context.uuid_orders_before is None
    return context


def _order(order: Order) -> PushRequest:
    return PushRequest(channel=CHANNEL, kind=EntityKind.ORDER, saleor_id=order.global_id)


async def test_the_push_that_did_not_record_the_adoption_sends_no_second_order(
    shop: Shop,
) -> None:
    """Both pushes find the store unsynced and go to adopt it; one records the cutoff first and
    is held there (before it records the store synced), the other adopts after it and finds a
    cutoff recorded: it must go by that one, not by the None it loaded."""
    first, second = await _held_under_uuids(shop)
    held = set(shop.orders())
    leading, trailing = await _context(shop), await _context(shop)
    both_adopting, ahead_adopted, behind_done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    async with mailchimp_for(shop.services, leading.installation_id) as client:
        ahead = Pusher(shop.services, leading, client)
        behind = Pusher(shop.services, trailing, client)

        async def ahead_adopts() -> None:
            await both_adopting.wait()  # the other read the store unsynced too
            await StorePusher._adopt_orders(ahead)
            ahead_adopted.set()
            await behind_done.wait()

        async def behind_adopts() -> None:
            both_adopting.set()
            await ahead_adopted.wait()
            await StorePusher._adopt_orders(behind)

        def behind_ended(_: object) -> None:  # even failed: the other is never left waiting
            both_adopting.set()
            behind_done.set()

        ahead._adopt_orders = ahead_adopts  # type: ignore[method-assign]
        behind._adopt_orders = behind_adopts  # type: ignore[method-assign]
        behind_push = asyncio.create_task(behind.push(_order(second)))
        behind_push.add_done_callback(behind_ended)
        ahead_push = asyncio.create_task(ahead.push(_order(first)))
        ahead_push.add_done_callback(lambda _: ahead_adopted.set())
        await asyncio.gather(behind_push, ahead_push)
    assert sorted(shop.orders()) == sorted(held)  # no second order under a number


async def test_a_push_that_finds_the_store_adopted_since_it_began_sends_no_second_order(
    shop: Shop,
) -> None:
    """One push adopts the store and records it synced while another, begun before, waits:
    that one finds the store synced and pushes no store, with the cutoff it loaded (None)."""
    first, second = await _held_under_uuids(shop)
    held = set(shop.orders())
    leading, trailing = await _context(shop), await _context(shop)
    async with mailchimp_for(shop.services, leading.installation_id) as client:
        await Pusher(shop.services, leading, client).push(_order(first))
        await Pusher(shop.services, trailing, client).push(_order(second))
    assert sorted(shop.orders()) == sorted(held)  # no second order under a number
