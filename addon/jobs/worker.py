"""The worker: drains the jobs table with retries, backoff and quarantine.

It is the one place where failures are retried: a handler raises, the worker applies the
kind's retry policy (backoff, give up and quarantine; see `addon.jobs.retry`) and writes the
outcome, with the kind's `on_failure` hook in the same transaction (`addon.jobs.registry`).
The registry's `defer_failures` sees the failure first: a wait it answers is the outcome
instead, not counted (a Saleor refusal while the app's token is in doubt).

A worker claims only the kinds its registry has handlers for: in a rolling deploy a kind a
newer version added is left to a worker of that version.

On SQLite one worker runs inside the server process; on PostgreSQL any number of `addon worker`
processes run side by side, each claiming different rows (`FOR UPDATE SKIP LOCKED`).

A claimed job is leased for `WORKER_LEASE_SECONDS`; while it runs, a heartbeat renews the lease
every third of it, so a slow job is never taken over, while the job of a worker that died (the
heartbeat stops with it) is due again within one lease. A worker that finds its lease lost (it
stalled longer than the lease and another worker took the job over), or cannot renew it before
it runs out, stops the job and writes no outcome over the new holder's (`addon.jobs.leases`).

A handler may record its job's success in its own last transaction (`addon.jobs.completion`),
which saves the job a transaction of its own. Jobs of a kind with a batch handler
(`HandlerRegistry.register(batch=…)`) that one claim brings for one installation run together
in one task (one transaction); if that fails, each runs on its own, with its own retries.

An idle worker is woken as soon as a job is committed (`addon.jobs.wakeup`: in-process after the
commit, across processes on PostgreSQL by LISTEN/NOTIFY); it polls every
`worker_poll_interval_seconds` only as a fallback.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import timedelta
from typing import Protocol, Self

from sqlalchemy.ext.asyncio import AsyncSession

from addon import metrics
from addon.clock import Clock, current_clock
from addon.config import Settings
from addon.db.engine import Database
from addon.jobs.completion import Completion, running
from addon.jobs.flow import TOGETHER_PER_SLOT, Flow
from addon.jobs.leases import Leases
from addon.jobs.models import HOUSEKEEPING_KINDS
from addon.jobs.outcomes import Outcomes, not_recorded
from addon.jobs.registry import HandlerRegistry, JobHandler
from addon.jobs.repository import JobRepository
from addon.jobs.retry import DEFAULT_POLICY, Failure, backoff_delay, error_text
from addon.jobs.schemas import ClaimedJob, PermanentFailure, RetryLater
from addon.jobs.upkeep import Upkeep
from addon.jobs.wakeup import listen, wakeup_for
from addon.logs import log_fields

logger = logging.getLogger(__name__)

# Where they were first defined; capabilities import them from here.
__all__ = ["HandlerRegistry", "JobHandler", "Worker", "backoff_delay"]

# Jobs run together (a kind with a batch handler) a claim takes at most, all in one task.
JOBS_TOGETHER = 250


class WorkerServices(Protocol):
    """What the worker uses of the services it is given (`addon.services.Services`), which it
    hands on to each handler."""

    @property
    def settings(self) -> Settings: ...

    @property
    def db(self) -> Database: ...

    @property
    def handlers(self) -> HandlerRegistry[Self]: ...


class Worker:
    def __init__(
        self,
        services: WorkerServices,
        *,
        worker_id: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.services = services
        self.clock = clock or current_clock()
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.upkeep = Upkeep(services.db, self.clock, services.handlers.kinds)
        self.wakeup = wakeup_for(services.db)
        self.outcomes = Outcomes(services.db, self.worker_id, self.clock)
        self.flow: Flow | None = None  # while `run` runs
        self.leases = Leases(services.db, self.worker_id, self.clock, lambda: self.settings)

    @property
    def idle(self) -> bool:
        """Running, no job in hand, waiting for work (tests)."""
        flow = self.flow
        return flow is not None and not flow.running and self.wakeup.waiting > 0

    @property
    def settings(self) -> Settings:
        """Read at each use: the services' settings may be replaced while the worker runs."""
        return self.services.settings

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.worker_lease_seconds)

    def _jobs(self, session: AsyncSession) -> JobRepository:
        return JobRepository(session, self.clock)

    async def claim(self, limit: int) -> list[ClaimedJob]:
        """Lock up to `limit` due jobs for this worker, and more of those that run together
        (a kind with a batch handler: one task, taking a slot per TOGETHER_PER_SLOT of its
        jobs, so no more than `limit` slots' worth)."""
        until = self.clock.now() + self.lease
        async with self.services.db.transaction() as session:
            jobs = self._jobs(session)
            claimable = self.services.handlers.claimable
            lapsed = self.leases.lapsed_due()
            claimed = await jobs.claim(
                self.worker_id, limit, self.lease, claimable=claimable, lapsed=lapsed
            )
            together = [job for job in claimed if self._runs_together(job)]
            most = min(JOBS_TOGETHER, limit * TOGETHER_PER_SLOT)
            if together and len(claimed) == limit and len(together) < most:
                # A backlog of webhooks goes by hundreds. (A claim short of `limit` took every
                # due job it could: looking again would find none, a statement per webhook
                # at a steady rate.)
                kinds = sorted({job.kind for job in together})
                installations = sorted({job.installation_id for job in together})
                claimed += await jobs.claim(
                    self.worker_id,
                    most - len(together),
                    self.lease,
                    claimable=claimable,
                    only=(kinds, installations),
                )
        self.leases.taken(claimed, until)
        return claimed

    def start(
        self,
        claimed: list[ClaimedJob],
        held: dict[int, ClaimedJob],
        tasks: dict[int, asyncio.Task[None]],
    ) -> list[asyncio.Task[None]]:
        """A task for each group of the claimed jobs (see `_groups`); `held` gets the jobs
        (the heartbeat renews their leases until their outcome is written), `tasks` each
        job's task."""
        held.update((job.id, job) for job in claimed)
        started = []
        for group in self._groups(claimed):
            if len(group) == 1:
                task = asyncio.create_task(self._process(group[0], held))
                self.leases.running(group[0], task)
            else:
                task = asyncio.create_task(self._process_many(group, held))
            tasks.update((job.id, task) for job in group)
            started.append(task)
        return started

    async def run_once(self) -> int:
        """Claim one batch of due jobs and process them to their end; return how many were
        claimed (tests and one-off runs: `run` keeps claiming while jobs run)."""
        claimed = await self.claim(self.settings.worker_batch_size)
        if not claimed:
            return 0
        # Jobs whose outcome is not written yet: the heartbeat renews their leases.
        held: dict[int, ClaimedJob] = {}
        tasks: dict[int, asyncio.Task[None]] = {}
        started = self.start(claimed, held, tasks)
        heartbeat = asyncio.create_task(self.heartbeat(held, tasks))
        try:
            await asyncio.wait(started)
        finally:
            # Also when this round is cancelled: its jobs stop, their leases lapse.
            heartbeat.cancel()
            for task in started:
                task.cancel()
            await asyncio.gather(heartbeat, *started, return_exceptions=True)
        # Stopped without an outcome (a batch, for one job's lost lease): released.
        stopped = [job for job in claimed if tasks[job.id].cancelled() and job.id in held]
        if stopped:
            await self.release(stopped)
        for task in started:
            if not task.cancelled() and (error := task.exception()) is not None:
                raise error  # e.g. the database failed while recording an outcome
        return len(claimed)

    def _groups(self, claimed: list[ClaimedJob]) -> list[list[ClaimedJob]]:
        """The claimed jobs as they run: together, those of one kind with a batch handler and
        of one installation; every other job on its own."""
        groups: dict[tuple[str, int] | int, list[ClaimedJob]] = {}
        for job in claimed:
            key = (job.kind, job.installation_id) if self._runs_together(job) else job.id
            groups.setdefault(key, []).append(job)
        return list(groups.values())

    def _lapsed_too_often(self, job: ClaimedJob) -> bool:
        """Whether the job's runs ended without an outcome `WORKER_MAX_LAPSES` times in a
        row (its worker died or stalled past the lease each time): it is quarantined instead
        of run, as it may be what kills the workers (out of memory, say). Not housekeeping
        (the lifecycle check): no admin sees it to retry it, and without it an uninstall
        would go unnoticed; it does too little to kill a worker."""
        maximum = self.settings.worker_max_lapses
        return job.lapses >= maximum and job.kind not in HOUSEKEEPING_KINDS

    def _runs_together(self, job: ClaimedJob) -> bool:
        """Whether the job runs with others of its kind and installation: its kind has a batch
        handler, and its last run did not lapse (then it runs alone: it may be what killed
        that run's worker)."""
        return self._batched(job) and not job.lapses

    def _batched(self, job: ClaimedJob) -> bool:
        """Whether the job's kind has a batch handler."""
        registration = self.services.handlers.registration(job.kind)
        return registration is not None and registration.run_many is not None

    async def release(self, jobs: list[ClaimedJob], *, started: bool = True) -> None:
        """Hand back jobs stopped at shutdown (or, not `started`, claimed as it began), so no
        other worker waits out their leases."""
        try:
            async with self.services.db.transaction() as session:
                repository = self._jobs(session)
                released = [job for job in jobs if await repository.release(job, self.worker_id)]
        except Exception:
            logger.exception("Could not release the jobs of worker %s", self.worker_id)
            return
        for job in released:
            if not started:
                logger.info("Job %s (%s) claimed as the worker stopped: released", job.id, job.kind)
                continue
            logger.warning(
                "Job %s (%s) did not end within the shutdown grace period: released for "
                "another worker",
                job.id,
                job.kind,
            )

    async def run_until_idle(self, max_rounds: int = 1000) -> int:
        """Process until nothing is due (tests and one-off runs)."""
        total = 0
        for _ in range(max_rounds):
            count = await self.run_once()
            if not count:
                break
            total += count
        return total

    async def run(self, stop: asyncio.Event) -> None:
        """Process jobs until `stop` is set, up to `worker_batch_size` tasks at a time,
        claiming more as soon as one ends (`addon.jobs.flow`): a long job never holds up the
        others."""
        logger.info("Worker %s started", self.worker_id)
        listener = None
        if not self.services.db.is_sqlite:
            # Other processes' commits wake this one through PostgreSQL's NOTIFY.
            listener = asyncio.create_task(listen(self.services.db, self.wakeup, self.clock))
        self.flow = Flow(self)
        try:
            await self.flow.run(stop)
        finally:
            if listener is not None:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)
        logger.info("Worker %s stopped", self.worker_id)

    async def heartbeat(
        self, held: dict[int, ClaimedJob], tasks: dict[int, asyncio.Task[None]]
    ) -> None:
        """Renew the running jobs' leases (`addon.jobs.leases`)."""
        await self.leases.heartbeat(held, tasks)

    async def _process(self, job: ClaimedJob, held: dict[int, ClaimedJob]) -> None:
        registration = self.services.handlers.registration(job.kind)
        completion = Completion(
            [job], self.worker_id, self.clock, on_written=lambda: held.pop(job.id, None)
        )
        running.set(completion)  # this job's own task: see addon.jobs.completion
        log_fields(job_id=job.id, job_kind=job.kind, installation_id=job.installation_id)
        try:
            if registration is None:
                raise PermanentFailure(f"no handler for job kind {job.kind!r}")
            if self._lapsed_too_often(job):
                raise PermanentFailure(
                    f"Its last {job.lapses} runs never ended: the worker running it stopped "
                    "or stalled each time (out of memory, say). It is not run again, as it may "
                    "be what stops the workers; retry it once the cause is found."
                )
            try:
                await registration.run(job, self.services)
            except Exception:
                if completion.recorded is None:
                    raise
                # Its success committed with its last write: what failed after it is logged.
                logger.exception("Job %s (%s) failed after it was recorded", job.id, job.kind)
        except RetryLater as exc:
            # The handler knows when to look again (e.g. a confirmation, a batch still running).
            await self._wait(job, held, exc)
        except Exception as exc:
            if isinstance(exc, PermanentFailure):
                failure = Failure(error_text(exc), job.attempts, None, exc)
            elif (later := await self._deferred(job, exc)) is not None:
                await self._wait(job, held, later)
                return
            else:
                policy = registration.retry if registration else DEFAULT_POLICY
                failure = policy.decide(job.attempts, exc, self.settings, self.clock.now())
            if await self.outcomes.fail(job, held, registration, failure):
                metrics.job_ended(job.kind, "quarantined" if failure.gave_up else "retried")
        else:
            recorded = completion.recorded
            if recorded is None:
                recorded = await self.outcomes.record(
                    job, held, lambda jobs: jobs.complete(job, self.worker_id)
                )
            elif not recorded:
                not_recorded(job)
            if recorded:
                metrics.job_ended(job.kind, "done")

    async def _wait(self, job: ClaimedJob, held: dict[int, ClaimedJob], later: RetryLater) -> None:
        """The job waits `later.delay` seconds, its run counted only if `later` says so."""
        reason, run_after = error_text(later), self.clock.now() + timedelta(seconds=later.delay)
        counted = later.counted
        await self.outcomes.record(
            job,
            held,
            lambda jobs: jobs.reschedule(job, self.worker_id, reason, run_after, counted=counted),
        )

    async def _deferred(self, job: ClaimedJob, error: Exception) -> RetryLater | None:
        """What the registry's `defer_failures` makes of the failure (None: the kind's policy
        decides). Its own failure leaves the decision to the policy."""
        deferral = self.services.handlers.deferral
        if deferral is None:
            return None
        try:
            return await deferral(job, error, self.services)
        except Exception:
            logger.exception("Looking at the failure of job %s (%s) failed", job.id, job.kind)
            return None

    async def _process_many(self, jobs: list[ClaimedJob], held: dict[int, ClaimedJob]) -> None:
        """Run jobs of one kind and installation with the kind's batch handler; if it fails
        before their success is recorded, run each on its own (`_process`: its retries)."""
        first = jobs[0]
        registration = self.services.handlers.registration(first.kind)
        assert registration is not None and registration.run_many is not None

        def written() -> None:
            for job in jobs:
                held.pop(job.id, None)

        completion = Completion(jobs, self.worker_id, self.clock, on_written=written)
        running.set(completion)
        log_fields(job_id=first.id, job_kind=first.kind, installation_id=first.installation_id)
        try:
            await registration.run_many(jobs, self.services)
        except Exception as exc:
            if completion.recorded is None:
                logger.info(
                    "%d %s jobs failed together (%s): each runs on its own",
                    len(jobs),
                    first.kind,
                    error_text(exc),
                )
                # Each in its own task: its own `running` completion.
                await asyncio.gather(*(asyncio.create_task(self._process(j, held)) for j in jobs))
                return
            logger.exception("Jobs %s (%s) failed after they were recorded", first.id, first.kind)
        if completion.recorded is None:
            # The handler wrote nothing to complete them in: one statement for all.
            async with self.services.db.transaction() as session:
                ids = await self._jobs(session).complete_many(jobs, self.worker_id)
            completion.committed(ids)
        for job in jobs:
            if job.id in completion.written:
                metrics.job_ended(job.kind, "done")
            else:
                not_recorded(job)

    async def prune_if_due(self) -> None:
        """The hourly upkeep of the jobs table (`upkeep.py`)."""
        await self.upkeep.if_due()
