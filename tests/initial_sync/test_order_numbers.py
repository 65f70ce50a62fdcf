"""Orders reach Mailchimp under their number (#1042), which Mailchimp shows in order
notifications and reports, not Saleor's UUID; orders a store may hold under their UUID keep it,
or each would be a second order (`sale_payloads.order_id`)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import delete, update

from addon.db.types import utcnow
from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import MailchimpStore, SyncRecord
from addon.ecommerce.payloads import mailchimp_id
from sandboxes.saleor.order_models import OrderStatus
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import finish, start

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def _uuid_orders_before(shop: Shop, value: object) -> None:
    async with shop.services.db.transaction() as session:
        await session.execute(update(MailchimpStore).values(uuid_orders_before=value))


async def test_orders_go_by_their_number_and_saleors_id_is_a_uuid(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=3, customers=2, orders=4, seed=5)
    await start(shop)
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    orders = [o for o in shop.saleor.store.orders.values() if o.status is not OrderStatus.DRAFT]
    assert all(UUID.fullmatch(mailchimp_id(o.global_id)) for o in orders)
    assert set(shop.orders()) == {str(o.number) for o in orders}


async def test_an_upgraded_store_keeps_the_uuids_of_orders_placed_before(small: Shop) -> None:
    """Every store from before the change may hold orders under their UUID: an order placed
    before the upgrade keeps it, a later one goes by its number."""
    shop = small
    product = await shop.product("Fig", "2.00")
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    old = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer
    )
    await _uuid_orders_before(shop, utcnow() + timedelta(days=1))  # as migration 0033 sets it
    await shop.drain()
    assert set(shop.orders()) == {mailchimp_id(old.global_id)}

    await _uuid_orders_before(shop, utcnow() - timedelta(days=1))
    new = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer
    )
    await shop.saleor.add_order_note(old, "call first")
    await shop.drain()
    assert set(shop.orders()) == {mailchimp_id(old.global_id), str(new.number)}


async def test_a_store_adopted_from_a_previous_installation_gets_no_second_orders(
    small: Shop,
) -> None:
    """A re-installation finds the store (same id) with the previous installation's orders
    under their UUIDs: its sync sends those orders under the same ids, not as new ones."""
    shop = small
    shop.saleor.generate_store(products=3, customers=2, orders=4, seed=7)
    await _uuid_orders_before(shop, utcnow() + timedelta(days=1))  # an earlier version
    await start(shop)
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    held = set(shop.orders())
    assert held and all(UUID.fullmatch(order_id) for order_id in held)
    # Upgraded since: a later order went by its number (the store holds both kinds).
    await _uuid_orders_before(shop, utcnow())
    product = next(iter(shop.saleor.store.products.values()))
    later = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)],
        user=await shop.saleor.create_customer("later@example.com", "La", "Ter"),
    )
    await shop.drain()
    held.add(str(later.number))
    assert set(shop.orders()) == held

    # The re-installation starts afresh: no ledger, a store row marked nothing.
    async with shop.services.db.transaction() as session:
        await session.execute(delete(SyncRecord))
    await _uuid_orders_before(shop, None)
    await start(shop)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert set(shop.orders()) == held

    # Orders placed from now on go by their number.
    customer = await shop.saleor.create_customer("new@example.com", "New", "Buyer")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer
    )
    await shop.drain()
    assert str(order.number) in shop.orders()
    assert len(shop.orders()) == len(held) + 1
