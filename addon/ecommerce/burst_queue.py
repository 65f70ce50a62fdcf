"""The job-table side of a burst: how many pushes wait for an installation, taking a group of
them over so one job sends them as one batch, handing records back to a push each (`alone`),
and the `ecommerce.burst` job that looks at a batch at Mailchimp (`poll_later`).

The queries live here rather than in `addon.jobs`, which knows no job kind: they read only the
`ecommerce.push` jobs this package queues (`push_queue.py`), by the ledger key their
`coalesce_key` and `lane` carry.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Integer, Table, bindparam, func, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.config import Settings
from addon.db.types import utcnow
from addon.ecommerce.models import PUSH_JOB, BurstBatch, EntityKind
from addon.ecommerce.push_queue import enqueue_pushes
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.jobs.statements import NO_SORT, in_state, lane_busy, locked_once
from addon.mailchimp.models import Batch

BURST_JOB = "ecommerce.burst"


class BurstRef(BaseModel):
    """The payload of an `ecommerce.burst` job."""

    batch_id: int


async def poll_later(session: AsyncSession, row: BurstBatch, delay: float) -> None:
    """The batch's `ecommerce.burst` job, due in `delay` seconds."""
    await poll_batch_later(session, row.installation_id, row.id, delay)


async def poll_batch_later(
    session: AsyncSession, installation_id: int, batch_id: int, delay: float
) -> None:
    """`poll_later` by the batch's installation and id (its row not loaded)."""
    await JobRepository(session).enqueue(
        installation_id,
        BURST_JOB,
        BurstRef(batch_id=batch_id).model_dump(),
        coalesce_key=f"burst:{batch_id}",
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
    session: AsyncSession,
    scope: tuple[int, str, EntityKind],
    saleor_ids: list[str],
    *,
    delay: float = 0.0,
) -> None:
    """A push of its own for each of these records (`alone`: never taken into a batch), due
    after `delay` seconds."""
    installation_id, channel, kind = scope
    await enqueue_pushes(
        session,
        installation_id,
        [(channel, kind, saleor_id) for saleor_id in saleor_ids],
        alone=True,
        delay=delay,
    )


async def backlog(session: AsyncSession, installation_id: int, *, above: int | None = None) -> int:
    """Pushes of this installation due now and waiting for a worker. With `above`, counting
    stops past it (a burst's check need not count ten thousand rows)."""
    waiting = select(Job.id).where(
        Job.installation_id == installation_id,
        Job.kind == PUSH_JOB,
        in_state(JobStatus.PENDING),
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
    parameters = {
        "of_installation": installation_id,
        "now": now,
        "pattern": _escape_like(prefix) + "%",
        "limit": limit,
    }
    if session.get_bind().dialect.name == "postgresql":
        # As a claim: the installation's due pushes in their index's order (`ix_jobs_pushes_due`)
        # up to the limit, whatever the statistics say. Planned from a table analysed before
        # the burst, it read, checked and sorted every waiting push to take 499
        # (`tests/test_claim_plan.py`).
        await session.execute(NO_SORT)
    keys = (await session.execute(_TAKE_OVER, parameters)).scalars()
    # The Saleor id from the ledger key (`push_queue.ledger_key`): no payload to decode.
    return [key[len(prefix) :] for key in keys]


def _escape_like(text: str) -> str:
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _take_over_statement() -> Any:
    """`take_over`'s one statement, built once: Core on the table (the ORM's `update(Job)`
    paid for its session synchronisation), answering each push's ledger key."""
    table: Table = Job.__table__  # type: ignore[assignment]
    columns = table.c
    now = bindparam("now", type_=columns.run_after.type)
    due = (
        select(Job.id)
        .where(
            Job.installation_id == bindparam("of_installation"),
            # Written into the statement, as the state is (`in_state`): a plan made for any
            # parameters then still matches the pushes' own index's condition.
            Job.kind == literal_column(f"'{PUSH_JOB}'"),
            in_state(JobStatus.PENDING),
            Job.run_after <= now,
            Job.coalesce_key.like(bindparam("pattern"), escape="/"),
            ~lane_busy(),
        )
        .order_by(Job.run_after, Job.id)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(of=Job, skip_locked=True)
    )
    return (
        update(table)
        .where(columns.id.in_(locked_once(due)), columns.status == JobStatus.PENDING)
        .values(status=JobStatus.DONE, finished_at=now, updated_at=now, locked_by=None)
        .returning(columns.coalesce_key)
    )


_TAKE_OVER = _take_over_statement()
