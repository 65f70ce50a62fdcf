"""Completing a job in the transaction of its last write.

A handler that ends with a write calls `complete_in(session)` inside that transaction: the
job's success is written with it, so the job costs no transaction of its own to complete, and
the two cannot part (both commit, or neither does). Once that transaction commits, the worker
knows the outcome is written and skips its own; if it rolls back, or the handler never calls
this, the worker records the outcome as before. Call it in the last transaction only: the job
counts as done once that commits, whatever the handler does afterwards.

A kind's batch handler (`HandlerRegistry.register(batch=…)`), given several claimed jobs at
once, calls it the same way: every job of the batch is completed in that one statement.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from addon.clock import Clock
from addon.db.engine import after_commit
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob


@dataclass
class Completion:
    """The running jobs' claims (one, or a batch's), and whether a handler's transaction
    recorded their success."""

    jobs: list[ClaimedJob]
    worker_id: str
    clock: Clock
    on_written: Callable[[], object]  # the worker stops renewing the jobs' leases
    recorded: bool | None = None  # committed: True written, False the lease was lost
    written: frozenset[int] = frozenset()  # the ids written (of a batch: maybe not all)

    @property
    def job(self) -> ClaimedJob:
        return self.jobs[0]

    def committed(self, written: set[int]) -> None:
        self.written = frozenset(written)
        self.recorded = bool(written)
        self.on_written()


# Set by the worker in each job's own task (a task has its own copy of the context).
running: ContextVar[Completion | None] = ContextVar("running_job", default=None)


async def complete_in(session: AsyncSession) -> None:
    """Record the running job's success (every job's, for a batch) in `session`'s transaction
    (see the module's docstring); outside a job (a test calling a handler directly) it does
    nothing."""
    completion = running.get()
    if completion is None or completion.recorded is not None:
        return
    jobs = JobRepository(session, completion.clock)
    if len(completion.jobs) == 1:
        job = completion.job
        written = {job.id} if await jobs.complete(job, completion.worker_id) else set()
    else:
        written = await jobs.complete_many(completion.jobs, completion.worker_id)
    after_commit(
        session,
        f"jobs.complete.{completion.job.id}",
        lambda: completion.committed(written),
    )
