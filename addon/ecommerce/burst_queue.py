"""The job-table side of a burst: how many pushes wait for an installation, taking a group of
them over so one job sends them as one batch, handing records back to a push each (`alone`),
and the `ecommerce.burst` job that looks at a batch at Mailchimp (`poll_later`).

The queries live here rather than in `addon.jobs`, which knows no job kind: they read only the
`ecommerce.push` jobs this package queues (`push_queue.py`), by the ledger key their
`coalesce_key` and `lane` carry.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from addon.config import Settings
from addon.db.types import utcnow
from addon.ecommerce.models import BurstBatch, EntityKind
from addon.ecommerce.push_queue import PUSH_JOB, enqueue_pushes
from addon.ecommerce.schemas import PushRequest
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.mailchimp.models import Batch

BURST_JOB = "ecommerce.burst"


class BurstRef(BaseModel):
    """The payload of an `ecommerce.burst` job."""

    batch_id: int


async def poll_later(session: AsyncSession, row: BurstBatch, delay: float) -> None:
    """The batch's `ecommerce.burst` job, due in `delay` seconds."""
    await JobRepository(session).enqueue(
        row.installation_id,
        BURST_JOB,
        BurstRef(batch_id=row.id).model_dump(),
        coalesce_key=f"burst:{row.id}",
        run_after=utcnow() + timedelta(seconds=delay),
    )


def next_poll(settings: Settings, batch: Batch, submitted_at: datetime, polls: int) -> float:
    """When Mailchimp should be done, from its reported progress (as the initial sync plans)."""
    base, most = settings.initial_sync_poll_base_seconds, settings.initial_sync_poll_max_seconds
    done, total = batch.finished_operations, batch.total_operations
    if 0 < done < total:
        elapsed = max((utcnow() - submitted_at).total_seconds(), 0.001)
        delay = (total - done) * elapsed / done
    else:
        delay = base * 2 ** min(polls, 16)
    return float(min(max(delay, base), most))


async def alone(
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


async def backlog(session: AsyncSession, installation_id: int, *, above: int | None = None) -> int:
    """Pushes of this installation due now and waiting for a worker. With `above`, counting
    stops past it (a burst's check need not count ten thousand rows)."""
    waiting = select(Job.id).where(
        Job.installation_id == installation_id,
        Job.kind == PUSH_JOB,
        Job.status == JobStatus.PENDING,
        Job.run_after <= utcnow(),
    )
    if above is not None:
        waiting = waiting.limit(above + 1)
    counted = await session.scalar(select(func.count()).select_from(waiting.subquery()))
    return int(counted or 0)


async def take_over(
    session: AsyncSession, installation_id: int, channel: str, kind: EntityKind, limit: int
) -> list[str]:
    """Take up to `limit` due pushes of one channel and kind off the queue (marked done: the
    batch that sends them records each outcome on its ledger record); answer their Saleor ids.

    One statement, so no other worker takes the same job: on PostgreSQL the rows are locked
    with `FOR UPDATE SKIP LOCKED` (two workers split a backlog instead of waiting on each
    other), on SQLite the write lock serialises it. A push whose entity has an earlier job
    still unfinished (its lane is busy) is left to run after it, as the worker would; pushes
    waiting for a retry are not due, and pushes queued `alone` have another key.
    """
    prefix = f"ledger:{channel}:{kind.value}:"
    now = utcnow()
    earlier = aliased(Job)
    lane_busy = exists().where(
        earlier.installation_id == Job.installation_id,
        earlier.lane == Job.lane,
        earlier.id < Job.id,
        earlier.status.in_((JobStatus.PENDING, JobStatus.RUNNING)),
    )
    due = (
        select(Job.id)
        .where(
            Job.installation_id == installation_id,
            Job.kind == PUSH_JOB,
            Job.status == JobStatus.PENDING,
            Job.run_after <= now,
            Job.coalesce_key.startswith(prefix, autoescape=True),
            ~lane_busy,
        )
        .order_by(Job.run_after, Job.id)
        .limit(limit)
        .with_for_update(of=Job, skip_locked=True)
    )
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(due.scalar_subquery()), Job.status == JobStatus.PENDING)
        .values(status=JobStatus.DONE, finished_at=now, updated_at=now, locked_by=None)
        .returning(Job.payload)
        .execution_options(synchronize_session=False)
    )
    return [PushRequest.model_validate(payload).saleor_id for payload in result.scalars()]
