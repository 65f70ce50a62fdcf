"""Where a sync stands and the chain of jobs that moves it on.

Owns the run's state as a step sees it (`Snapshot` of the `InitialSync` row, one `Stream` per
kind, the `Flight`s: batches queued or at Mailchimp, progress counters), the batches' packed
operations, and the scheduling of the chain: the `initial_sync.step` job (one lane per channel,
one coalesce key per sync, so one chain even when a cancel adds a step), the watchdog job, the
step as the worker retries it (`retried_step`, read from the jobs table), the step waiting as
Mailchimp asked (`throttled_until`), and `end`, which marks a running sync ended and queues the
step that clears `is_syncing`.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from addon.config import Settings
from addon.db.types import utcnow
from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import EntityKind
from addon.initial_sync.models import BatchStatus, InitialSync, InitialSyncBatch, Phase
from addon.initial_sync.slices import Slice
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.mailchimp.models import BatchOperation
from addon.services import Services

logger = logging.getLogger(__name__)

STEP_JOB = "initial_sync.step"
WATCHDOG_JOB = "initial_sync.watchdog"

# Reading order; the phase shown is the first kind not read completely.
KINDS = (EntityKind.PRODUCT, EntityKind.CUSTOMER, EntityKind.ORDER)
PHASE_OF = {
    EntityKind.PRODUCT: Phase.PRODUCTS,
    EntityKind.CUSTOMER: Phase.CUSTOMERS,
    EntityKind.ORDER: Phase.ORDERS,
}
COUNTERS = ("total", "read", "skipped", "sent", "confirmed", "quarantined", "retried")


# --- the chain of jobs ---------------------------------------------------------------------------


def lane(channel: str) -> str:
    return f"initial-sync:{channel}"


class SyncRef(BaseModel):
    """The payload of the chain's jobs."""

    sync_id: int


def _key(kind: str, sync_id: int) -> str:
    # One pending job per kind and sync: a second enqueue merges into it.
    name = {STEP_JOB: "initial-sync-step", WATCHDOG_JOB: "initial-sync-watchdog"}[kind]
    return f"{name}:{sync_id}"


async def _enqueue(
    session: AsyncSession,
    installation_id: int,
    kind: str,
    sync_id: int,
    at: datetime,
    lane: str | None = None,
    sooner: bool = False,
) -> None:
    payload = SyncRef(sync_id=sync_id).model_dump()
    await JobRepository(session).enqueue(
        installation_id,
        kind,
        payload,
        coalesce_key=_key(kind, sync_id),
        lane=lane,
        run_after=at,
        sooner=sooner,
    )


async def enqueue_step(
    session: AsyncSession,
    installation_id: int,
    sync_id: int,
    channel: str,
    delay: float = 0.0,
    *,
    sooner: bool = False,
) -> None:
    """Queue the sync's next step; `sooner`: also bring forward a pending one waiting for its
    next look at Mailchimp's batches (up to `INITIAL_SYNC_POLL_MAX_SECONDS`) or a backoff."""
    at = utcnow() + timedelta(seconds=delay)
    await _enqueue(session, installation_id, STEP_JOB, sync_id, at, lane(channel), sooner)


async def enqueue_watchdog(
    session: AsyncSession, installation_id: int, sync_id: int, at: datetime
) -> None:
    # No lane: it must run even when the step chain is stuck behind a failing step.
    await _enqueue(session, installation_id, WATCHDOG_JOB, sync_id, at)


async def retried_step(session: AsyncSession, run: InitialSync, settings: Settings) -> Job | None:
    """The sync's step as the worker retries it after failed runs (a Mailchimp or Saleor
    outage: up to `WORKER_OUTAGE_MAX_ATTEMPTS` runs, about seven hours), waiting or running
    again; None when no step is in the worker's hands that way. Such a step is no stall: the
    worker runs it again, or gives it up and the sync fails with its error (`step_failed`).
    Not one shown running whose lease ran out a stall time ago: no worker took it over."""
    now = utcnow()
    stall = timedelta(seconds=settings.initial_sync_stall_seconds)
    jobs = await JobRepository(session).unfinished_of_key(
        run.installation_id, _key(STEP_JOB, run.id)
    )
    for job in jobs:
        # Counted failed runs: the kind's policy gives it up in time (`jobs.retry`).
        if not job.attempts or job.last_error is None:
            continue
        if job.status is JobStatus.PENDING:
            return job
        if job.locked_until is not None and now - job.locked_until < stall:
            return job
    return None


async def throttled_until(session: AsyncSession, run: InitialSync) -> datetime | None:
    """When the sync's step goes on after a wait Mailchimp asked for (its 429: `Step._throttled`
    set `last_progress_at` to the wait's end): the pending step's time, its wake. None when no
    such wait is under way: the sync's progress is not ahead of now (it moved on, or waits
    only for its next look at Mailchimp's batches), or no step waits (one runs)."""
    now = utcnow()
    if run.last_progress_at <= now:
        return None
    jobs = await JobRepository(session).unfinished_of_key(
        run.installation_id, _key(STEP_JOB, run.id)
    )
    waiting = (j.run_after for j in jobs if j.status is JobStatus.PENDING and j.run_after > now)
    return min(waiting, default=None)


async def end_in(session: AsyncSession, sync_id: int, status: RunStatus, error: str | None) -> bool:
    """Mark a running sync ended and queue the step that clears `is_syncing`. The row locked
    first, as a cancel takes it (`service.cancel`): read unlocked, an end would be written over
    a cancel committed meanwhile."""
    run = await session.get(InitialSync, sync_id, with_for_update=True)
    if run is None or run.status is not RunStatus.RUNNING:
        return False
    run.status = status
    run.error = error
    run.finished_at = utcnow()
    run.active_channel = None
    # Now, not at the pending step's time: until it runs Mailchimp holds back the store's
    # automations (`is_syncing`).
    await enqueue_step(session, run.installation_id, run.id, run.channel_slug, sooner=True)
    logger.warning("Initial sync %s ended %s: %s", sync_id, status.value, error or "")
    return True


async def flag_held_elsewhere(session: AsyncSession, run: Snapshot) -> bool:
    """Another sync of the channel holds the store's `is_syncing` too: one running, or one
    ended still settling the batches it sent (`ended.py`). The last to let go clears it; the
    others only let go of their own hold (a new sync started while a cancelled one's batches
    were still at Mailchimp had the flag cleared under it, its history sent with the store's
    automations on)."""
    found = await session.scalar(
        select(InitialSync.id)
        .where(
            InitialSync.installation_id == run.installation_id,
            InitialSync.channel_slug == run.channel,
            InitialSync.id != run.id,
            or_(InitialSync.status == RunStatus.RUNNING, InitialSync.store_flagged.is_(True)),
        )
        .limit(1)
    )
    return found is not None


async def end(services: Services, sync_id: int, status: RunStatus, error: str | None) -> bool:
    """`end_in` in a transaction of its own."""
    async with services.db.transaction() as session:
        return await end_in(session, sync_id, status, error)


# --- progress counters ---------------------------------------------------------------------------


def _progress(
    run: InitialSync, kind: EntityKind
) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """A copy of the run's counters (so the JSON column sees the change) and the kind's."""
    progress = {k: dict(v) for k, v in (run.progress or {}).items()}
    return progress, progress.setdefault(kind.value, dict.fromkeys(COUNTERS, 0))


def bump(run: InitialSync, kind: EntityKind, **amounts: int) -> None:
    """Add to the kind's counters."""
    progress, counters = _progress(run, kind)
    for name, amount in amounts.items():
        counters[name] = counters.get(name, 0) + amount
    run.progress = progress


def set_total(run: InitialSync, kind: EntityKind, total: int) -> None:
    progress, counters = _progress(run, kind)
    counters["total"] = total
    run.progress = progress


# --- the run as a step sees it -------------------------------------------------------------------


@dataclass(frozen=True)
class Stream:
    """Where the reading of one kind is: its slices (`slices`), each with Saleor's end cursor of
    the last page sent; None until the kind is split (at its first read)."""

    slices: tuple[Slice, ...] | None = None

    @property
    def done(self) -> bool:
        return self.slices is not None and all(piece.done for piece in self.slices)

    @classmethod
    def of(
        cls, streams: dict[str, Any] | None, kind: EntityKind, since: datetime | None = None
    ) -> Stream:
        state = (streams or {}).get(kind.value) or {}
        if "slices" in state:
            return cls(tuple(Slice.from_json(piece) for piece in state["slices"]))
        if state.get("cursor") or state.get("done"):
            # Begun before slices (one cursor per kind): read on as one slice, from `since` for
            # orders (what that cursor's query asked for); its cursor is in Saleor's default
            # order (the documents did not sort then), so the slice is read from its start.
            start = since if kind is EntityKind.ORDER else None
            cursor, done = state.get("cursor"), bool(state.get("done"))
            return cls((Slice(start, None, cursor, done, order=None),))
        return cls()

    def to_json(self) -> dict[str, Any]:
        # `done` for readers of the row that know nothing of slices (summary).
        return {"slices": [piece.to_json() for piece in self.slices or ()], "done": self.done}


def phase_of(streams: dict[EntityKind, Stream]) -> Phase:
    return next((PHASE_OF[k] for k in KINDS if not streams[k].done), Phase.DONE)


@dataclass(frozen=True)
class Snapshot:
    """The sync row as read at the start of a step (no session held across calls)."""

    id: int
    installation_id: int
    channel: str
    status: RunStatus
    streams: dict[EntityKind, Stream]
    orders_since: datetime | None
    store_flagged: bool

    @classmethod
    def of(cls, run: InitialSync) -> Snapshot:
        return cls(
            run.id,
            run.installation_id,
            run.channel_slug,
            run.status,
            {kind: Stream.of(run.streams, kind, run.orders_since) for kind in KINDS},
            run.orders_since,
            run.store_flagged,
        )


@dataclass(frozen=True)
class Flight:
    """A queued or submitted batch as read at the start of a step."""

    id: int
    kind: EntityKind
    status: BatchStatus
    batch_id: str
    polls: int
    submitted_at: datetime
    next_poll_at: datetime | None

    @classmethod
    def of(cls, batch: InitialSyncBatch) -> Flight:
        return cls(
            batch.id,
            EntityKind(batch.kind),
            batch.status,
            batch.mailchimp_batch_id,
            batch.polls,
            batch.submitted_at,
            batch.next_poll_at,
        )


async def load(services: Services, sync_id: int) -> tuple[Snapshot, list[Flight]] | None:
    """The sync and its batches not applied yet (their large columns left in the database)."""
    async with services.db.session() as session:
        run = await session.get(InitialSync, sync_id)
        if run is None:
            return None
        result = await session.execute(
            select(InitialSyncBatch)
            .options(defer(InitialSyncBatch.operations), defer(InitialSyncBatch.bodies))
            .where(
                InitialSyncBatch.sync_id == sync_id,
                InitialSyncBatch.status.in_(
                    (BatchStatus.QUEUED, BatchStatus.UNKNOWN, BatchStatus.SUBMITTED)
                ),
            )
            .order_by(InitialSyncBatch.id)
        )
        return Snapshot.of(run), [Flight.of(batch) for batch in result.scalars()]


# --- a batch's operations as sent ----------------------------------------------------------------


def pack(operations: Sequence[BatchOperation]) -> bytes:
    """The operations as sent, compressed (an order batch shrinks about tenfold)."""
    raw = [op.model_dump(mode="json", by_alias=True, exclude_none=True) for op in operations]
    return zlib.compress(orjson.dumps(raw), 1)


def unpack(packed: bytes) -> list[BatchOperation]:
    return [BatchOperation.model_validate(op) for op in orjson.loads(zlib.decompress(packed))]


def batch_expected(settings: Settings, submitted_at: datetime, now: datetime) -> bool:
    """A batch Mailchimp holds unfinished, submitted (or sent, its outcome unknown) at
    `submitted_at`, is still the sync's progress: Mailchimp runs an account's batches one at a
    time (its spec, `DELETE /batches/{batch_id}`), so one may wait behind another app's, then
    run for long. For `INITIAL_SYNC_BATCH_WAIT_SECONDS`; after that, the watchdog's stall time
    runs (a batch Mailchimp never starts or never finishes must not keep the store's
    `is_syncing` for ever)."""
    return (now - submitted_at).total_seconds() <= settings.initial_sync_batch_wait_seconds


def deleted_message(name: str) -> str:
    """Why a sync ended whose store was deleted in Mailchimp: the channel's card offers to
    re-create it (which sends again only what the app had recorded: `ecommerce/resend.py`)."""
    return (
        f"The Mailchimp store for {name} was deleted in Mailchimp while the sync ran. "
        "Re-create it on the channel's card (Re-create the store), then start the initial "
        "sync again."
    )
