"""Products Mailchimp holds as an earlier version sent them are sent again at the next start
(addon/ecommerce/catalog_revision.py)."""

from __future__ import annotations

from sqlalchemy import select, update

from addon.ecommerce.catalog_revision import queue_catalog_refresh
from addon.ecommerce.models import CATALOG_REVISION, MailchimpStore
from tests.ecommerce.conftest import CHANNEL, Shop


async def _revisions(shop: Shop) -> list[int]:
    async with shop.services.db.session() as session:
        return list((await session.scalars(select(MailchimpStore.catalog_revision))).all())


async def test_a_store_of_an_older_revision_has_its_products_sent_again(shop: Shop) -> None:
    draft = await shop.product("Kiwi", "3.00")
    kept = await shop.product("Plum", "4.00")
    await shop.drain()
    assert await _revisions(shop) == [CATALOG_REVISION]  # a new store is sent as now
    assert await queue_catalog_refresh(shop.services) == 0
    # An earlier version sent the unpublished product as visible (no webhook: as it stood).
    shop.saleor.store.publish(draft, CHANNEL, is_published=False)
    async with shop.services.db.transaction() as session:
        await session.execute(update(MailchimpStore).values(catalog_revision=0))
    writes = len(shop.writes())

    assert await queue_catalog_refresh(shop.services) == 1
    await shop.drain()
    assert all(v.visibility == "hidden" for v in shop.products()[str(draft.id)].variants)
    sent = shop.writes()[writes:]
    assert sent and not [w for w in sent if f"/products/{kept.id}" in w]  # unchanged: not sent
    assert await _revisions(shop) == [CATALOG_REVISION]
    assert await queue_catalog_refresh(shop.services) == 0  # once
