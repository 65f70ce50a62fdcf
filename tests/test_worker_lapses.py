"""A job whose runs end without an outcome (its worker died or stalled past the lease each
time: out of memory, say) is quarantined after `WORKER_MAX_LAPSES` such runs in a row, instead
of being claimed again for ever, one worker after another. A run that ends with an outcome
starts the count again, as the Activity page's Retry does.

A run "ends without an outcome" here as it does when its worker is killed: a worker claims the
job and never writes anything (tests/test_worker_crash.py kills a real process), and the
manual clock moves past the lease."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.clock import ManualClock
from addon.jobs.models import HOUSEKEEPING_KINDS, Job, JobStatus
from addon.jobs.repository import JobRepository, Retried
from addon.jobs.retry import Failure
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.jobs.worker import Worker
from addon.services import Services
from tests.factories import make_installation

KIND = "test.lapsing"


class Nothing(BaseModel):
    pass


class Kind:
    """A registered kind that records its runs, its batches and its failure hook's calls."""

    def __init__(self, services: Services, *, batch: bool = False) -> None:
        self.runs: list[int] = []
        self.together: list[list[int]] = []
        self.failures: list[tuple[int, Failure]] = []
        self.retry_later = False

        async def run(job: ClaimedJob, _: Nothing, __: Services) -> None:
            self.runs.append(job.id)
            if self.retry_later:
                raise RetryLater("looks again later", 60)

        async def run_many(jobs: list[tuple[ClaimedJob, Nothing]], _: Services) -> None:
            self.together.append([job.id for job, _ in jobs])

        async def failed(_: AsyncSession, job: ClaimedJob, __: Nothing, failure: Failure) -> None:
            self.failures.append((job.id, failure))

        services.handlers.register(
            KIND,
            run,
            payload=Nothing,
            on_failure=failed,
            batch=run_many if batch else None,
        )


async def enqueue(services: Services, installation_id: int) -> int:
    async with services.db.transaction() as session:
        job_id = await JobRepository(session).enqueue(installation_id, KIND, {})
    assert job_id is not None
    return job_id


async def row(services: Services, job_id: int) -> Job:
    async with services.db.session() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def lapse(services: Services, clock: ManualClock, job_ids: list[int], times: int) -> None:
    """`times` runs of these jobs that end without an outcome: each claimed by a worker that
    dies at once, then one lease goes by."""
    for run in range(times):
        async with services.db.transaction() as session:
            claimed = await JobRepository(session, clock).claim(
                f"dies-{run}",
                50,
                timedelta(seconds=services.settings.worker_lease_seconds),
                claimable=services.handlers.claimable,
            )
        assert sorted(job.id for job in claimed) == sorted(job_ids)
        clock.advance(services.settings.worker_lease_seconds + 1)


async def test_a_job_whose_runs_never_end_is_quarantined_after_the_allowed_lapses(
    services: Services, clock: ManualClock
) -> None:
    kind = Kind(services)
    installation = await make_installation(services)
    job_id = await enqueue(services, installation)
    allowed = services.settings.worker_max_lapses
    assert allowed == 3  # the default

    await lapse(services, clock, [job_id], allowed)
    assert (await row(services, job_id)).lapses == allowed - 1  # the last one not yet seen
    assert await Worker(services, worker_id="survivor").run_until_idle() == 1

    job = await row(services, job_id)
    assert job.status is JobStatus.QUARANTINED and job.locked_by is None
    assert job.lapses == allowed
    assert job.last_error is not None and "last 3 runs never ended" in job.last_error
    assert kind.runs == []  # not run again
    [(failed_id, failure)] = kind.failures  # the kind records it as for any other quarantine
    assert failed_id == job_id and failure.gave_up


async def test_fewer_lapses_than_allowed_run_the_job_again(
    services: Services, clock: ManualClock
) -> None:
    kind = Kind(services)
    installation = await make_installation(services)
    job_id = await enqueue(services, installation)

    await lapse(services, clock, [job_id], services.settings.worker_max_lapses - 1)
    assert await Worker(services, worker_id="survivor").run_until_idle() == 1

    assert kind.runs == [job_id] and kind.failures == []
    assert (await row(services, job_id)).status is JobStatus.DONE


async def test_a_run_that_ends_with_an_outcome_starts_the_count_again(
    services: Services, clock: ManualClock
) -> None:
    kind = Kind(services)
    kind.retry_later = True
    installation = await make_installation(services)
    job_id = await enqueue(services, installation)
    allowed = services.settings.worker_max_lapses

    await lapse(services, clock, [job_id], allowed - 1)
    assert await Worker(services, worker_id="between").run_until_idle() == 1
    assert kind.runs == [job_id]
    job = await row(services, job_id)
    assert (job.status, job.lapses) == (JobStatus.PENDING, 0)

    clock.set(job.run_after)
    await lapse(services, clock, [job_id], allowed - 1)
    kind.retry_later = False
    assert await Worker(services, worker_id="survivor").run_until_idle() == 1
    assert kind.runs == [job_id, job_id] and kind.failures == []
    assert (await row(services, job_id)).status is JobStatus.DONE


async def test_the_activity_retry_of_such_a_job_gives_it_fresh_lapses(
    services: Services, clock: ManualClock
) -> None:
    kind = Kind(services)
    installation = await make_installation(services)
    job_id = await enqueue(services, installation)
    await lapse(services, clock, [job_id], services.settings.worker_max_lapses)
    await Worker(services, worker_id="survivor").run_until_idle()
    assert (await row(services, job_id)).status is JobStatus.QUARANTINED

    async with services.db.transaction() as session:
        assert await JobRepository(session, clock).retry(installation, job_id) is Retried.ITSELF
    job = await row(services, job_id)
    assert (job.status, job.lapses, job.attempts) == (JobStatus.PENDING, 0, 0)
    assert await Worker(services, worker_id="after-retry").run_until_idle() == 1
    assert kind.runs == [job_id]
    assert (await row(services, job_id)).status is JobStatus.DONE


@pytest.mark.parametrize("allowed", [1, 2])
async def test_the_allowed_lapses_are_a_setting(
    services: Services, clock: ManualClock, allowed: int
) -> None:
    services.settings = services.settings.model_copy(update={"worker_max_lapses": allowed})
    kind = Kind(services)
    installation = await make_installation(services)
    job_id = await enqueue(services, installation)

    await lapse(services, clock, [job_id], allowed)
    await Worker(services, worker_id="survivor").run_until_idle()
    assert kind.runs == []
    assert (await row(services, job_id)).status is JobStatus.QUARANTINED


async def test_a_job_run_with_others_is_quarantined_alone(
    services: Services, clock: ManualClock
) -> None:
    """A kind whose jobs run together: the one that lapsed too often is quarantined on its own,
    the others run together as before."""
    kind = Kind(services, batch=True)
    installation = await make_installation(services)
    lapsing = await enqueue(services, installation)
    await lapse(services, clock, [lapsing], services.settings.worker_max_lapses)
    others = [await enqueue(services, installation) for _ in range(2)]

    assert await Worker(services, worker_id="survivor").run_until_idle() == 3
    assert kind.together == [others] and kind.runs == []
    assert [job_id for job_id, _ in kind.failures] == [lapsing]
    statuses = [(await row(services, job_id)).status for job_id in [lapsing, *others]]
    assert statuses == [JobStatus.QUARANTINED, JobStatus.DONE, JobStatus.DONE]


async def test_a_dead_workers_jobs_come_back_together_each_alone(
    services: Services, clock: ManualClock
) -> None:
    """Their first lapse in a row (most often the worker was killed for reasons of its own:
    a deploy, the machine): taken back as many as a claim takes, but each run on its own, not
    with others of its kind."""
    kind = Kind(services, batch=True)
    installation = await make_installation(services)
    jobs = [await enqueue(services, installation) for _ in range(3)]
    await lapse(services, clock, jobs, 1)

    worker = Worker(services, worker_id="survivor")
    claimed = await worker.claim(10)
    assert sorted((job.id, job.lapses) for job in claimed) == [(job_id, 1) for job_id in jobs]
    await asyncio.gather(*worker.start(claimed, {}, {}))
    assert kind.together == [] and sorted(kind.runs) == jobs


async def test_jobs_that_lapsed_again_come_back_one_at_a_time_each_alone(
    services: Services, clock: ManualClock
) -> None:
    """Suspects: any of them may be what kills its worker. Each is taken by a worker holding
    no other suspect, so one that kills its worker does not take the others down with it each
    time (they would reach the allowed lapses with it). The next is taken as soon as one ends,
    without waiting for the poll interval."""
    gate = asyncio.Event()
    ran: list[int] = []

    async def run(job: ClaimedJob, _: Nothing, __: Services) -> None:
        ran.append(job.id)
        await gate.wait()

    services.handlers.register(KIND, run, payload=Nothing)
    installation = await make_installation(services)
    jobs = [await enqueue(services, installation) for _ in range(2)]
    await lapse(services, clock, jobs, 2)  # twice held by a worker that died

    worker = Worker(services, worker_id="survivor")
    first = await worker.claim(10)
    assert [(job.id, job.lapses) for job in first] == [(jobs[0], 2)]
    [task] = worker.start(first, {}, {})
    await asyncio.sleep(0)
    assert ran == [jobs[0]]
    # Not while that one runs here (within the poll interval, but its last look found one:
    # it would look again).
    assert await worker.claim(10) == []
    other = await Worker(services, worker_id="another").claim(10)
    assert [job.id for job in other] == [jobs[1]]  # another worker may take it

    async with services.db.transaction() as session:  # given back, for this worker to take
        assert await JobRepository(session, clock).release(other[0], "another")
        await session.execute(
            update(Job).where(Job.id == jobs[1]).values(
                status=JobStatus.RUNNING, locked_by="dies", locked_until=clock.now(), lapses=1
            )
        )  # fmt: skip
    clock.advance(0.001)
    gate.set()
    await task
    second = await worker.claim(10)  # at once, within the poll interval: the last look found one
    assert [job.id for job in second] == [jobs[1]]


def test_housekeeping_is_never_quarantined_for_its_lapses(services: Services) -> None:
    """The lifecycle check: no admin sees it to retry it, and without it an uninstall would go
    unnoticed."""
    worker = Worker(services)
    lapsed = {"installation_id": 1, "payload": {}, "attempts": 9, "lapses": 9}
    assert worker._lapsed_too_often(ClaimedJob(id=1, kind=KIND, **lapsed))
    for kind in HOUSEKEEPING_KINDS:
        assert not worker._lapsed_too_often(ClaimedJob(id=2, kind=kind, **lapsed))
