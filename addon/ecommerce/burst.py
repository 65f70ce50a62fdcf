"""Burst absorption: while many pushes wait for one installation (its Mailchimp account), live
sync sends products, customers and orders as Mailchimp batches instead of one request each.

When a push job runs and more than `ECOMMERCE_BATCH_THRESHOLD` pushes of its installation are
due, it takes over up to `ECOMMERCE_BATCH_SIZE` due pushes of its channel and kind
(`burst_queue.take_over`: atomic, and on PostgreSQL two workers split the backlog), re-reads
the entities from Saleor by id a page at a time (`burst_read.py`, `filter: {ids}`), plans what
their pushes would have sent (`burst_plan.py`; orders, whose pushes first create what they
depend on, `burst_orders.py`) and submits it as one batch (`addon.mailchimp.batches`, as the
initial sync does); what else those pushes write in the ledger (an order's cart converted, its
products' stock pushes queued) is written when the batch is recorded. An `ecommerce.burst`
job polls the batch (the next look planned from Mailchimp's progress, a new job each time) and
applies its results to each ledger record (`burst_apply.py`): confirmed → synced with the same
fingerprint live sync records (an order's voucher use counted); a data error → that record
alone is quarantined with Mailchimp's reason; anything else (transient, "already exists", 404,
a refused campaign or changed e-mail) → the record gets a push of its own (`alone`, with the
worker's retries).

Still one ledger and newest state wins: the batch carries Saleor's state at `read_at`; a
record pushed again since (by its own push or a later batch; Mailchimp runs batches in no
promised order) is pushed once more from Saleor's current state instead of being recorded
with the batch's content. A change arriving meanwhile queues a push as usual.

A burst that fails before its batch is submitted hands its records back to one push each; a
rerun of a push job that crashed mid-burst does the same with the records it had taken.

A process runs at most `BURSTS_AT_ONCE` bursts at a time; a push job waits for one of them
before it takes records over, so the backlog is left to other workers meanwhile (each process
its share, instead of one taking it all at once and timing out on its own reads).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.ecommerce.burst_apply import apply_one, count_use
from addon.ecommerce.burst_orders import plan_orders
from addon.ecommerce.burst_plan import BATCHED, BurstPlan, Planned, plan
from addon.ecommerce.burst_queue import backlog, take_over
from addon.ecommerce.burst_read import read
from addon.ecommerce.catalog import CatalogPusher, admin_label
from addon.ecommerce.context import Context
from addon.ecommerce.models import (
    BurstBatch,
    BurstStatus,
    EntityKind,
    SyncRecord,
    SyncStatus,
)
from addon.ecommerce.push_queue import enqueue_pushes
from addon.ecommerce.repository import LedgerRepository, settled
from addon.ecommerce.schemas import PushRequest
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.retry import Failure, RetryPolicy
from addon.jobs.schemas import ClaimedJob
from addon.mailchimp import InvalidCredentials, MailchimpClient, MailchimpError
from addon.mailchimp.models import Batch, BatchOperationResult
from addon.services import Services

logger = logging.getLogger(__name__)

BURST_JOB = "ecommerce.burst"
# Bursts one process runs at a time (planning one is CPU: 500 entities validated and built).
BURSTS_AT_ONCE = 4
_running: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def _bursts() -> asyncio.Semaphore:
    """This process's (this event loop's) burst slots."""
    loop = asyncio.get_running_loop()
    if loop not in _running:
        for other in [other for other in _running if other.is_closed()]:
            del _running[other]
        _running[loop] = asyncio.Semaphore(BURSTS_AT_ONCE)
    return _running[loop]


class BurstRef(BaseModel):
    """The payload of an `ecommerce.burst` job."""

    batch_id: int


async def applies(services: Services, job: ClaimedJob, request: PushRequest) -> bool:
    """Whether this push goes out in a batch: a kind batches can carry, not queued `alone`,
    and more pushes of the installation waiting than the threshold."""
    if request.alone or request.kind not in BATCHED:
        return False
    threshold = services.settings.ecommerce_batch_threshold
    async with services.db.session() as session:
        return await backlog(session, job.installation_id, above=threshold) > threshold


async def absorb(
    services: Services,
    job: ClaimedJob,
    request: PushRequest,
    context: Context,
    client: MailchimpClient,
) -> bool:
    """Send this push and a group of waiting ones of its channel and kind as one batch;
    False when there was none to take (other jobs took them): a push of its own then."""
    async with _bursts():
        return await _absorb(services, job, request, context, client)


async def _absorb(
    services: Services,
    job: ClaimedJob,
    request: PushRequest,
    context: Context,
    client: MailchimpClient,
) -> bool:
    await release_unsent(services, job.id, keep=request.saleor_id)
    size = services.settings.ecommerce_batch_size
    async with services.db.transaction() as session:
        taken = await take_over(
            session, job.installation_id, request.channel, request.kind, max(size - 1, 0)
        )
        saleor_ids = list(dict.fromkeys([request.saleor_id, *taken]))
        if len(saleor_ids) == 1:
            return False
        row = BurstBatch(
            installation_id=job.installation_id,
            channel_slug=request.channel,
            kind=request.kind,
            status=BurstStatus.READING,
            leader_job_id=job.id,
            records={saleor_id: {} for saleor_id in saleor_ids},
            read_at=utcnow(),
            polls=0,
        )
        session.add(row)
        await session.flush()
        batch_id = row.id
    try:
        await CatalogPusher(services, context, client).ensure_store()
        read_at = utcnow()
        nodes = await read(services, context, request.kind, saleor_ids)
        async with services.db.session() as session:
            known = await LedgerRepository(session).by_saleor_ids(
                job.installation_id, request.channel, request.kind, saleor_ids
            )
            if request.kind is EntityKind.ORDER:  # what they depend on is in the ledger
                planned = await plan_orders(session, context, saleor_ids, nodes, known)
            else:
                planned = plan(context, request.kind, saleor_ids, nodes, known)
        submitted = None
        if planned.planned:
            submitted = await client.create_batch(planned.operations)
    except BaseException:
        # The others go back to one push each; this one is the worker's to retry.
        await release(services, batch_id, keep=request.saleor_id)
        raise
    await _record_submitted(services, batch_id, planned, submitted, read_at)
    return True


async def _record_submitted(
    services: Services,
    batch_id: int,
    planned: BurstPlan,
    submitted: Batch | None,
    read_at: datetime,
) -> None:
    async with services.db.transaction() as session:
        row = await session.get(BurstBatch, batch_id, with_for_update=True)
        if row is None:
            # Gone meanwhile: its installation was erased, or a rerun of its push job (the
            # lease lost) released its records to pushes of their own (`release_unsent`),
            # which send them again.
            return
        scope = (row.installation_id, row.channel_slug, row.kind)
        items = [*planned.planned, *planned.unchanged]
        records = await LedgerRepository(session).get_or_create_many(
            *scope, [item.saleor_id for item in items]
        )
        now = utcnow()
        for item in planned.planned:
            if _relabel(records[item.saleor_id], item):
                # Not a push's verdict: `updated_at` still says when one was recorded
                # (`burst_apply._overtaken`).
                flag_modified(records[item.saleor_id], "updated_at")
        for item in planned.unchanged:
            # Mailchimp holds this content already: only the ledger catches up (as a push does).
            record = records[item.saleor_id]
            _relabel(record, item)
            settled(record, SyncStatus.SYNCED, item.mailchimp_id, item.fingerprint, now)
        await _alone(session, scope, planned.alone)
        for effect in planned.effects:
            await effect(session)
        if submitted is None:
            await session.delete(row)
            return
        row.status = BurstStatus.SUBMITTED
        row.mailchimp_batch_id = submitted.id
        row.records = {item.saleor_id: item.meta() for item in planned.planned}
        row.read_at = read_at
        row.submitted_at = now
        await _poll_later(session, row, services.settings.initial_sync_poll_base_seconds)


def _relabel(record: SyncRecord, item: Planned) -> bool:
    """Record the label its push would (`admin_label`); whether it changed."""
    label = admin_label(item.label)
    if label is None or label == record.label:
        return False
    record.label = label
    return True


async def _poll_later(session: AsyncSession, row: BurstBatch, delay: float) -> None:
    await JobRepository(session).enqueue(
        row.installation_id,
        BURST_JOB,
        BurstRef(batch_id=row.id).model_dump(),
        coalesce_key=f"burst:{row.id}",
        run_after=utcnow() + timedelta(seconds=delay),
    )


async def release(services: Services, batch_id: int, *, keep: str | None = None) -> None:
    """Hand a batch's records back to one push each (but `keep`, whose job is running)."""
    async with services.db.transaction() as session:
        row = await session.get(BurstBatch, batch_id, with_for_update=True)
        if row is not None:
            await _release_in(session, row, keep)


async def _release_in(session: AsyncSession, row: BurstBatch, keep: str | None) -> None:
    scope = (row.installation_id, row.channel_slug, row.kind)
    await _alone(session, scope, [saleor_id for saleor_id in row.records if saleor_id != keep])
    await session.delete(row)


async def _alone(
    session: AsyncSession, scope: tuple[int, str, EntityKind], saleor_ids: list[str]
) -> None:
    """A push of its own for each of these records (`alone`: never taken into a batch)."""
    installation_id, channel, kind = scope
    await enqueue_pushes(
        session,
        installation_id,
        [(channel, kind, saleor_id) for saleor_id in saleor_ids],
        alone=True,
    )


async def release_unsent(services: Services, job_id: int, *, keep: str) -> None:
    """A rerun of a push job that had taken records over and never submitted them (its
    worker crashed, or it lost its lease): they go back to one push each."""
    async with services.db.transaction() as session:
        rows = await session.scalars(
            select(BurstBatch)
            .where(BurstBatch.leader_job_id == job_id, BurstBatch.status == BurstStatus.READING)
            # Waits for a submission being recorded, then skips the batch it submitted.
            .with_for_update()
        )
        for row in list(rows):
            await _release_in(session, row, keep)


# --- the poll job -----------------------------------------------------------------------------


async def burst_job(job: ClaimedJob, ref: BurstRef, services: Services) -> None:
    """Look at a submitted batch: apply its results when finished, else look again later."""
    async with services.db.session() as session:
        row = await session.get(BurstBatch, ref.batch_id)
        if row is None or row.status is not BurstStatus.SUBMITTED:
            return
        installation_id, mailchimp_batch_id = row.installation_id, row.mailchimp_batch_id
        submitted_at, polls = row.submitted_at or row.read_at, row.polls
    try:
        async with mailchimp_for(services, installation_id) as client:
            batch = await client.get_batch(mailchimp_batch_id or "")
            if batch.status != "finished":
                delay = _next_poll(services, batch, submitted_at, polls)
                async with services.db.transaction() as session:
                    row = await session.get(BurstBatch, ref.batch_id)
                    if row is not None:
                        row.polls += 1
                        await _poll_later(session, row, delay)
                return
            results = await client.download_batch_results(batch.response_body_url)
    except (NotConnected, InvalidCredentials):
        await release(services, ref.batch_id)  # their pushes wait for a connection as usual
        return
    await apply(services, ref.batch_id, results)


def _next_poll(services: Services, batch: Batch, submitted_at: datetime, polls: int) -> float:
    """When Mailchimp should be done, from its reported progress (as the initial sync plans)."""
    settings = services.settings
    base, most = settings.initial_sync_poll_base_seconds, settings.initial_sync_poll_max_seconds
    done, total = batch.finished_operations, batch.total_operations
    if 0 < done < total:
        elapsed = max((utcnow() - submitted_at).total_seconds(), 0.001)
        delay = (total - done) * elapsed / done
    else:
        delay = base * 2 ** min(polls, 16)
    return float(min(max(delay, base), most))


async def apply(services: Services, batch_id: int, results: list[BatchOperationResult]) -> None:
    """Record a finished batch's results on each ledger record; a second apply does nothing."""
    by_operation = {r.operation_id: r for r in results if r.operation_id}
    now = utcnow()
    async with services.db.transaction() as session:
        row = await session.get(BurstBatch, batch_id, with_for_update=True, populate_existing=True)
        if row is None or row.status is not BurstStatus.SUBMITTED:
            return
        scope = (row.installation_id, row.channel_slug, row.kind)
        records = await LedgerRepository(session).get_or_create_many(*scope, list(row.records))
        again: list[str] = []
        for saleor_id, meta in row.records.items():
            if not apply_one(records[saleor_id], meta, by_operation, row.read_at, now):
                again.append(saleor_id)
            await count_use(session, scope, saleor_id, meta, by_operation)
        await session.delete(row)
        await session.flush()
        await _alone(session, scope, again)


async def on_burst_failure(
    session: AsyncSession, job: ClaimedJob, ref: BurstRef, failure: Failure
) -> None:
    """Polling gave up: the batch's records go back to one push each."""
    if not failure.gave_up:
        return
    row = await session.get(BurstBatch, ref.batch_id, with_for_update=True)
    if row is not None:
        await _release_in(session, row, None)


BURST_RETRY = RetryPolicy(
    max_attempts=lambda settings: settings.ecommerce_max_attempts, expected=(MailchimpError,)
)


# --- what the Activity page shows ---------------------------------------------------------------


class Backlog(BaseModel):
    """Pushes waiting for a worker, records at Mailchimp in batches, and the pace: records
    brought up to date in the last minute."""

    waiting: int
    in_batches: int
    applied_last_minute: int


async def backlog_of(session: AsyncSession, installation_id: int) -> Backlog:
    waiting = await backlog(session, installation_id)
    rows = await session.scalars(
        select(BurstBatch.records).where(BurstBatch.installation_id == installation_id)
    )
    in_batches = sum(len(records or {}) for records in rows)
    since = utcnow() - timedelta(minutes=1)
    applied = await session.scalar(
        select(func.count())
        .select_from(SyncRecord)
        .where(SyncRecord.installation_id == installation_id, SyncRecord.pushed_at >= since)
    )
    return Backlog(waiting=waiting, in_batches=in_batches, applied_last_minute=int(applied or 0))


def register(registry: HandlerRegistry) -> None:
    registry.register(
        BURST_JOB, burst_job, payload=BurstRef, retry=BURST_RETRY, on_failure=on_burst_failure
    )


__all__ = ["BURST_JOB", "Backlog", "absorb", "applies", "backlog_of", "register"]
