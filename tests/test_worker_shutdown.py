"""Graceful shutdown (SIGTERM sets the worker's stop event): nothing more is claimed, the jobs in
hand get WORKER_SHUTDOWN_GRACE_SECONDS to end, and those still running then are stopped and
released, due at once for another worker with their attempt not counted (no lease to wait out)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from addon.clock import ManualClock
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.jobs.worker import Worker
from addon.services import Services
from tests.factories import make_installation, recorded_kind


async def job_rows(services: Services) -> dict[int, Job]:
    async with services.db.session() as session:
        return {job.id: job for job in (await session.execute(select(Job))).scalars()}


async def done(services: Services, job_id: int) -> None:
    """Until the job is recorded done (by a worker task of this event loop)."""
    for _ in range(10_000):
        if (await job_rows(services))[job_id].status is JobStatus.DONE:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"job {job_id} never ended")


async def test_sigterm_finishes_or_releases_the_jobs_in_hand(
    services: Services, clock: ManualClock
) -> None:
    installation = await make_installation(services)
    started: dict[str, asyncio.Event] = {"quick": asyncio.Event(), "slow": asyncio.Event()}
    finish_quick = asyncio.Event()
    hang = True

    async def handler(job: ClaimedJob, _: Services) -> None:
        name = str(job.payload["name"])
        started[name].set()
        if name == "quick":
            await finish_quick.wait()
        elif hang:
            await asyncio.Event().wait()  # never ends by itself

    services.handlers.register("test.shutdown", handler)
    async with services.db.transaction() as session:
        jobs = JobRepository(session)
        quick = await jobs.enqueue(installation, "test.shutdown", {"name": "quick"})
        slow = await jobs.enqueue(installation, "test.shutdown", {"name": "slow"})
    assert quick is not None and slow is not None

    stop = asyncio.Event()
    worker = Worker(services, worker_id="stopping")
    running = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in started.values())), 60)
    stop.set()  # what SIGTERM does in `addon worker` and `addon serve`
    async with services.db.transaction() as session:  # arrives after the stop: not claimed
        late = await JobRepository(session).enqueue(installation, "test.shutdown", {"name": "x"})
    finish_quick.set()  # within the grace period: recorded as done
    await done(services, quick)
    assert not running.done()  # the slow one still has its grace period
    grace = services.settings.worker_shutdown_grace_seconds
    # The grace period begun (on a loaded machine the quick job may be recorded done before the
    # worker reached it; advanced earlier, the clock would leave its sleep waiting on).
    for _ in range(10_000):
        if clock.sleeping_until(clock.now() + timedelta(seconds=grace)):
            break
        await asyncio.sleep(0.01)
    clock.advance(grace)
    await asyncio.wait_for(running, 60)

    rows = await job_rows(services)
    assert rows[quick].status is JobStatus.DONE
    released = rows[slow]
    assert released.status is JobStatus.PENDING
    assert released.locked_by is None and released.locked_until is None
    assert released.attempts == 0  # the interrupted attempt is not counted
    assert released.run_after <= clock.now()  # due at once, no lease to wait out
    assert late is not None and rows[late].status is JobStatus.PENDING and rows[late].attempts == 0

    hang = False
    assert await Worker(services, worker_id="next").run_until_idle() == 2  # slow, late
    rows = await job_rows(services)
    assert rows[slow].status is JobStatus.DONE and rows[slow].attempts == 1


async def test_a_batch_without_a_stop_runs_to_its_end(
    services: Services, clock: ManualClock
) -> None:
    installation = await make_installation(services)
    seen: list[int] = []

    async def handler(job: ClaimedJob, _: Services) -> None:
        seen.append(job.id)

    services.handlers.register("test.plain", handler)
    async with services.db.transaction() as session:
        await JobRepository(session).enqueue(installation, "test.plain", {})
    assert await Worker(services).run_once() == 1 and len(seen) == 1


async def test_jobs_a_claim_brings_after_the_stop_are_released_unstarted(
    services: Services, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim under way when SIGTERM comes may still lock jobs, even some committed after the
    stop: the stopping worker starts none of them; they are due at once for another worker,
    their attempt not counted."""
    installation = await make_installation(services)
    ran = recorded_kind(services, "test.late")
    stop = asyncio.Event()
    late: list[int] = []
    claim = Worker.claim

    async def stopped_while_claiming(worker: Worker, limit: int) -> list[ClaimedJob]:
        if not late:  # the first claim: the stop comes, then a job, before its query runs
            stop.set()
            async with services.db.transaction() as session:
                job_id = await JobRepository(session).enqueue(installation, "test.late", {})
            assert job_id is not None
            late.append(job_id)
        return await claim(worker, limit)

    monkeypatch.setattr(Worker, "claim", stopped_while_claiming)
    await asyncio.wait_for(Worker(services, worker_id="stopping").run(stop), 60)

    assert ran == []
    job = (await job_rows(services))[late[0]]
    assert job.status is JobStatus.PENDING and job.attempts == 0
    assert job.locked_by is None and job.run_after <= clock.now()
    monkeypatch.setattr(Worker, "claim", claim)
    assert await Worker(services, worker_id="next").run_until_idle() == 1
    assert ran == late
