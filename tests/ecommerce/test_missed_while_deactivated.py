"""What changed in Saleor while the app was deactivated reaches Mailchimp once it is activated
again: Saleor delivers nothing to an inactive app and sends nothing of it later."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from sqlalchemy import select

from addon.ecommerce.models import EntityKind, SyncStatus
from addon.installations.models import Installation
from addon.installations.replay import REPLAY_JOB
from addon.jobs.models import Job
from addon.jobs.repository import JobRepository
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop


async def _deactivated(shop: Shop) -> None:
    await shop.saleor.set_app_active(shop.app, False)  # APP_STATUS_CHANGED: paused at once
    async with shop.services.db.session() as session:
        installation = (await session.execute(select(Installation))).scalar_one()
    assert installation.is_active is False and installation.missed_since is not None


async def _activated(shop: Shop) -> None:
    await shop.saleor.set_app_active(shop.app, True)
    await shop.drain()


async def test_changes_made_while_deactivated_reach_mailchimp_once_activated(shop: Shop) -> None:
    kept = await shop.product("Kiwi", "3.00")
    untouched = await shop.product("Fig", "2.00")
    renamed = await shop.product("Plum", "4.00")
    gone = await shop.product("Pear", "5.00")
    restocked = await shop.product("Lime", "1.00")
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    await shop.drain()
    writes_before = len(shop.writes())
    kiwis = shop.products()[str(kept.id)].variants[0].inventory_quantity

    await _deactivated(shop)
    await shop.saleor.update_product(renamed, name="Damson")
    await shop.saleor.delete_product(gone)
    await shop.saleor.update_variant(restocked.variants[0], quantity=7)
    await shop.saleor.update_customer(customer, first_name="Anna")
    newcomer = await shop.saleor.create_customer("bo@example.com", "Bo", "Ng")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(kept.variants[0], 2)], user=newcomer
    )
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(kept.variants[0].id, 1)], email="cy@example.com"
    )
    await shop.drain()
    assert len(shop.writes()) == writes_before  # paused: nothing reaches Mailchimp

    await _activated(shop)
    products = shop.products()
    assert products[str(renamed.id)].title == "Damson"
    assert all(v.visibility == "hidden" for v in products[str(gone.id)].variants)
    assert products[str(restocked.id)].variants[0].inventory_quantity == 7
    customers = {c.id: c for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    assert customers[str(customer.id)].first_name == "Anna"
    assert customers[str(newcomer.id)].email_address == "bo@example.com"
    assert shop.orders()[str(order.id)].customer.id == str(newcomer.id)
    assert shop.carts()[str(checkout.token)].customer.email_address == "cy@example.com"
    # The order's 2 units are allocated (saleor/warehouse/management.py `allocate_stocks`), with
    # no product webhook: its push sends the stock.
    assert shop.products()[str(kept.id)].variants[0].inventory_quantity == kiwis - 2
    # The product nobody touched is read again but not sent again.
    sent = [w.split("/")[2:3] for w in shop.writes()[writes_before:]]
    assert [str(untouched.id)] not in sent
    record = await shop.record(EntityKind.PRODUCT, untouched.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED


async def test_a_store_never_deactivated_replays_nothing(shop: Shop) -> None:
    await shop.product("Kiwi", "3.00")
    await shop.drain()
    await shop.saleor.set_app_active(shop.app, True)  # already active: nothing missed
    await shop.drain()
    async with shop.services.db.session() as session:
        kinds = set((await session.execute(select(Job.kind))).scalars())
    assert not {k for k in kinds if k.startswith("installation.replay")}


async def test_checkouts_saleor_changed_at_one_moment_are_each_replayed(shop: Shop) -> None:
    """Saleor sets `last_change` of many checkouts at once (a shipping method deleted), and
    its default `checkouts` ordering skips such a moment's checkouts across a page boundary
    (the sandbox's `default_checkouts_page`): the catch-up reads them in creation order."""
    kept = await shop.product("Kiwi", "3.00")
    await shop.drain()
    await _deactivated(shop)
    checkouts = [
        await shop.saleor.create_checkout(
            lines=[LineSpec(kept.variants[0].id, 1)], email=f"c{i}@example.com"
        )
        for i in range(101)  # a page of 100 and one more
    ]
    moment = checkouts[-1].last_change
    for checkout in checkouts:
        checkout.last_change = moment
    await _activated(shop)
    assert set(shop.carts()) == {str(c.token) for c in checkouts}


async def test_a_checkouts_replay_left_by_the_earlier_ordering_starts_again(shop: Shop) -> None:
    """A replay job an earlier version left holds a cursor of Saleor's default ordering
    ([last_change, pk]), of the same shape as a creation-date cursor: read as one it would skip
    every checkout still to replay (each created before it changed). It starts again."""
    kept = await shop.product("Kiwi", "3.00")
    checkouts = [
        await shop.saleor.create_checkout(
            lines=[LineSpec(kept.variants[0].id, 1)], email=f"c{i}@example.com"
        )
        for i in range(3)
    ]
    await shop.drain()
    for checkout in checkouts:
        await shop.mailchimp.call(
            shop.account, "DELETE", f"/ecommerce/stores/{shop.store_id}/carts/{checkout.token}"
        )
    newest = max(checkouts, key=lambda c: c.last_change)
    old_cursor = base64.b64encode(
        json.dumps([str(newest.last_change), str(newest.token)]).encode()
    ).decode()
    payload = {
        "since": (newest.last_change - timedelta(hours=1)).isoformat(),
        "source": "checkouts",
        "after": old_cursor,
    }  # as the earlier version wrote it: no `ordering`
    async with shop.services.db.transaction() as session:
        installation = (await session.execute(select(Installation))).scalar_one()
        await JobRepository(session).enqueue(installation.id, REPLAY_JOB, payload)
    await shop.drain()
    assert set(shop.carts()) == {str(c.token) for c in checkouts}
