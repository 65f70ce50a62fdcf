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
job (`burst_poll.py`) polls the batch (the next look planned from Mailchimp's progress, a new
job each time) and applies its results to each ledger record (`burst_apply.py`): confirmed →
synced with the same fingerprint live sync records (an order's voucher use counted); a data
error → that record alone is quarantined with Mailchimp's reason; anything else (transient,
"already exists", 404, a refused campaign or changed e-mail) → the record gets a push of its
own (`alone`, with the worker's retries).

Still one ledger and newest state wins: the batch carries Saleor's state at `read_at`; a
record pushed again since (by its own push or a later batch; Mailchimp runs batches in no
promised order) is pushed once more from Saleor's current state instead of being recorded
with the batch's content. A change arriving meanwhile queues a push as usual.

A burst that fails before its batch is submitted, or whose `POST /batches` Mailchimp refused (a
4xx, a connection never made: no batch exists), hands its records back to one push each at once, as
the initial sync queues a refused batch again; a rerun of a push job that crashed mid-burst does
the same with the records it had taken, and so does the quarantine of a leader, or any rerun or
burst for the bursts of a leader that will not run again (`burst_release.py`). Throttled (a 429
after the HTTP layer's retries, to `POST /batches`, too many pending batches say, or to the store's
check before it), the records' pushes wait out Mailchimp's Retry-After (at most the worker's
longest backoff; else `INITIAL_SYNC_POLL_MAX_SECONDS`, the initial sync's wait after a 429) first.

A process runs at most `BURSTS_AT_ONCE` bursts at a time; a push job waits for one of them
before it takes records over, so the backlog is left to other workers meanwhile (each process
its share, instead of one taking it all at once and timing out on its own reads). While it
waits, the next burst of its process and scope carries its record and the job ends
(`burst_slots.py`), rather than it pushing that one record alone once the others took the
backlog.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import defer

from addon.db.types import utcnow
from addon.ecommerce.burst_orders import plan_orders
from addon.ecommerce.burst_plan import BATCHED, BurstPlan, plan
from addon.ecommerce.burst_queue import alone, backlog, poll_later, take_over
from addon.ecommerce.burst_read import read
from addon.ecommerce.burst_release import release_in, release_unsent
from addon.ecommerce.burst_slots import BurstSlots, settle, slots_of
from addon.ecommerce.burst_unknown import held as is_held
from addon.ecommerce.burst_unknown import hold
from addon.ecommerce.catalog import CatalogPusher, admin_label
from addon.ecommerce.context import Context
from addon.ecommerce.failures import PUSH_RETRY
from addon.ecommerce.models import BurstBatch, BurstStatus, EntityKind
from addon.ecommerce.order_confirmation import automations_paused
from addon.ecommerce.push_request import PushRequest
from addon.ecommerce.repository import LedgerRepository
from addon.jobs.retry import throttled_wait
from addon.jobs.schemas import ClaimedJob
from addon.mailchimp import MailchimpClient, MailchimpError, OutcomeUnknown, RateLimited
from addon.mailchimp.models import Batch
from addon.privacy.erased import erased_among
from addon.services import Services

logger = logging.getLogger(__name__)

# Bursts one process runs at a time (planning one is CPU: 500 entities validated and built).
BURSTS_AT_ONCE = 4


async def applies(services: Services, job: ClaimedJob, request: PushRequest) -> bool:
    """Whether this push goes out in a batch: a kind batches can carry, not queued `alone`,
    and more pushes of the installation waiting than the threshold, or a burst of its channel
    and kind running in this process."""
    if request.alone or request.kind not in BATCHED:
        return False
    if slots_of(services.db, BURSTS_AT_ONCE).busy(
        (job.installation_id, request.channel, request.kind)
    ):
        # Its scope is bursting here: the next burst carries it (`burst_slots`). Counted, the
        # backlog may have fallen below the threshold only because that burst took it over,
        # and each push claimed meanwhile would go alone (15 at the end of a drain).
        return True
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
    False when there was none to take (other jobs took them): a push of its own then. True
    as well when, while this job waited for a burst slot, another burst carried its record."""
    slots = slots_of(services.db, BURSTS_AT_ONCE)
    scope = (job.installation_id, request.channel, request.kind)
    if not await slots.take(scope, request.saleor_id):
        # Carried by another burst: a rerun still hands back what an earlier run of it took
        # over (a leader does so in `_absorb`).
        await release_unsent(services, job, keep=request)
        return True
    try:
        return await _absorb(services, job, request, context, client, slots)
    finally:
        slots.release(scope)


async def _absorb(
    services: Services,
    job: ClaimedJob,
    request: PushRequest,
    context: Context,
    client: MailchimpClient,
    slots: BurstSlots,
) -> bool:
    await release_unsent(services, job, keep=request)
    size = services.settings.ecommerce_batch_size
    scope = (job.installation_id, request.channel, request.kind)
    # The jobs of this process waiting for a slot with this scope go first (they are running,
    # so `take_over` would never find them); the rest of the batch from the queue.
    adopted = slots.adopt(scope, max(size - 1, 0))
    try:
        async with services.db.transaction() as session:
            taken = await take_over(session, *scope, max(size - 1 - len(adopted), 0))
            saleor_ids = list(
                dict.fromkeys([request.saleor_id, *(a.saleor_id for a in adopted), *taken])
            )
            if len(saleor_ids) == 1:
                # Nothing to batch (those adopted, if any, push this same record): each
                # pushes on its own.
                settle(adopted, carried=False)
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
    except BaseException:
        settle(adopted, carried=False)  # not in a batch: they wait for a slot again
        raise
    # Committed: their records are this batch's now (handed back to a push each if it fails,
    # as those taken over are), so their jobs end.
    settle(adopted, carried=True)
    refused = False
    try:
        await CatalogPusher(services, context, client).ensure_store()
        read_at = utcnow()
        nodes = await read(services, context, request.kind, saleor_ids)
        async with services.db.session() as session:
            ledger = LedgerRepository(session)
            scope = (job.installation_id, request.channel, request.kind)
            if request.kind is EntityKind.ORDER:  # what they depend on is in the ledger
                known = await ledger.by_saleor_ids(*scope, saleor_ids)
                paused = await automations_paused(services, session, context)
                planned = await plan_orders(
                    session, context, saleor_ids, nodes, known, paused=paused
                )
            else:
                # What Mailchimp holds of each, as Core rows (no ORM object is written back).
                held = await ledger.held_by_saleor_ids(*scope, saleor_ids)
                emails = [str(node.get("email") or "") for node in nodes.values()]
                erased = await erased_among(session, job.installation_id, emails)
                delay = services.settings.ecommerce_cart_debounce_seconds
                planned = plan(context, request.kind, saleor_ids, nodes, held, erased, delay)
        submitted = None
        if planned.planned:
            began = await _sending(services, batch_id, planned)
            if began is None:
                return True  # taken back by a rerun of this job (a lost lease): it goes on
            try:
                submitted = await _submit(client, planned, began)
            except MailchimpError as exc:
                # A definite refusal (`_submit` takes in the unknown outcomes, named here too
                # so that a change there cannot release records a batch may still carry).
                refused = not isinstance(exc, OutcomeUnknown)
                raise
    except BaseException as exc:
        # The others go back to one push each, or are held if their batch may have been sent
        # (`release`); this one is the worker's to retry.
        wait = 0.0
        if (limited := _throttled(exc)) is not None:
            # Throttled (too many pending batches, say: Mailchimp allows 500): the records'
            # pushes wait, as the initial sync waits out a 429, rather than all go at once
            # into the throttle.
            settings = services.settings
            wait = throttled_wait(
                limited, PUSH_RETRY.longest(settings), settings.initial_sync_poll_max_seconds
            )
            # This job's own retry waits as long (the worker honours `retry_after`), rather
            # than start another batch into the throttle seconds later.
            limited.retry_after = wait
        await release(services, batch_id, keep=request.saleor_id, refused=refused, wait=wait)
        raise
    await _record_submitted(services, batch_id, planned, submitted, read_at)
    return True


def _throttled(exc: BaseException) -> RateLimited | None:
    """The 429 behind a burst's failure: its batch's, or the store's check's before it."""
    for error in (exc, exc.__cause__):
        if isinstance(error, RateLimited):
            return error
    return None


async def _sending(services: Services, batch_id: int, planned: BurstPlan) -> datetime | None:
    """Record that the batch is about to be sent, and what each record's success would mean:
    from now on a failure (an unknown outcome, a crash, a cancel) holds the records instead
    of handing them back (`burst_unknown.py`). None: the batch is no longer this job's."""
    async with services.db.transaction() as session:
        row = await session.get(BurstBatch, batch_id, with_for_update=True)
        if row is None or row.status is not BurstStatus.READING:
            return None
        metas = planned.metas()
        # The others (unchanged, alone) are recorded with the submission; held, they get a
        # push each as well.
        row.records = {saleor_id: metas.get(saleor_id, {}) for saleor_id in row.records}
        row.submitted_at = utcnow()
        return row.submitted_at


async def _submit(client: MailchimpClient, planned: BurstPlan, began: datetime) -> Batch | datetime:
    """The batch Mailchimp accepted, or when a submission of unknown outcome began: Mailchimp
    may have created the batch (`OutcomeUnknown`), so its records are held until no batch it
    may have created can still run (`burst_unknown.py`)."""
    try:
        return await client.create_batch(planned.operations)
    except OutcomeUnknown as exc:
        logger.warning(
            "A burst's batch of %d records may or may not be at Mailchimp: %s",
            len(planned.planned),
            exc,
        )
        return began


async def _record_submitted(
    services: Services,
    batch_id: int,
    planned: BurstPlan,
    submitted: Batch | datetime | None,
    read_at: datetime,
) -> None:
    async with services.db.transaction() as session:
        # Its records are written anew, not read.
        row = await session.get(
            BurstBatch, batch_id, with_for_update=True, options=[defer(BurstBatch.records)]
        )
        learnt = isinstance(submitted, Batch)
        if row is None or not (row.status is BurstStatus.READING or (learnt and is_held(row))):
            # Gone meanwhile: its installation was erased. Or a rerun of its push job (the
            # lease lost) holds its records as a submission of unknown outcome
            # (`release_unsent`) and this send's outcome is unknown too: the hold stands.
            return
        # Held by such a rerun, but Mailchimp answered with the batch's id: it is polled and
        # its results applied as any batch's, rather than waited out and pushed again.
        scope = (row.installation_id, row.channel_slug, row.kind)
        # Core statements on the ledger's rows, none loaded (each record's id and label read,
        # two executemany UPDATEs): loading a few hundred records and flushing them through
        # the ORM cost more than the writes. All the records it writes locked first, in id
        # order (`ledger_statements.locking`): written in the batch's order, they could
        # deadlock with a webhook's or an apply's.
        ledger = LedgerRepository(session)
        written = [item.saleor_id for item in (*planned.planned, *planned.unchanged)]
        known = await ledger.labels_of(*scope, [*written, *planned.alone], locked=True)
        now = utcnow()
        relabelled = []
        for item in planned.planned:
            record_id, held = known[item.saleor_id]
            label = admin_label(item.label)
            if label is not None and label != held:
                relabelled.append((record_id, label))
        # Not a push's verdict: `updated_at` still says when one was recorded
        # (`record_states.overtaken`).
        await ledger.relabel(relabelled)
        # Mailchimp holds this content already: only the ledger catches up (as a push does).
        await ledger.settle_synced(
            [
                (
                    *known[item.saleor_id],
                    admin_label(item.label),
                    item.mailchimp_id,
                    item.fingerprint,
                )
                for item in planned.unchanged
            ],
            now,
            read_at=read_at,
        )
        await alone(session, scope, planned.alone)
        for effect in planned.effects:
            await effect(session)
        if submitted is None:
            await session.delete(row)
            return
        if planned.unchanged or planned.alone:
            # Recorded with no operations when the batch was sent (`_sending`): not in it.
            # Otherwise the records are already what `_sending` wrote: a few hundred records'
            # operations (JSON) are not written again.
            row.records = dict(planned.metas())
        row.read_at = read_at
        if isinstance(submitted, datetime):
            await hold(session, row, submitted)
            return
        row.status = BurstStatus.SUBMITTED
        row.mailchimp_batch_id = submitted.id
        row.submitted_at = now
        await poll_later(session, row, services.settings.initial_sync_poll_base_seconds)


async def release(
    services: Services,
    batch_id: int,
    *,
    keep: str | None = None,
    refused: bool = False,
    wait: float = 0.0,
) -> None:
    """Hand a batch's records back to one push each (but `keep`, whose job is running).
    `refused`: Mailchimp refused its submission, so no batch of theirs exists to wait for.
    `wait`: Mailchimp throttled it; its records are pushed after this many seconds (alone
    still: a batch again could be throttled again and again, no record's attempts counted)."""
    async with services.db.transaction() as session:
        row = await session.get(BurstBatch, batch_id, with_for_update=True)
        if row is not None:
            await release_in(session, row, keep, refused=refused, wait=wait)


__all__ = ["absorb", "applies"]
