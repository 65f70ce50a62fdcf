"""Writing a job's outcome (done, retried, quarantined) for the worker (`addon.jobs.worker`):
each in a short transaction of its own, unless the job's lease was lost (the worker that took
the job over writes it), with the kind's `failed` hook in the same transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from addon.clock import Clock
from addon.db.engine import Database
from addon.jobs.registry import Registration
from addon.jobs.repository import JobRepository
from addon.jobs.retry import Failure
from addon.jobs.schemas import ClaimedJob

logger = logging.getLogger("addon.jobs.worker")  # the worker's own messages


class Outcomes:
    """The outcomes one worker writes."""

    def __init__(self, db: Database, worker_id: str, clock: Clock) -> None:
        self.db = db
        self.worker_id = worker_id
        self.clock = clock

    async def fail(
        self,
        job: ClaimedJob,
        held: dict[int, ClaimedJob],
        registration: Registration[Any] | None,  # its `failed` hook takes no services
        failure: Failure,
    ) -> bool:
        """Write the policy's decision, and let the kind record it (same transaction)."""

        async def write(jobs: JobRepository) -> bool:
            if failure.retry_at is None:
                written = await jobs.quarantine(job, self.worker_id, failure.reason)
            else:
                written = await jobs.reschedule(
                    job, self.worker_id, failure.reason, failure.retry_at
                )
            if written and registration is not None and registration.failed is not None:
                await registration.failed(jobs.session, job, failure)
            return written

        if not await self.record(job, held, write):
            return False
        if failure.gave_up:
            logger.error(
                "Job %s (%s) quarantined after %s attempts: %s",
                job.id,
                job.kind,
                job.attempts,
                failure.reason,
            )
        else:
            logger.warning(
                "Job %s (%s) failed, will retry at %s: %s",
                job.id,
                job.kind,
                failure.retry_at,
                failure.reason,
            )
        return True

    async def record(
        self,
        job: ClaimedJob,
        held: dict[int, ClaimedJob],
        write: Callable[[JobRepository], Awaitable[bool]],
    ) -> bool:
        """Write the job's outcome, unless its lease was lost (the new holder writes it)."""
        held.pop(job.id, None)  # no more renewals: the outcome ends the lease
        async with self.db.transaction() as session:
            jobs = JobRepository(session, self.clock)
            written = await write(jobs)
            gone = not written and not await jobs.existing([job.id])
        if gone:
            # The job erased its own installation (or another job or webhook did), and its
            # row went with it: nothing is left to record, and no other worker holds it.
            logger.debug("Job %s (%s) ended with its installation", job.id, job.kind)
        elif not written:
            logger.warning(
                "Job %s (%s) lost its lease before it ended: its outcome is left to the worker "
                "that took it over",
                job.id,
                job.kind,
            )
        return written


def not_recorded(job: ClaimedJob) -> None:
    """A job that succeeded after it stopped being held: nothing of it is written."""
    logger.warning(
        "Job %s (%s) was no longer held when it ended (its lease was lost, or its row erased): "
        "its outcome is not recorded",
        job.id,
        job.kind,
    )
