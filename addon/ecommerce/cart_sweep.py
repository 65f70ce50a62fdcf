"""Carts of checkouts Saleor deleted without a word: found once a day, deleted from Mailchimp.

Saleor deletes inactive checkouts in a periodic task that sends no webhook
(saleor/checkout/tasks.py `delete_expired_checkouts` → `checkout.utils.delete_checkouts`, the
same at 3.20.119 and main): one with an e-mail after 90 days without a change
(`USER_CHECKOUTS_TIMEDELTA`, which a deployment may shorten), one emptied after 6 hours; and
`channelDelete` deletes a channel's checkouts likewise. Their carts stayed in Mailchimp for
good: counted as abandoned, their restore links dead.

Once a day (`daily_sweep.SWEEP_EVERY`), the carts Mailchimp holds whose record has not changed for
`QUIET_FOR` (a checkout changed since was there then) are looked up in Saleor, `PAGE` to a
request. Each one Saleor no longer has gets a push (`push_queue.enqueue_pushes`), which reads
the checkout, finds it gone and deletes the cart (`CartPusher.push_cart`): the one ledger path, with
its retries and its record; a quarantined cart Mailchimp holds is looked up too. While Mailchimp
is not connected the sweep only waits for the next day (its pushes could not delete anything).
It queues its next run itself while the installation tracks a channel; tracking a channel (or
e-commerce tracking again) queues one, and so does a process start for an installation that
tracks one and has none (`queue_cart_sweeps`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce.context import Context
from addon.ecommerce.daily_sweep import register_daily, schedule_daily, sweep_round
from addon.ecommerce.models import (
    EntityKind,
    MailchimpStore,
    SyncRecord,
    SyncStatus,
)
from addon.ecommerce.product_sweep import schedule_product_sweep
from addon.ecommerce.push_queue import enqueue_pushes
from addon.ecommerce.stores_repository import pushing_stores
from addon.jobs.completion import complete_in
from addon.jobs.models import Job, JobStatus
from addon.jobs.registry import HandlerRegistry
from addon.jobs.schemas import ClaimedJob, NoPayload
from addon.jobs.statements import in_state
from addon.services import Services

logger = logging.getLogger(__name__)

SWEEP_JOB = "ecommerce.cart_sweep"
QUIET_FOR = timedelta(hours=24)
PAGE = 25  # the aliases of `ecommerce_checkouts_exist.graphql`


async def schedule_sweep(
    session: AsyncSession, installation_id: int, *, at: datetime | None = None
) -> None:
    """Queue the installation's next sweep (merged into a pending one, which keeps its time),
    and its product sweep, the other daily look for what Saleor deletes without a webhook
    (`product_sweep.py`)."""
    await schedule_daily(session, installation_id, SWEEP_JOB, at=at)
    await schedule_product_sweep(session, installation_id, at=at)


async def queue_cart_sweeps(services: Services) -> None:
    """At a process start: a sweep for each installation tracking a channel that has none
    pending (one tracked before sweeps existed, or whose sweep was lost)."""
    pending = exists().where(
        Job.installation_id == MailchimpStore.installation_id,
        Job.coalesce_key == SWEEP_JOB,
        in_state(JobStatus.PENDING),
    )
    async with services.db.transaction() as session:
        installations = await session.scalars(
            pushing_stores(MailchimpStore.installation_id).where(~pending).distinct()
        )
        for installation_id in list(installations):
            await schedule_sweep(session, installation_id)


async def handle_sweep(job: ClaimedJob, _: NoPayload, services: Services) -> None:
    sweep = await sweep_round(services, job.installation_id)
    gone = 0
    for context in sweep.to_sweep:
        if not context.store_missing:
            gone += await _sweep_channel(services, context)
    async with services.db.transaction() as session:
        if sweep.tracked:
            await schedule_sweep(session, job.installation_id)
        await complete_in(session)
    if gone:
        logger.info("%d cart(s) of checkouts Saleor deleted queued for deletion", gone)


async def _sweep_channel(services: Services, context: Context) -> int:
    """Look the channel's quiet carts up in Saleor, a page at a time (by record id, so memory
    holds one page); queue a push for each one whose checkout is gone."""
    cutoff = utcnow() - QUIET_FOR
    after, gone = 0, 0
    while True:
        async with services.db.session() as session:
            rows = (
                await session.execute(
                    select(SyncRecord.id, SyncRecord.saleor_id)
                    .where(
                        SyncRecord.installation_id == context.installation_id,
                        SyncRecord.channel_slug == context.channel,
                        SyncRecord.kind == EntityKind.CART,
                        # In Mailchimp: synced, or quarantined after a later change failed.
                        SyncRecord.status.in_([SyncStatus.SYNCED, SyncStatus.QUARANTINED]),
                        SyncRecord.mailchimp_id.is_not(None),
                        SyncRecord.updated_at <= cutoff,
                        SyncRecord.id > after,
                    )
                    .order_by(SyncRecord.id)
                    .limit(PAGE)
                )
            ).all()
        if not rows:
            return gone
        after = rows[-1].id
        missing = await _missing(services, context, [saleor_id for _, saleor_id in rows])
        if missing:
            async with services.db.transaction() as session:
                records = [(context.channel, EntityKind.CART, saleor_id) for saleor_id in missing]
                await enqueue_pushes(session, context.installation_id, records)
            gone += len(missing)


async def _missing(services: Services, context: Context, saleor_ids: list[str]) -> list[str]:
    """Which of these checkouts (at most `PAGE`) Saleor no longer has. The document's unused
    aliases ask for the last one again."""
    variables = {f"id{i}": saleor_ids[min(i, len(saleor_ids) - 1)] for i in range(PAGE)}
    data = await services.saleor.execute(
        context.api_url, context.token, "ecommerce_checkouts_exist", variables
    )
    return [saleor_id for i, saleor_id in enumerate(saleor_ids) if data.get(f"c{i}") is None]


def register(registry: HandlerRegistry) -> None:
    register_daily(registry, SWEEP_JOB, handle_sweep, schedule_sweep)


__all__ = ["SWEEP_JOB", "queue_cart_sweeps", "register", "schedule_sweep"]
