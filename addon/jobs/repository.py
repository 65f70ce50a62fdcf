"""Queries on jobs: enqueue (deduplicated or coalesced: `enqueue.py`), claim, finish, retry."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)

from addon.jobs.enqueue import JobEnqueuer
from addon.jobs.models import HOUSEKEEPING_KINDS, Job, JobStatus
from addon.jobs.requeue import alone_or_merged
from addon.jobs.schemas import ClaimedJob
from addon.jobs.statements import (
    HELD_KEY,
    KEY_RUNNING,
    MERGE_FRESH,
    MERGE_RETRY,
    NO_SORT,
    QUARANTINED_KEY,
    RETRY_QUARANTINED,
    SUPERSEDE_QUARANTINED,
    Lapsed,
    claim_of,
    claim_statement,
    complete_many_statement,
    finish_statement,
    held_claims,
    in_state,
    renew_many_statement,
)
from addon.jobs.wakeup import work_due


class Retried(StrEnum):
    """How a quarantined job was retried (`JobRepository.retry`)."""

    ITSELF = "itself"
    MERGED = "merged"  # into the pending job of its key, which carries newer work


class Renewal(NamedTuple):
    lost: list[ClaimedJob]  # another worker holds them now
    gone: list[ClaimedJob]  # deleted with their installation


class JobRepository(JobEnqueuer):
    async def claim(
        self,
        worker_id: str,
        limit: int,
        lease: timedelta,
        *,
        claimable: ColumnElement[bool],
        only: tuple[list[str], list[int]] | None = None,
        lapsed: frozenset[Lapsed] = frozenset(Lapsed),
    ) -> list[ClaimedJob]:
        """Lock up to `limit` due jobs for this worker, of those where `claimable` holds: the
        registry's (`HandlerRegistry.claimable`) holds for the kinds it has handlers for, of
        active installations (housekeeping kinds of any). With `only` (kinds, installation ids),
        just jobs of these kinds and installations (the worker adds more jobs to run together
        to those a claim brought). `lapsed`: which running jobs whose lease lapsed it takes
        too (`statements.Lapsed`).

        Several workers may claim at once on PostgreSQL: `FOR UPDATE SKIP LOCKED` hands each
        row to one of them, and a lane to one claim at a time (`conditions.lane_claimed`). A
        running job whose lease expired (its worker died: a live worker renews its leases, see
        `renew`) is due again. A claim is identified by the worker and the attempt number,
        which every claim increments (counted at claim, so a job that crashes its worker gives
        up too).
        """
        now = self.clock.now()
        parameters: dict[str, Any] = {"now": now, "worker": worker_id, "until": now + lease}
        if only is not None:
            parameters.update(only_kinds=only[0], only_installations=only[1])
        rows: list[Any] = []
        for kind in sorted(lapsed) if only is None else ():
            # Expired leases first: their jobs were claimed before any pending one was due
            # (rarely any: a worker died). Each statement is an ordered index scan that stops
            # at its limit (`claim_statement`). A job that lapsed before: one at most, to run
            # on its own (`addon.jobs.leases`).
            most = limit - len(rows) if kind is Lapsed.FIRST else min(1, limit - len(rows))
            if most > 0:
                expired = claim_statement(claimable, False, kind)
                rows += await self.session.execute(expired, {**parameters, "limit": most})
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
                lapses=row.lapses,
            )
            for row in rows
        ]

    async def renew(self, worker_id: str, jobs: list[ClaimedJob], lease: timedelta) -> Renewal:
        """Extend this worker's leases on `jobs`; answer those whose lease was lost (the job
        was taken over by another worker, or finished by someone else) and those whose row is
        gone (their installation was erased, cascading to its jobs)."""
        if not jobs:
            return Renewal(lost=[], gone=[])
        result = await self.session.execute(
            renew_many_statement(self.dialect),
            {**held_claims(self.dialect, jobs, worker_id), "until": self.clock.now() + lease},
        )
        renewed = set(result.scalars())
        unrenewed = [job for job in jobs if job.id not in renewed]
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
            complete_many_statement(self.dialect),
            {**held_claims(self.dialect, jobs, worker_id), "now": now},
        )
        return set(result.scalars())

    async def reschedule(
        self,
        job: ClaimedJob,
        worker_id: str,
        error: str,
        run_after: datetime,
        *,
        counted: bool = True,
    ) -> bool:
        """Retry the job at `run_after`; `counted` off: the attempt it was claimed for is not
        counted (it waits, it did not fail: `RetryLater`). False: no longer this claim's
        (nothing written)."""
        attempts = job.attempts if counted else job.attempts - 1
        return await self._wait_again(
            job, worker_id, run_after=run_after, attempts=attempts, error=error
        )

    async def release(self, job: ClaimedJob, worker_id: str) -> bool:
        """Give a claimed job back unfinished (its worker is shutting down): due at once for
        another worker (merged into a pending job of its key: when that one is due), and the
        attempt it was claimed for not counted."""
        return await self._wait_again(
            job, worker_id, run_after=self.clock.now(), attempts=job.attempts - 1, error=None
        )

    async def _wait_again(
        self,
        job: ClaimedJob,
        worker_id: str,
        *,
        run_after: datetime,
        attempts: int,
        error: str | None,
    ) -> bool:
        """Set a job still this claim's pending again (`error` None: its last error kept). If
        a job of its coalescing key is pending already (work that arrived while it ran), that
        one carries it and this one is done (`statements.MERGE_RETRY`): at most one job of a
        key may wait. False: no longer this claim's (nothing written)."""
        held = (await self.session.execute(HELD_KEY, claim_of(job, worker_id))).first()
        if held is None:
            return False
        now = self.clock.now()
        merge = {
            "of_installation": job.installation_id,
            "of_key": held.coalesce_key,
            "retry_at": run_after,
            "held_attempts": attempts,
            "error": error,
            "now": now,
        }
        done = {"status": JobStatus.DONE, "last_error": None, "finished_at": now}
        pending: dict[str, Any] = {
            "status": JobStatus.PENDING,
            "run_after": run_after,
            "attempts": attempts,
            "lapses": 0,  # this run ended with an outcome
        }
        if error is not None:
            pending["last_error"] = error

        async def merged() -> bool:
            return await self._updated(MERGE_RETRY, merge)

        async def alone() -> bool:
            return await self._finish(job, worker_id, **pending)

        written = await alone_or_merged(
            self.session, alone, merged, keyed=held.coalesce_key is not None
        )
        if written is None:  # merged: its lane may have held the pending job up
            await work_due(self.session)
            return await self._finish(job, worker_id, **done)
        if written and run_after <= now:
            await work_due(self.session)
        return written

    async def _updated(self, statement: Any, parameters: dict[str, Any]) -> bool:
        """Run an UPDATE; whether it changed a row."""
        result = await self.session.execute(statement, parameters)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def quarantine(self, job: ClaimedJob, worker_id: str, error: str) -> bool:
        return await self._finish(
            job,
            worker_id,
            status=JobStatus.QUARANTINED,
            last_error=error,
            finished_at=self.clock.now(),
        )

    async def retry(self, installation_id: int, job_id: int) -> Retried | None:
        """Give a quarantined job a fresh set of attempts (the Activity page's Retry); if a
        job of its coalescing key is pending (newer work for the same record), that one is
        due now with fresh attempts and this one is done, as it is if one is running (set
        pending beside it, this older job could run at the same time, and a later merge into
        it would keep its older payload). None: not a quarantined job."""
        key = (
            await self.session.execute(
                QUARANTINED_KEY, {"job_id": job_id, "installation_id": installation_id}
            )
        ).first()
        if key is None:
            return None
        now = self.clock.now()
        merge = {"of_installation": installation_id, "of_key": key.coalesce_key, "now": now}

        async def merged() -> bool:
            if await self._updated(MERGE_FRESH, merge):
                return True
            return (await self.session.execute(KEY_RUNNING, merge)).first() is not None

        async def alone() -> bool:
            return await self._updated(RETRY_QUARANTINED, {"job_id": job_id, "now": now})

        outcome = Retried.ITSELF
        keyed = key.coalesce_key is not None
        if await alone_or_merged(self.session, alone, merged, keyed=keyed) is None:
            outcome = Retried.MERGED
            await self.session.execute(SUPERSEDE_QUARANTINED, {"job_id": job_id, "now": now})
        await work_due(self.session)
        return outcome

    async def unfinished_of_key(self, installation_id: int, coalesce_key: str) -> list[Job]:
        """The jobs of a coalescing key waiting or running (one waits at most), in id order:
        whether the work of the key is still in the worker's hands (its retries included)."""
        statement = (
            select(Job)
            .where(
                Job.installation_id == installation_id,
                Job.coalesce_key == coalesce_key,
                or_(in_state(JobStatus.PENDING), in_state(JobStatus.RUNNING)),
            )
            .order_by(Job.id)
        )
        return list((await self.session.execute(statement)).scalars())

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

    async def quarantine_unknown(
        self, known: Collection[str], due_before: datetime
    ) -> list[tuple[int, str]]:
        """Quarantine pending jobs of a kind not `known` due since before `due_before`, as
        (id, kind): queued by a newer version of the app that was rolled back, no worker runs
        them, and each would hold its lane for good (a later job of the lane waits for an
        earlier one). Activity's Retry runs one once a version that knows its kind is back."""
        now = self.clock.now()
        error = (
            literal("No worker of this deployment runs jobs of kind '")
            + Job.kind
            + literal(
                "': a newer version of the app queued it and this one does not know it "
                "(rolled back?). Deploy a version that does, then retry it."
            )
        )
        result = await self.session.execute(
            update(Job)
            .where(
                in_state(JobStatus.PENDING),
                Job.run_after < due_before,
                Job.kind.not_in(sorted(known)),
            )
            .values(status=JobStatus.QUARANTINED, last_error=error, finished_at=now, updated_at=now)
            .returning(Job.id, Job.kind)
            .execution_options(synchronize_session=False)
        )
        return [(row.id, row.kind) for row in result]

    async def prune_finished(self, older_than: datetime) -> int:
        """Forget done jobs (and so their delivery ids) after the retention period."""
        result = await self.session.execute(
            delete(Job).where(in_state(JobStatus.DONE), Job.finished_at < older_than)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
