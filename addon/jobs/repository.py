"""Queries on jobs: enqueue (deduplicated or coalesced), claim, finish, retry."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Table,
    bindparam,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from addon.clock import Clock, current_clock
from addon.db.repository import Repository, insert_for
from addon.jobs.models import HOUSEKEEPING_KINDS, Job, JobStatus
from addon.jobs.schemas import ClaimedJob
from addon.jobs.statements import (
    COMPLETE_MANY,
    HELD_KEY,
    MERGE_RETRY,
    NO_SORT,
    RENEW,
    claim_of,
    claim_statement,
    finish_statement,
    in_state,
)
from addon.jobs.wakeup import work_due


class NewJob(NamedTuple):
    """A job to add, identified by its delivery (`dedupe_key`)."""

    installation_id: int
    kind: str
    payload: dict[str, Any]
    dedupe_key: str | None
    status: JobStatus = JobStatus.PENDING


class CoalescedJob(NamedTuple):
    """A job to add or merge into the pending job of its `coalesce_key` (see `enqueue`)."""

    installation_id: int
    kind: str
    payload: dict[str, Any]
    coalesce_key: str
    lane: str | None
    run_after: datetime


class Renewal(NamedTuple):
    lost: list[ClaimedJob]  # another worker holds them now
    gone: list[ClaimedJob]  # deleted with their installation


class JobRepository(Repository):
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
    ) -> int | None:
        """Add a job; return its id, or None when `dedupe_key` was seen before.

        With `coalesce_key`, work for a key that already has a pending job merges into it:
        the payload is replaced by the newest, the original `run_after` is kept (so a burst
        becomes one run, no later than the first one's schedule).
        """
        now = self.clock.now()
        due_at = run_after or now
        values = self._row(
            NewJob(installation_id, kind, payload, dedupe_key, status),
            now,
            coalesce_key=coalesce_key,
            lane=lane,
            run_after=due_at,
        )
        conflict = "dedupe" if dedupe_key is not None else "coalesce" if coalesce_key else None
        statement = _enqueue_statement(self.dialect, conflict)
        parameters = {f"v_{column}": value for column, value in values.items()}
        result = await self.session.execute(statement, parameters)
        job_id = result.scalar_one_or_none()
        if job_id is not None and status is JobStatus.PENDING and due_at <= now:
            await work_due(self.session)
        return job_id

    async def enqueue_deduplicated(self, jobs: list[NewJob]) -> list[int | None]:
        """Add these jobs in one statement; answer each one's id, or None for a `dedupe_key`
        seen before (also earlier in `jobs`: the first of two alike is the one added)."""
        if not jobs:
            return []
        now = self.clock.now()
        rows = [self._row(job, now) for job in jobs]
        # Many parameter sets for one prebuilt statement: SQLAlchemy sends them as multi-row
        # INSERTs (its "insertmanyvalues") from one compiled form, where a VALUES clause of
        # these rows would be compiled afresh for every group (a tenth of a delivery's time).
        result = await self.session.execute(_dedupe_many_statement(self.dialect), rows)
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
            self._row(
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
        await self.session.execute(_coalesced_many_statement(self.dialect), rows)
        if any(job.run_after <= now for job in last.values()):
            await work_due(self.session)

    @staticmethod
    def _row(
        job: NewJob,
        now: datetime,
        *,
        coalesce_key: str | None = None,
        lane: str | None = None,
        run_after: datetime | None = None,
    ) -> dict[str, Any]:
        return {
            "installation_id": job.installation_id,
            "kind": job.kind,
            "payload": job.payload,
            "status": job.status,
            "dedupe_key": job.dedupe_key,
            "coalesce_key": coalesce_key,
            "lane": lane,
            "attempts": 0,
            "run_after": run_after or now,
            "created_at": now,
            "updated_at": now,
            "finished_at": now if job.status is JobStatus.DONE else None,
        }

    async def claim(
        self,
        worker_id: str,
        limit: int,
        lease: timedelta,
        *,
        claimable: ColumnElement[bool],
        only: tuple[list[str], list[int]] | None = None,
        lapsed: bool = True,
    ) -> list[ClaimedJob]:
        """Lock up to `limit` due jobs for this worker, of those where `claimable` holds
        (housekeeping kinds whatever it says): the app's holds for the jobs of active
        installations (`HandlerRegistry.claim_only`). With `only` (kinds, installation ids),
        just jobs of these kinds and installations (the worker adds more jobs to run together
        to those a claim brought). With `lapsed` off, no running job whose lease lapsed.

        Several workers may claim at once on PostgreSQL: `FOR UPDATE SKIP LOCKED` hands each
        row to one of them. A running job whose lease expired (its worker died: a live worker
        renews its leases, see `renew`) is due again. A claim is identified by the worker and
        the attempt number, which every claim increments (counted at claim, so a job that
        crashes its worker gives up too).
        """
        now = self.clock.now()
        parameters: dict[str, Any] = {"now": now, "worker": worker_id, "until": now + lease}
        if only is not None:
            parameters.update(only_kinds=only[0], only_installations=only[1])
        rows = []
        if only is None and lapsed:
            # Expired leases first: their jobs were claimed before any pending one was due
            # (rarely any: a worker died). Each statement is an ordered index scan that stops
            # at its limit (`claim_statement`).
            expired = claim_statement(claimable, False, True)
            rows = list(await self.session.execute(expired, {**parameters, "limit": limit}))
        if len(rows) < limit:
            if self.dialect == "postgresql" and only is None:
                # After the lapsed leases' claim: their few rows are sorted (`NO_SORT`). A
                # claim of `only` some kinds takes its jobs in no order: nothing to sort.
                await self.session.execute(NO_SORT)
            statement = claim_statement(claimable, only is not None)
            parameters["limit"] = limit - len(rows)
            rows += await self.session.execute(statement, parameters)
        # In claim order (an UPDATE answers its rows in no promised order).
        rows.sort(key=lambda row: (row.run_after, row.id))
        return [
            ClaimedJob(
                id=row.id,
                installation_id=row.installation_id,
                kind=row.kind,
                payload=row.payload,
                attempts=row.attempts,
            )
            for row in rows
        ]

    async def renew(self, worker_id: str, jobs: list[ClaimedJob], lease: timedelta) -> Renewal:
        """Extend this worker's leases on `jobs`; answer those whose lease was lost (the job
        was taken over by another worker, or finished by someone else) and those whose row is
        gone (their installation was erased, cascading to its jobs)."""
        until = self.clock.now() + lease
        unrenewed = []
        for job in jobs:
            result = await self.session.execute(RENEW, {**claim_of(job, worker_id), "until": until})
            if not result.rowcount:  # type: ignore[attr-defined]
                unrenewed.append(job)
        present = await self.existing([job.id for job in unrenewed])
        return Renewal(
            lost=[job for job in unrenewed if job.id in present],
            gone=[job for job in unrenewed if job.id not in present],
        )

    async def existing(self, job_ids: list[int]) -> set[int]:
        """Which of these jobs still have a row."""
        if not job_ids:
            return set()
        result = await self.session.execute(select(Job.id).where(Job.id.in_(job_ids)))
        return set(result.scalars())

    async def _finish(self, job: ClaimedJob, worker_id: str, **values: Any) -> bool:
        """Write the outcome `values` if the job is still this claim's (`held_by_claim`)."""
        result = await self.session.execute(
            finish_statement(frozenset(values)),
            {
                **claim_of(job, worker_id),
                **{f"set_{column}": value for column, value in values.items()},
                "now": self.clock.now(),
            },
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def complete(self, job: ClaimedJob, worker_id: str) -> bool:
        """Record success; False when the lease was lost (nothing written)."""
        return await self._finish(
            job, worker_id, status=JobStatus.DONE, last_error=None, finished_at=self.clock.now()
        )

    async def complete_many(self, jobs: list[ClaimedJob], worker_id: str) -> set[int]:
        """Record the success of these jobs in one statement; answer the ids written (those
        still held by this claim, as `complete` checks one by one)."""
        if not jobs:
            return set()
        now = self.clock.now()
        result = await self.session.execute(
            COMPLETE_MANY,
            {
                "claims": [(job.id, job.attempts) for job in jobs],
                "held_by": worker_id,
                "now": now,
            },
        )
        return set(result.scalars())

    async def reschedule(
        self, job: ClaimedJob, worker_id: str, error: str, run_after: datetime
    ) -> bool:
        """Retry the job at `run_after`; if a job of its coalescing key is pending already
        (work that arrived while it ran), that one carries the retry and this one is done
        (`statements.MERGE_RETRY`). False: no longer this claim's (nothing written)."""
        held = (await self.session.execute(HELD_KEY, claim_of(job, worker_id))).first()
        if held is None:
            return False
        now = self.clock.now()
        merge = {
            "of_installation": job.installation_id,
            "of_key": held.coalesce_key,
            "retry_at": run_after,
            "held_attempts": job.attempts,
            "error": error,
            "now": now,
        }
        done = {"status": JobStatus.DONE, "last_error": None, "finished_at": now}
        if held.coalesce_key is not None and await self._merged(merge):
            return await self._finish(job, worker_id, **done)
        # On PostgreSQL a newer job of its key may commit while this is written (it waits for
        # it, then conflicts): undone alone, and that job takes the retry.
        alone = self.session.begin_nested() if self.dialect == "postgresql" else nullcontext()
        try:
            async with alone:
                written = await self._finish(
                    job, worker_id, status=JobStatus.PENDING, last_error=error, run_after=run_after
                )
        except IntegrityError:
            if held.coalesce_key is None or not await self._merged(merge):
                raise
            return await self._finish(job, worker_id, **done)
        if written and run_after <= self.clock.now():
            await work_due(self.session)
        return written

    async def _merged(self, merge: dict[str, Any]) -> bool:
        result = await self.session.execute(MERGE_RETRY, merge)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def release(self, job: ClaimedJob, worker_id: str) -> bool:
        """Give a claimed job back unfinished (its worker is shutting down): due at once for
        another worker, and the attempt it was claimed for not counted."""
        written = await self._finish(
            job,
            worker_id,
            status=JobStatus.PENDING,
            run_after=self.clock.now(),
            attempts=job.attempts - 1,
        )
        if written:
            await work_due(self.session)
        return written

    async def quarantine(self, job: ClaimedJob, worker_id: str, error: str) -> bool:
        return await self._finish(
            job,
            worker_id,
            status=JobStatus.QUARANTINED,
            last_error=error,
            finished_at=self.clock.now(),
        )

    async def retry(self, installation_id: int, job_id: int) -> bool:
        """Give a quarantined job a fresh set of attempts (the Activity page's Retry)."""
        result = await self.session.execute(
            update(Job)
            .where(
                Job.id == job_id,
                Job.installation_id == installation_id,
                Job.status == JobStatus.QUARANTINED,
            )
            .values(
                status=JobStatus.PENDING,
                attempts=0,
                run_after=self.clock.now(),
                finished_at=None,
            )
        )
        retried = bool(result.rowcount)  # type: ignore[attr-defined]
        if retried:
            await work_due(self.session)
        return retried

    async def recent(
        self, installation_id: int, *, limit: int = 50, status: JobStatus | None = None
    ) -> list[Job]:
        statement = select(Job).where(
            Job.installation_id == installation_id, Job.kind.not_in(HOUSEKEEPING_KINDS)
        )
        if status is not None:
            statement = statement.where(Job.status == status)
        statement = statement.order_by(Job.id.desc()).limit(limit)
        return list((await self.session.execute(statement)).scalars())

    async def count_by_status(self, installation_id: int) -> dict[JobStatus, int]:
        result = await self.session.execute(
            select(Job.status, func.count())
            .where(Job.installation_id == installation_id, Job.kind.not_in(HOUSEKEEPING_KINDS))
            .group_by(Job.status)
        )
        return {JobStatus(status): int(count) for status, count in result.all()}

    async def prune_finished(self, older_than: datetime) -> int:
        """Forget done jobs (and so their delivery ids) after the retention period."""
        result = await self.session.execute(
            delete(Job).where(in_state(JobStatus.DONE), Job.finished_at < older_than)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


@lru_cache(maxsize=8)
def _enqueue_statement(dialect: str, conflict: str | None) -> Any:
    """One job's INSERT (columns bound as `v_<column>`), deduplicated by its delivery or
    coalesced into the pending job of its key (newest payload, first schedule)."""
    table: Table = Job.__table__  # type: ignore[assignment]
    columns = JobRepository._row(NewJob(0, "", {}, None), datetime.min).keys()
    statement = insert_for(dialect, table).values(
        {column: bindparam(f"v_{column}") for column in columns}
    )
    if conflict == "dedupe":
        statement = statement.on_conflict_do_nothing(
            index_elements=["installation_id", "dedupe_key"]
        )
    elif conflict == "coalesce":
        statement = statement.on_conflict_do_update(
            index_elements=["installation_id", "coalesce_key"],
            index_where=text("status = 'pending'"),
            set_={"payload": statement.excluded.payload, "updated_at": bindparam("v_updated_at")},
        )
    return statement.returning(table.c.id)


@lru_cache(maxsize=4)
def _coalesced_many_statement(dialect: str) -> Any:
    """Jobs' INSERT for many parameter sets (columns by name), each merged into the pending
    job of its key: the newest payload, the first schedule. It answers the ids only so that
    SQLAlchemy sends multi-row INSERTs ("insertmanyvalues", for a statement with RETURNING):
    without, asyncpg runs it once per row, and a burst's 10,000 pushes cost PostgreSQL 10,000
    executions."""
    table: Table = Job.__table__  # type: ignore[assignment]
    statement = insert_for(dialect, table)
    return statement.on_conflict_do_update(
        index_elements=["installation_id", "coalesce_key"],
        index_where=text("status = 'pending'"),
        set_={"payload": statement.excluded.payload, "updated_at": statement.excluded.updated_at},
    ).returning(table.c.id)


@lru_cache(maxsize=4)
def _dedupe_many_statement(dialect: str) -> Any:
    """Jobs' INSERT for many parameter sets (columns by name), deduplicated by delivery,
    answering what was added (identified by installation and key: a duplicate adds no row)."""
    table: Table = Job.__table__  # type: ignore[assignment]  # Core: the ORM's bulk path costs more than the write
    return (
        insert_for(dialect, table)
        .on_conflict_do_nothing(index_elements=["installation_id", "dedupe_key"])
        .returning(table.c.id, table.c.installation_id, table.c.dedupe_key)
    )
