"""Adding jobs (`JobEnqueuer`, the part of `JobRepository` that enqueues): one job,
deduplicated by its delivery or coalesced into the pending job of its key, or many in one
statement; each wakes the workers when it makes work due now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.clock import Clock, current_clock
from addon.db.repository import Repository
from addon.jobs.inserts import (
    CoalescedJob,
    NewJob,
    coalesced_many_statement,
    dedupe_many_statement,
    enqueue_statement,
    job_row,
)
from addon.jobs.models import Job, JobStatus
from addon.jobs.wakeup import work_due


class JobEnqueuer(Repository):
    def __init__(self, session: AsyncSession, clock: Clock | None = None) -> None:
        super().__init__(session)
        self.clock = clock or current_clock()

    async def enqueue(
        self,
        installation_id: int,
        kind: str,
        payload: dict[str, Any],
        *,
        dedupe_key: str | None = None,
        coalesce_key: str | None = None,
        lane: str | None = None,
        run_after: datetime | None = None,
        status: JobStatus = JobStatus.PENDING,
        sooner: bool = False,
        later: bool = False,
    ) -> int | None:
        """Add a job; return its id, or None when `dedupe_key` was seen before.

        With `coalesce_key`, work for a key that already has a pending job merges into it:
        the payload is replaced by the newest, the original `run_after` is kept (so a burst
        becomes one run, no later than the first one's schedule, and a backoff holds), or with
        `sooner` the sooner of the two (work that must not wait for the pending job's time), or
        with `later` the later (a debounce: work due a while after the last of its causes).
        """
        if sooner and later:
            raise ValueError("a merged job keeps the sooner or the later time, not both")
        now = self.clock.now()
        due_at = run_after or now
        values = job_row(
            NewJob(installation_id, kind, payload, dedupe_key, status),
            now,
            coalesce_key=coalesce_key,
            lane=lane,
            run_after=due_at,
        )
        conflict = (
            "dedupe"
            if dedupe_key is not None
            else ("coalesce_sooner" if sooner else "coalesce_later" if later else "coalesce")
            if coalesce_key
            else None
        )
        statement = enqueue_statement(self.dialect, conflict)
        parameters = {f"v_{column}": value for column, value in values.items()}
        result = await self.session.execute(statement, parameters)
        job_id = result.scalar_one_or_none()
        if job_id is not None and status is JobStatus.PENDING and due_at <= now:
            await work_due(self.session)
        return job_id

    async def release_dedupe_key(self, job_id: int) -> None:
        """Let a later `enqueue` with the `dedupe_key` of job `job_id` add a job again (the job
        stays, without its key): for a job that found nothing to do yet, whose work may be
        asked again."""
        await self.session.execute(update(Job).where(Job.id == job_id).values(dedupe_key=None))

    async def record_note(
        self,
        installation_id: int,
        kind: str,
        payload: dict[str, Any],
        text: str,
        *,
        dedupe_key: str | None = None,
    ) -> int | None:
        """Record an Activity note: a job done as it is added, its text in `last_error` (where
        the Activity page reads a row's text). Its id, or None when `dedupe_key` was seen
        before (the note is there already)."""
        job_id = await self.enqueue(
            installation_id, kind, payload, dedupe_key=dedupe_key, status=JobStatus.DONE
        )
        if job_id is not None:
            await self.session.execute(update(Job).where(Job.id == job_id).values(last_error=text))
        return job_id

    async def enqueue_deduplicated(self, jobs: list[NewJob]) -> list[int | None]:
        """Add these jobs in one statement; answer each one's id, or None for a `dedupe_key`
        seen before (also earlier in `jobs`: the first of two alike is the one added)."""
        if not jobs:
            return []
        now = self.clock.now()
        rows = [job_row(job, now) for job in jobs]
        # Many parameter sets for one prebuilt statement: SQLAlchemy sends them as multi-row
        # INSERTs (its "insertmanyvalues") from one compiled form, where a VALUES clause of
        # these rows would be compiled afresh for every group (a tenth of a delivery's time).
        result = await self.session.execute(dedupe_many_statement(self.dialect), rows)
        added = {(row.installation_id, row.dedupe_key): row.id for row in result}
        if any(job.status is JobStatus.PENDING for job in jobs) and added:
            await work_due(self.session)
        # pop: a later job with the same key is the duplicate
        return [added.pop((job.installation_id, job.dedupe_key), None) for job in jobs]

    async def enqueue_coalesced(self, jobs: list[CoalescedJob]) -> None:
        """Add these jobs in one statement, each merged into the pending job of its key as
        `enqueue(coalesce_key=…)` does (newest payload, first schedule). A key given twice is
        added once, with the last one's payload (one statement may not touch a row twice)."""
        if not jobs:
            return
        now = self.clock.now()
        last = {(job.installation_id, job.coalesce_key): job for job in jobs}
        rows = [
            job_row(
                NewJob(job.installation_id, job.kind, job.payload, None),
                now,
                coalesce_key=job.coalesce_key,
                lane=job.lane,
                run_after=job.run_after,
            )
            for job in last.values()
        ]
        # One prebuilt statement, many parameter sets (as `enqueue_many`): a VALUES clause of
        # these rows was compiled afresh for every group (15 % of a burst's worker CPU).
        await self.session.execute(coalesced_many_statement(self.dialect), rows)
        if any(job.run_after <= now for job in last.values()):
            await work_due(self.session)
