"""From the initial sync to live sync: both build bodies and ledger fingerprints with the same
code (addon/ecommerce/fingerprints.py), so an entity the initial sync sent is not sent again by
live sync while it has not changed, and a real change is still sent. On PostgreSQL, live sync's
lookups in the ledger the sync filled are planned from fresh statistics."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import text

from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import EntityKind, Fingerprint, SyncStatus
from sandboxes.saleor.order_models import OrderStatus
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import finish, start


async def _fingerprints(shop: Shop, entities: list[tuple[EntityKind, str]]) -> list[Fingerprint]:
    prints = []
    for kind, saleor_id in entities:
        record = await shop.record(kind, saleor_id)
        assert record is not None and record.status is SyncStatus.SYNCED, (kind, saleor_id)
        prints.append(record.fingerprint)
    return prints


async def test_an_entity_sent_by_the_initial_sync_is_not_sent_again_by_live_sync(
    small: Shop,
) -> None:
    shop = small
    shop.saleor.generate_store(products=8, customers=10, orders=12, seed=5)
    store = shop.saleor.store
    await start(shop)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    products = list(store.products.values())
    customers = [c for c in store.customers.values() if not c.is_staff]
    orders = [o for o in store.orders.values() if o.status is not OrderStatus.DRAFT]
    entities = [
        *((EntityKind.PRODUCT, p.global_id) for p in products),
        *((EntityKind.CUSTOMER, c.global_id) for c in customers),
        *((EntityKind.ORDER, o.global_id) for o in orders),
    ]
    sent = await _fingerprints(shop, entities)
    # Confirmed by the batches with their content (not "already exists": content unknown).
    assert all(fingerprint.content_hash for fingerprint in sent)
    writes = len(shop.writes())

    # Saleor tells the app about every one of them, with nothing changed.
    for product in products:
        await shop.saleor.emit("PRODUCT_UPDATED", product)
    for customer in customers:
        await shop.saleor.emit("CUSTOMER_UPDATED", customer)
    for order in orders:
        await shop.saleor.emit("ORDER_UPDATED", order)
    await shop.drain()

    assert shop.writes()[writes:] == []
    assert await _fingerprints(shop, entities) == sent

    # A real change still goes out, and only that one.
    changed = products[0]
    await shop.saleor.update_product(changed, name="Renamed after the initial sync")
    await shop.drain()
    assert shop.writes()[writes:] == [f"PATCH /products/{changed.id}"]
    assert shop.products()[str(changed.id)].title == "Renamed after the initial sync"


async def test_a_finished_sync_refreshes_the_ledgers_statistics_on_postgresql(
    small: Shop,
) -> None:
    """It wrote a ledger record per entity: PostgreSQL plans live sync's lookups by id from
    statistics that have seen them (`Database.analyze`), not from those of an empty table."""
    shop = small
    if shop.services.db.is_sqlite:
        pytest.skip("PostgreSQL's planner statistics")
    shop.saleor.generate_store(products=20, customers=0, orders=0, seed=3)

    async def analysed() -> datetime | None:
        async with shop.services.db.session() as session:
            return await session.scalar(
                text(
                    "SELECT last_analyze FROM pg_stat_user_tables"
                    " WHERE relname = 'ecommerce_sync_records'"
                )
            )

    before = await analysed()
    await start(shop)
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    after = await analysed()
    assert after is not None and (before is None or after > before)
