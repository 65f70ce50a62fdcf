"""What e-commerce does when Mailchimp is connected again to the same account (connection's
`connection.resumed` event, after a revoked key or a reset).

While the account could not be reached, each push ended at once (`sync.push_job`: nothing can
be sent without it), leaving its record pending with no job; nothing else would send it (the
initial sync skips a pending record, whose live push it takes to be queued). So each such
record of a channel changes are pushed to gets its push again, a page of records at a time,
through the one way pushes are queued (`push_queue.enqueue_pushes`; each sends only what
changed, and many at once go out as a burst). Not the records a push or a burst holds (they go
anyway), nor those of a channel whose store or Saleor channel is missing: those are parked
until the admin re-creates the store or the channel is back (`store_state.py`,
`channel_presence.py`), which queues them then.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.linking import RESUMED_KIND
from addon.ecommerce.models import PUSH_JOB, BurstBatch, EntityKind, SyncRecord, SyncStatus
from addon.ecommerce.push_queue import enqueue_pushes, ledger_key
from addon.ecommerce.stores_repository import StoreRepository
from addon.jobs.models import Job
from addon.jobs.registry import HandlerRegistry
from addon.jobs.schemas import ClaimedJob, NoPayload
from addon.jobs.statements import UNFINISHED
from addon.services import Services

logger = logging.getLogger(__name__)

PAGE = 500  # records read, and their pushes queued, per transaction

Key = tuple[str, EntityKind, str]


async def handle_resumed(job: ClaimedJob, _: NoPayload, services: Services) -> None:
    installation_id = job.installation_id
    async with services.db.session() as session:
        channels = await _sending_channels(session, installation_id)
        in_bursts = await _in_bursts(session, installation_id)
    after, queued = 0, 0
    while channels:
        async with services.db.transaction() as session:
            rows = (
                await session.execute(
                    select(
                        SyncRecord.id,
                        SyncRecord.channel_slug,
                        SyncRecord.kind,
                        SyncRecord.saleor_id,
                    )
                    .where(
                        SyncRecord.installation_id == installation_id,
                        SyncRecord.status == SyncStatus.PENDING,
                        SyncRecord.channel_slug.in_(channels),
                        SyncRecord.id > after,
                    )
                    .order_by(SyncRecord.id)
                    .limit(PAGE)
                )
            ).all()
            if not rows:
                break
            after = rows[-1].id
            keys = [(channel, kind, saleor_id) for _, channel, kind, saleor_id in rows]
            unqueued = await _without_push(session, installation_id, keys)
            left = [key for key in unqueued if key not in in_bursts]
            await enqueue_pushes(session, installation_id, left)
            queued += len(left)
    if queued:
        logger.info(
            "Installation %s reconnected to Mailchimp: %d record(s) that could not be sent "
            "meanwhile queued",
            installation_id,
            queued,
        )


async def _sending_channels(session: AsyncSession, installation_id: int) -> list[str]:
    """The channels changes are pushed to, but those whose pushes are parked."""
    stores = StoreRepository(session)
    pushing = set(await stores.pushing_channels(installation_id))
    return [
        store.channel_slug
        for store in await stores.tracked(installation_id)
        if store.channel_slug in pushing
        and store.missing_since is None
        and store.channel_missing_since is None
    ]


async def _in_bursts(session: AsyncSession, installation_id: int) -> set[Key]:
    """The records a burst holds (its batch being read, at Mailchimp, or held)."""
    rows = await session.execute(
        select(BurstBatch.channel_slug, BurstBatch.kind, BurstBatch.records).where(
            BurstBatch.installation_id == installation_id
        )
    )
    return {(channel, kind, saleor_id) for channel, kind, records in rows for saleor_id in records}


async def _without_push(session: AsyncSession, installation_id: int, keys: list[Key]) -> list[Key]:
    """Those of `keys` whose push is neither queued nor running (a push's lane is its record's
    ledger key, `push_queue.py`)."""
    lanes = {ledger_key(*key): key for key in keys}
    busy = set(
        await session.scalars(
            select(Job.lane).where(
                Job.installation_id == installation_id,
                Job.lane.in_(sorted(lanes)),
                Job.kind == PUSH_JOB,
                Job.status.in_(UNFINISHED),
            )
        )
    )
    return [key for lane, key in lanes.items() if lane not in busy]


def register(registry: HandlerRegistry[Services]) -> None:
    registry.register(RESUMED_KIND, handle_resumed, payload=NoPayload)
