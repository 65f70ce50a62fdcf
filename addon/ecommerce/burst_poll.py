"""The `ecommerce.burst` job: it looks at a burst's batch at Mailchimp (the next look planned
from Mailchimp's progress, a new job each time) until the batch is finished, then applies its
results to the ledger (`apply`, each record's in `burst_apply.py`); when polling gives up, the
batch's records go back to one push each (`on_burst_failure`), as they do at once when its
results archive is gone (`ResultsUnavailable`: what the batch did will not be known). And the
job's registration."""

from __future__ import annotations

import logging

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.ecommerce.burst import release
from addon.ecommerce.burst_apply import apply_one, code_use
from addon.ecommerce.burst_queue import BURST_JOB, BurstRef, alone, next_poll, poll_batch_later
from addon.ecommerce.burst_unknown import hold, look, settle_unknown
from addon.ecommerce.models import BurstBatch, BurstStatus
from addon.ecommerce.promo_usage import CodeUse, orders_used_codes
from addon.ecommerce.repository import LedgerRepository
from addon.jobs.registry import HandlerRegistry
from addon.jobs.retry import Failure, RetryPolicy
from addon.jobs.schemas import ClaimedJob
from addon.mailchimp import InvalidCredentials, MailchimpError, NotFound, ResultsUnavailable
from addon.mailchimp.models import BatchOperationResult
from addon.services import Services

logger = logging.getLogger(__name__)

_BATCHES: Table = BurstBatch.__table__  # type: ignore[assignment]
# What a look at a batch reads of its row, and counts there (Core: no row loaded).
_LOOK = select(
    _BATCHES.c.status,
    _BATCHES.c.installation_id,
    _BATCHES.c.mailchimp_batch_id,
    _BATCHES.c.submitted_at,
    _BATCHES.c.read_at,
    _BATCHES.c.polls,
).where(_BATCHES.c.id == bindparam("batch_id"))
_LOOKED = (
    update(_BATCHES)
    .where(_BATCHES.c.id == bindparam("batch_id"))
    .values(polls=_BATCHES.c.polls + 1)
    .returning(_BATCHES.c.id)
)


async def burst_job(job: ClaimedJob, ref: BurstRef, services: Services) -> None:
    """Look at a submitted batch: apply its results when finished, else look again later."""
    async with services.db.session() as session:
        # Not the row: its records (a few hundred records' operations, JSON) are read when
        # the batch is applied, not at each look.
        found = (await session.execute(_LOOK, {"batch_id": ref.batch_id})).first()
        if found is None or found.status is not BurstStatus.SUBMITTED:
            return
        installation_id, mailchimp_batch_id = found.installation_id, found.mailchimp_batch_id
        submitted_at, polls = found.submitted_at or found.read_at, found.polls
    if mailchimp_batch_id is None:
        await look(services, job, ref.batch_id, installation_id, submitted_at, polls)
        return
    try:
        async with mailchimp_for(services, installation_id) as client:
            batch = await client.get_batch(mailchimp_batch_id)
            if batch.status != "finished":
                delay = next_poll(services.settings, batch, submitted_at, polls)
                async with services.db.transaction() as session:
                    looked = await session.execute(_LOOKED, {"batch_id": ref.batch_id})
                    if looked.first() is not None:
                        await poll_batch_later(session, installation_id, ref.batch_id, delay)
                return
            results = await client.finished_batch_results(batch)
    except (NotConnected, InvalidCredentials):
        await release(services, ref.batch_id)  # their pushes wait for a connection as usual
        return
    except NotFound:
        # Deleted at Mailchimp (`DELETE /batches/{batch_id}` stops it, and its results "will
        # not be available after this call"): nothing of it can run or be known any more, so
        # its records go to one push each at once, not after the failures of every look.
        logger.warning("Mailchimp no longer has burst batch %s; pushed one each", ref.batch_id)
        await release(services, ref.batch_id, refused=True)
        return
    except ResultsUnavailable:
        # It ran, but its results archive is gone (its signed URL expired, the results
        # deleted): what Mailchimp holds of each record is unknown, as after a lost send that
        # can no longer run, so each is pushed again at once (not after every look failing).
        logger.warning("Burst batch %s's results are no longer available", ref.batch_id)
        async with services.db.transaction() as session:
            row = await session.get(BurstBatch, ref.batch_id, with_for_update=True)
            if row is not None and row.status is BurstStatus.SUBMITTED:
                await settle_unknown(session, row)
        return
    await apply(services, ref.batch_id, results)


async def apply(services: Services, batch_id: int, results: list[BatchOperationResult]) -> None:
    """Record a finished batch's results on each ledger record; a second apply does nothing."""
    by_operation = {r.operation_id: r for r in results if r.operation_id}
    now = utcnow()
    async with services.db.transaction() as session:
        row = await session.get(BurstBatch, batch_id, with_for_update=True, populate_existing=True)
        if row is None or row.status is not BurstStatus.SUBMITTED:
            return
        scope = (row.installation_id, row.channel_slug, row.kind)
        # Locked: a record's own push, recording newer content meanwhile (PostgreSQL runs them
        # in parallel), is either seen (overtaken) or waits, never written over.
        ledger = LedgerRepository(session)
        records = await ledger.get_or_create_many(*scope, list(row.records), locked=True)
        again: list[str] = []
        uses: list[CodeUse] = []
        for saleor_id, meta in row.records.items():
            if not apply_one(records[saleor_id], meta, by_operation, row.read_at, now):
                again.append(saleor_id)
            if (use := code_use(saleor_id, meta, by_operation)) is not None:
                uses.append(use)
        await session.delete(row)
        await session.flush()
        await alone(session, scope, again)
        installation_id, channel, _ = scope  # the row is deleted
        await orders_used_codes(session, installation_id, channel, uses)


async def on_burst_failure(
    session: AsyncSession, job: ClaimedJob, ref: BurstRef, failure: Failure
) -> None:
    """Polling gave up (Mailchimp failed to answer for its status or its results, again and
    again): the batch may still run, so its records are held as a submission of unknown
    outcome is, until Mailchimp lists no batch of theirs unfinished, then pushed one each
    (`burst_unknown`). Handed straight back, their pushes could land before the batch, whose
    older content would then stay in Mailchimp with the ledger saying synced. Held already
    (looking never gives up on Mailchimp's failures, so another one): pushed one each."""
    if not failure.gave_up:
        return
    row = await session.get(BurstBatch, ref.batch_id, with_for_update=True)
    if row is not None and row.mailchimp_batch_id is None:
        await settle_unknown(session, row)
    elif row is not None:
        await hold(session, row, row.submitted_at or row.read_at)


BURST_RETRY = RetryPolicy(
    max_attempts=lambda settings: settings.ecommerce_max_attempts, expected=(MailchimpError,)
)


def register(registry: HandlerRegistry) -> None:
    registry.register(
        BURST_JOB, burst_job, payload=BurstRef, retry=BURST_RETRY, on_failure=on_burst_failure
    )


__all__ = ["register"]
