"""Leases under crashes and slow jobs.

A real worker process is killed with SIGKILL in the middle of a job and another worker finishes
it within one lease (an initial-sync step: tests/initial_sync/test_worker_crash.py); a slow job
whose worker is alive keeps its lease (the heartbeat renews it) and is never taken over; a
worker that lost its lease stops and leaves the outcome to the new holder. The worker process
runs on the real clock (its leases are real); everything in this process runs on the manual
clock, moved by the test to "one lease after the kill" instead of waiting for it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from addon.clock import ManualClock
from addon.jobs.leases import Leases
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository, Renewal
from addon.jobs.schemas import ClaimedJob
from addon.jobs.worker import Worker
from addon.services import Services
from tests.factories import make_installation
from tests.worker_process import BLOCK_JOB, WorkerProcess, until, worker_process  # noqa: F401


async def job_row(services: Services, job_id: int) -> Job:
    async with services.db.session() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def enqueue(services: Services, installation_id: int, kind: str) -> int:
    async with services.db.transaction() as session:
        job_id = await JobRepository(session).enqueue(installation_id, kind, {})
    assert job_id is not None
    return job_id


async def test_a_killed_workers_job_is_finished_by_another_worker_within_one_lease(
    services: Services,
    clock: ManualClock,
    worker_process: WorkerProcess,  # noqa: F811
) -> None:
    lease = 3.0  # short, so that the process's heartbeat (every second) is seen renewing it
    services.settings = services.settings.model_copy(update={"worker_lease_seconds": lease})
    installation = await make_installation(services)
    finished: list[int] = []

    async def finish_block(job: ClaimedJob, _: Services) -> None:
        finished.append(job.attempts)

    services.handlers.register(BLOCK_JOB, finish_block)
    job_id = await enqueue(services, installation, BLOCK_JOB)

    await worker_process.start(services.settings)
    await worker_process.until(worker_process.file(f"started-{job_id}"), "the job to start")
    claimed = await job_row(services, job_id)

    async def renewed() -> bool:
        job = await job_row(services, job_id)
        return job.locked_until is not None and job.locked_until > claimed.locked_until  # type: ignore[operator]

    await worker_process.until(renewed, "the heartbeat to renew the lease")
    killed_at = await worker_process.kill()

    stuck = await job_row(services, job_id)
    assert stuck.status is JobStatus.RUNNING and stuck.locked_until is not None
    assert f":{worker_process.pid}:" in (stuck.locked_by or "")
    assert stuck.locked_until <= killed_at + timedelta(seconds=lease)  # no renewal after death

    clock.set(killed_at + timedelta(seconds=lease, microseconds=1))  # one lease after the kill
    assert await Worker(services, worker_id="survivor").run_until_idle() == 1
    done = await job_row(services, job_id)
    assert done.status is JobStatus.DONE and done.locked_by is None
    assert finished == [stuck.attempts + 1]


async def test_a_slow_job_keeps_its_lease_and_is_never_taken_over(
    services: Services, clock: ManualClock
) -> None:
    installation = await make_installation(services)
    lease = services.settings.worker_lease_seconds
    started, release = asyncio.Event(), asyncio.Event()
    runs: Counter[str] = Counter()

    async def slow(job: ClaimedJob, _: Services) -> None:
        runs[job.kind] += 1
        started.set()
        await release.wait()

    services.handlers.register("test.slow", slow)
    job_id = await enqueue(services, installation, "test.slow")
    alive = asyncio.create_task(Worker(services, worker_id="alive").run_once())
    other = Worker(services, worker_id="other")
    await started.wait()

    async def heartbeat_waiting() -> bool:
        return clock.sleepers == 1

    async def renewed() -> bool:
        job = await job_row(services, job_id)
        return job.locked_until == clock.now() + timedelta(seconds=lease) and clock.sleepers == 1

    for _ in range(3 * 4):  # four leases, a beat at a time
        await until(heartbeat_waiting, "the heartbeat to wait for its next beat")
        clock.advance(lease / 3)
        await until(renewed, "the heartbeat to renew the lease")
        assert await other.run_once() == 0  # never due: the lease was renewed in time
    release.set()
    assert await alive == 1
    job = await job_row(services, job_id)
    assert (job.status, job.attempts, runs["test.slow"]) == (JobStatus.DONE, 1, 1)


async def test_a_worker_that_lost_its_lease_stops_and_writes_nothing_over_the_new_holder(
    services: Services, clock: ManualClock
) -> None:
    installation = await make_installation(services)
    lease = services.settings.worker_lease_seconds
    started = {"stalled": asyncio.Event(), "taker": asyncio.Event()}
    release = {"stalled": asyncio.Event(), "taker": asyncio.Event()}
    stopped: list[str] = []

    async def step(job: ClaimedJob, _: Services) -> None:
        holder = "stalled" if job.attempts == 1 else "taker"
        started[holder].set()
        try:
            await release[holder].wait()
        except asyncio.CancelledError:
            stopped.append(holder)
            raise
        if holder == "stalled":
            raise RuntimeError("late failure of a worker that lost its lease")

    services.handlers.register("test.step", step)
    job_id = await enqueue(services, installation, "test.step")
    stalled = asyncio.create_task(Worker(services, worker_id="stalled").run_once())
    await started["stalled"].wait()
    # The stalled worker could not renew in time (say its process was paused): the lease ran
    # out and another worker took the job over.
    async with services.db.transaction() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        job.locked_until = clock.now()
    clock.advance(0.001)
    taker = asyncio.create_task(Worker(services, worker_id="taker").run_once())
    await started["taker"].wait()

    # The stalled worker wakes up and its job ends (here: fails) before its heartbeat noticed.
    release["stalled"].set()
    assert await stalled == 1
    job = await job_row(services, job_id)
    assert (job.status, job.locked_by, job.attempts) == (JobStatus.RUNNING, "taker", 2)
    assert job.last_error is None  # the late failure was not written over the taker's run

    # The taker is slow too, but alive: its heartbeat keeps the job.
    clock.advance(lease / 3)

    async def renewed() -> bool:
        held = await job_row(services, job_id)
        return held.locked_until == clock.now() + timedelta(seconds=lease)

    await until(renewed, "the taker's heartbeat")
    release["taker"].set()
    assert await taker == 1
    job = await job_row(services, job_id)
    assert (job.status, job.attempts, job.last_error) == (JobStatus.DONE, 2, None)
    assert stopped == []


async def test_a_worker_whose_heartbeat_finds_the_lease_lost_stops_the_job(
    services: Services, clock: ManualClock
) -> None:
    installation = await make_installation(services)
    lease = services.settings.worker_lease_seconds
    started = asyncio.Event()
    stopped = asyncio.Event()
    done: list[int] = []

    async def step(job: ClaimedJob, _: Services) -> None:
        if job.attempts > 1:
            done.append(job.attempts)
            return
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            stopped.set()
            raise

    services.handlers.register("test.step", step)
    job_id = await enqueue(services, installation, "test.step")
    stalled = asyncio.create_task(Worker(services, worker_id="stalled").run_once())
    await started.wait()
    async with services.db.transaction() as session:  # its lease ran out while it was paused
        job = await session.get(Job, job_id)
        assert job is not None
        job.locked_until = clock.now()
    clock.advance(0.001)
    assert await Worker(services, worker_id="taker").run_once() == 1  # taken over, and done
    clock.advance(lease / 3)  # the stalled worker's next beat finds the lease lost
    await stopped.wait()
    assert await stalled == 1
    job = await job_row(services, job_id)
    assert (job.status, job.attempts, done) == (JobStatus.DONE, 2, [2])


class CutOff:
    """A job running in a worker whose renewals the test decides (`renew`), and what the
    heartbeat decided after each one that failed: the seconds since the claim, and the jobs
    it still held."""

    def __init__(self, services: Services, clock: ManualClock) -> None:
        self.services, self.clock = services, clock
        self.started, self.stopped, self.finish = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self.judged: list[tuple[float, list[int]]] = []
        self.judging = asyncio.Event()

    async def start(self, monkeypatch: pytest.MonkeyPatch, renew: Any) -> int:
        async def step(job: ClaimedJob, _: Services) -> None:
            self.started.set()
            try:
                await self.finish.wait()
            except asyncio.CancelledError:
                self.stopped.set()
                raise

        stop_lapsed = Leases._stop_lapsed

        def watched(leases: Leases, held: dict[int, ClaimedJob], tasks: Any) -> None:
            stop_lapsed(leases, held, tasks)
            self.judged.append(((self.clock.now() - self.claimed_at).total_seconds(), sorted(held)))
            self.judging.set()

        self.services.handlers.register("test.step", step)
        installation = await make_installation(self.services)
        job_id = await enqueue(self.services, installation, "test.step")
        self.claimed_at = self.clock.now()
        self.running = asyncio.create_task(Worker(self.services, worker_id="cut-off").run_once())
        await self.started.wait()
        monkeypatch.setattr(JobRepository, "renew", renew)
        monkeypatch.setattr(Leases, "_stop_lapsed", watched)
        return job_id

    async def renewal_waited_for(self) -> None:
        async def waiting() -> bool:
            return self.clock.sleepers == 1  # the time the renewal is given

        await until(waiting, "the heartbeat to wait for the renewal")


async def test_a_worker_that_cannot_renew_stops_the_job_before_its_lease_runs_out(
    services: Services, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database unreachable for the heartbeat: a failed renewal is tried again sooner than
    the next beat, and the job runs on while its lease does; it is stopped half a beat before
    the lease runs out, as another worker may take it over then (its outcome is left to that
    worker)."""
    lease = services.settings.worker_lease_seconds  # 30 s: a beat every 10 s
    cut = CutOff(services, clock)

    async def unreachable(*_: object) -> None:
        raise ConnectionError("the database went away")

    job_id = await cut.start(monkeypatch, unreachable)
    clock.advance(lease / 3)
    while True:
        await cut.judging.wait()
        cut.judging.clear()
        if not cut.judged[-1][1]:
            break
        clock.advance(lease / 9)  # a failed beat is tried again after a third of a beat
    await cut.stopped.wait()
    assert all(held == [job_id] for at, held in cut.judged if at < lease - lease / 6)
    stopped_at, held = cut.judged[-1]
    assert held == [] and lease - lease / 6 <= stopped_at < lease
    assert len(cut.judged) > 2
    assert await cut.running == 1
    job = await job_row(services, job_id)
    # Not released (the database may be unreachable): its lease runs out, another worker
    # takes it then.
    assert (job.status, job.locked_by) == (JobStatus.RUNNING, "cut-off")


async def test_a_renewal_that_hangs_is_given_up_and_the_job_stopped_in_time(
    services: Services, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database out of reach often means waiting, not failing: the renewal is waited for
    until the job is due to stop (half a beat before its lease runs out), then given up, and
    the job stopped."""
    lease = services.settings.worker_lease_seconds
    cut = CutOff(services, clock)
    hanging = asyncio.Event()
    cancelled: list[bool] = []

    async def hangs(*_: object) -> None:
        hanging.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    await cut.start(monkeypatch, hangs)
    clock.advance(lease / 3)
    await hanging.wait()
    await cut.renewal_waited_for()
    clock.advance(lease / 2 - 0.001)  # the lease runs out at 30 s, the job stops at 25 s
    await asyncio.sleep(0)
    assert cut.judged == [] and not cut.stopped.is_set()
    clock.advance(0.001)
    await cut.stopped.wait()
    assert cut.judged == [(lease - lease / 6, [])]
    assert cancelled == [True]  # the renewal itself given up
    assert await cut.running == 1


async def test_a_slow_renewal_still_renews_and_stops_nothing(
    services: Services, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's write turn or a lock held a while: a renewal that ends before any job is due
    to stop renews them all."""
    lease = services.settings.worker_lease_seconds
    cut = CutOff(services, clock)
    slow, renewing = asyncio.Event(), asyncio.Event()
    renew = JobRepository.renew

    async def slowly(self: JobRepository, *args: Any) -> Renewal:
        renewing.set()
        await slow.wait()
        return await renew(self, *args)

    job_id = await cut.start(monkeypatch, slowly)
    clock.advance(lease / 3)
    await renewing.wait()
    await cut.renewal_waited_for()
    clock.advance(lease / 3)  # 20 s since the claim: longer than a beat, within the lease
    slow.set()

    async def renewed() -> bool:
        job = await job_row(services, job_id)
        # Counted from when the statement ran.
        return job.locked_until == cut.claimed_at + timedelta(seconds=2 * lease / 3 + lease)

    await until(renewed, "the slow renewal")
    assert cut.judged == [] and not cut.stopped.is_set()
    cut.finish.set()
    assert await cut.running == 1
    assert (await job_row(services, job_id)).status is JobStatus.DONE
