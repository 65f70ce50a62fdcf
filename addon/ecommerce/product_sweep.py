"""Products Saleor deleted without a word: found once a day, hidden in Mailchimp.

`productTypeDelete` and `productTypeBulkDelete` delete the type's products by CASCADE
(saleor/product/models.py `Product.product_type`, on_delete=CASCADE) and send no product or
variant webhook (saleor/graphql/product/mutations/product_type/product_type_delete.py,
bulk_mutations/product_type_bulk_delete.py, 3.20.119 and 3.23.28: there is no PRODUCT_TYPE_*
event at all before 3.24, whose PRODUCT_TYPE_DELETED is about the type alone). Those products
stayed in Mailchimp, visible and in stock, for good: recommended in e-mails nobody can buy from.

Once a day (`daily_sweep.SWEEP_EVERY`), the products each tracked channel's store holds (synced, or
quarantined after a later change failed) are looked up in Saleor by id, a page at a time
(`burst_read.read_by_ids`, with no channel: every product Saleor has, as the app holds
MANAGE_PRODUCTS; saleor/product/managers.py `ProductsQueryset.visible_to_user`). Each one Saleor
no longer has gets a push (`push_queue.enqueue_pushes`), which reads it, finds it gone and hides
it (`CatalogPusher.push_product`: inventory 0, hidden, recorded removed, as for PRODUCT_DELETED),
so the next day's sweep leaves it out. A placeholder of a deleted variant (`orphans.py`) is no
Saleor product and is not looked up. While Mailchimp is not connected, or the channel's store or
Saleor channel is missing, the sweep only waits for the next day (their pushes wait too).

The sweep also reads Saleor's channel list (one query an installation) and notes each tracked
channel's activation or deactivation as the E-commerce page's load does
(`channel_presence.note_activity`: a change re-pushes the channel's products, hidden while it is
inactive), for Saleor tells apps of it only by CHANNEL_STATUS_CHANGED, sent to MANAGE_CHANNELS;
and reads Saleor's product types, to push again the products of a type renamed since the last
read (`product_type_names.py`: a rename sends them no event); and reads Saleor's tax settings, to
re-price a channel whose prices they changed (`tax_settings.py`: such a change sends no event).

It is queued with the daily cart sweep (`cart_sweep.schedule_sweep`: a channel tracked, tracking
on again, a process start, each cart sweep) and queues its next run itself while the
installation tracks a channel.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce.burst_read import read_by_ids
from addon.ecommerce.channel_presence import listed_as, note_activity, saleor_channels
from addon.ecommerce.context import Context
from addon.ecommerce.daily_sweep import register_daily, schedule_daily, sweep_round
from addon.ecommerce.models import EntityKind, SyncRecord, SyncStatus
from addon.ecommerce.orphans import is_placeholder_key
from addon.ecommerce.product_type_names import note_type_names
from addon.ecommerce.push_queue import enqueue_pushes
from addon.ecommerce.stores_repository import StoreRepository
from addon.ecommerce.tax_settings import note_tax_settings
from addon.jobs.completion import complete_in
from addon.jobs.registry import HandlerRegistry
from addon.jobs.schemas import ClaimedJob, NoPayload
from addon.services import Services

logger = logging.getLogger(__name__)

PRODUCT_SWEEP_JOB = "ecommerce.product_sweep"


async def schedule_product_sweep(
    session: AsyncSession, installation_id: int, *, at: datetime | None = None
) -> None:
    """Queue the installation's next product sweep (merged into a pending one, which keeps its
    time)."""
    await schedule_daily(session, installation_id, PRODUCT_SWEEP_JOB, at=at)


async def handle_product_sweep(job: ClaimedJob, _: NoPayload, services: Services) -> None:
    sweep = await sweep_round(services, job.installation_id)
    await _note_activity(services, sweep.to_sweep)
    present = [c for c in sweep.to_sweep if not c.store_missing and not c.channel_missing]
    await note_type_names(services, present)
    await note_tax_settings(services, present)
    gone = 0
    for context in sweep.to_sweep:
        if not context.store_missing and not context.channel_missing:
            gone += await _sweep_channel(services, context)
    async with services.db.transaction() as session:
        if sweep.tracked:
            await schedule_product_sweep(session, job.installation_id)
        await complete_in(session)
    if gone:
        logger.info("%d product(s) Saleor deleted without a webhook queued to be hidden", gone)


async def _note_activity(services: Services, contexts: list[Context]) -> None:
    """Read Saleor's channel list once and note each swept channel's state (activated or
    deactivated since the last read: its products are pushed again)."""
    present = [c for c in contexts if not c.store_missing and not c.channel_missing]
    if not present:
        return
    channels = await saleor_channels(services, present[0])
    by_slug = {c.slug: c for c in channels}
    async with services.db.transaction() as session:
        for context in present:
            listed = by_slug.get(context.channel)
            store = await StoreRepository(session).get(context.installation_id, context.channel)
            if store is None or not store.tracked or listed is None:
                continue
            if listed_as(listed, store.channel_id):  # else the page or a push marks it gone
                await note_activity(session, store, listed)


async def _sweep_channel(services: Services, context: Context) -> int:
    """Look the products the channel's store holds up in Saleor, a page at a time (by Saleor
    id, along the ledger's unique index, so memory holds one page); queue a push for each one
    Saleor no longer has."""
    page = services.settings.initial_sync_page_size  # one query of `read_by_ids` a page
    after, gone = "", 0
    while True:
        async with services.db.session() as session:
            saleor_ids = list(
                await session.scalars(
                    select(SyncRecord.saleor_id)
                    .where(
                        SyncRecord.installation_id == context.installation_id,
                        SyncRecord.channel_slug == context.channel,
                        SyncRecord.kind == EntityKind.PRODUCT,
                        SyncRecord.saleor_id > after,
                        # In Mailchimp: synced, or quarantined after a later change failed.
                        SyncRecord.status.in_([SyncStatus.SYNCED, SyncStatus.QUARANTINED]),
                        SyncRecord.mailchimp_id.is_not(None),
                    )
                    .order_by(SyncRecord.saleor_id)
                    .limit(page)
                )
            )
        if not saleor_ids:
            return gone
        after = saleor_ids[-1]
        asked = [saleor_id for saleor_id in saleor_ids if not is_placeholder_key(saleor_id)]
        found = await read_by_ids(
            services, context.api_url, context.token, EntityKind.PRODUCT, asked
        )
        missing = [saleor_id for saleor_id in asked if saleor_id not in found]
        if missing:
            async with services.db.transaction() as session:
                records = [
                    (context.channel, EntityKind.PRODUCT, saleor_id) for saleor_id in missing
                ]
                await enqueue_pushes(session, context.installation_id, records)
            gone += len(missing)


def register(registry: HandlerRegistry) -> None:
    register_daily(registry, PRODUCT_SWEEP_JOB, handle_product_sweep, schedule_product_sweep)


__all__ = ["PRODUCT_SWEEP_JOB", "register", "schedule_product_sweep"]
