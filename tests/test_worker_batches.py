"""Jobs handled together (`HandlerRegistry.register(batch=…)`): the due jobs of one kind and
one installation that a claim brings run in one call and one transaction; a failure runs each
on its own with its own retries; a crash mid-batch leaves nothing half done and another worker
runs them all after one lease."""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from sqlalchemy import select

from addon.clock import ManualClock
from addon.jobs.completion import complete_in
from addon.jobs.flow import TOGETHER_PER_SLOT
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.jobs.worker import Worker
from addon.services import Services
from tests.factories import make_installation

pytestmark = pytest.mark.usefixtures("clock")

KIND = "test.together"
AFTER = "test.after"


class Numbered(BaseModel):
    n: int


async def enqueue(services: Services, installation_id: int, n: int, kind: str = KIND) -> int:
    async with services.db.transaction() as session:
        job_id = await JobRepository(session).enqueue(installation_id, kind, {"n": n})
    assert job_id is not None
    return job_id


async def rows(services: Services, kind: str = KIND) -> dict[int, Job]:
    async with services.db.session() as session:
        found = await session.scalars(select(Job).where(Job.kind == kind).order_by(Job.id))
        return {job.payload["n"]: job for job in found}


async def test_jobs_of_one_installation_run_together_and_complete_in_its_transaction(
    services: Services,
) -> None:
    first = await make_installation(services)
    second = await make_installation(services, "http://other.test/graphql/")
    groups: list[tuple[int, list[int]]] = []
    alone: list[int] = []

    async def one(job: ClaimedJob, payload: Numbered, _: Services) -> None:
        alone.append(payload.n)

    async def together(batch: list[tuple[ClaimedJob, Numbered]], services: Services) -> None:
        groups.append((batch[0][0].installation_id, [payload.n for _, payload in batch]))
        async with services.db.transaction() as session:
            # The work and the jobs' success commit together.
            await JobRepository(session).enqueue(first, AFTER, {"n": len(batch)})
            await complete_in(session)

    services.handlers.register(KIND, one, payload=Numbered, batch=together)
    services.handlers.register(AFTER, one, payload=Numbered)
    for n, installation in ((1, first), (2, second), (3, first), (4, first), (5, second)):
        await enqueue(services, installation, n)

    assert await Worker(services).run_once() == 5
    assert sorted(groups) == [(first, [1, 3, 4]), (second, [2, 5])]
    assert alone == []
    done = await rows(services)
    assert {n: job.status for n, job in done.items()} == dict.fromkeys(range(1, 6), JobStatus.DONE)
    assert all(job.locked_by is None and job.finished_at is not None for job in done.values())
    assert sorted(n for n in await rows(services, AFTER)) == [2, 3]


async def test_a_claim_takes_more_jobs_to_run_together_than_its_batch_size(
    services: Services,
) -> None:
    services.settings = services.settings.model_copy(update={"worker_batch_size": 2})
    installation = await make_installation(services)
    other = await make_installation(services, "http://other.test/graphql/")
    groups: list[list[int]] = []

    async def one(job: ClaimedJob, payload: Numbered, _: Services) -> None:
        groups.append([payload.n])

    async def together(batch: list[tuple[ClaimedJob, Numbered]], _: Services) -> None:
        groups.append([payload.n for _, payload in batch])

    services.handlers.register(KIND, one, payload=Numbered, batch=together)
    services.handlers.register(AFTER, one, payload=Numbered)
    await enqueue(services, installation, 0, AFTER)
    for n in range(1, 6):
        await enqueue(services, installation, n)
    await enqueue(services, other, 6)  # another installation's: not taken with them
    await enqueue(services, installation, 7, AFTER)

    # The claim's two (0, 1), then the other jobs of kind and installation 1 has.
    assert await Worker(services).run_once() == 6
    assert sorted(groups) == [[0], [1, 2, 3, 4, 5]]
    assert await Worker(services).run_until_idle() == 2
    assert sorted(groups) == [[0], [1, 2, 3, 4, 5], [6], [7]]


async def test_a_claim_takes_no_more_jobs_to_run_together_than_its_slots_hold(
    services: Services,
) -> None:
    """A batch takes a worker slot per 25 of its jobs (`flow.slots`): with 2 slots free, a
    claim takes 50 of them, not 250, so a worker with few slots keeps room for other work."""
    services.settings = services.settings.model_copy(update={"worker_batch_size": 2})
    installation = await make_installation(services)
    groups: list[int] = []

    async def one(job: ClaimedJob, payload: Numbered, _: Services) -> None:
        raise AssertionError("these jobs run together")

    async def together(batch: list[tuple[ClaimedJob, Numbered]], _: Services) -> None:
        groups.append(len(batch))

    services.handlers.register(KIND, one, payload=Numbered, batch=together)
    for n in range(120):
        await enqueue(services, installation, n)

    assert await Worker(services).run_once() == 2 * TOGETHER_PER_SLOT
    assert await Worker(services).run_until_idle() == 120 - 2 * TOGETHER_PER_SLOT
    assert groups == [50, 50, 20]


async def test_a_batch_handler_that_completes_nothing_has_the_worker_complete_them(
    services: Services,
) -> None:
    installation = await make_installation(services)
    seen: list[int] = []

    async def one(job: ClaimedJob, payload: Numbered, _: Services) -> None:
        raise AssertionError("run together")

    async def together(batch: list[tuple[ClaimedJob, Numbered]], _: Services) -> None:
        seen.extend(payload.n for _, payload in batch)

    services.handlers.register(KIND, one, payload=Numbered, batch=together)
    for n in range(3):
        await enqueue(services, installation, n)
    assert await Worker(services).run_until_idle() == 3
    assert seen == [0, 1, 2]
    assert {job.status for job in (await rows(services)).values()} == {JobStatus.DONE}


async def test_a_failing_batch_runs_each_job_alone_with_its_own_retries(
    services: Services,
) -> None:
    installation = await make_installation(services)
    alone: list[int] = []

    async def one(job: ClaimedJob, payload: Numbered, services: Services) -> None:
        alone.append(payload.n)
        if payload.n == 2:
            raise RuntimeError("record 2 is bad")
        async with services.db.transaction() as session:
            await complete_in(session)

    async def together(batch: list[tuple[ClaimedJob, Numbered]], services: Services) -> None:
        async with services.db.transaction() as session:
            await JobRepository(session).enqueue(installation, AFTER, {"n": 0})
            await complete_in(session)
            raise RuntimeError("one of them is bad")  # rolls back the work and the completion

    services.handlers.register(KIND, one, payload=Numbered, batch=together)
    for n in (1, 2, 3):
        await enqueue(services, installation, n)
    assert await Worker(services).run_once() == 3

    assert sorted(alone) == [1, 2, 3]
    found = await rows(services)
    assert found[1].status is JobStatus.DONE and found[3].status is JobStatus.DONE
    # The bad one is retried later, its attempt counted once (the claim's).
    assert found[2].status is JobStatus.PENDING and found[2].attempts == 1
    assert found[2].last_error is not None and "record 2 is bad" in found[2].last_error
    assert await rows(services, AFTER) == {}  # nothing of the failed batch was committed


async def test_a_payload_that_does_not_fit_is_quarantined_alone(services: Services) -> None:
    installation = await make_installation(services)
    alone: list[int] = []

    async def one(job: ClaimedJob, payload: Numbered, _: Services) -> None:
        alone.append(payload.n)

    async def together(batch: list[tuple[ClaimedJob, Numbered]], _: Services) -> None:
        raise AssertionError("a batch with a bad payload is not run")

    services.handlers.register(KIND, one, payload=Numbered, batch=together)
    await enqueue(services, installation, 1)
    async with services.db.transaction() as session:
        await JobRepository(session).enqueue(installation, KIND, {"n": "not a number"})
    await enqueue(services, installation, 3)
    assert await Worker(services).run_once() == 3

    assert sorted(alone) == [1, 3]
    async with services.db.session() as session:
        statuses = list(await session.scalars(select(Job.status).order_by(Job.id)))
    assert statuses == [JobStatus.DONE, JobStatus.QUARANTINED, JobStatus.DONE]


class Crash(BaseException):
    """The worker dies mid-batch (not an error it could record)."""


async def test_a_crash_mid_batch_leaves_nothing_done_and_another_worker_runs_them_all(
    services: Services, clock: ManualClock
) -> None:
    installation = await make_installation(services)
    crash = True
    runs: list[list[int]] = []

    async def one(job: ClaimedJob, payload: Numbered, services: Services) -> None:
        await together([(job, payload)], services)

    async def together(batch: list[tuple[ClaimedJob, Numbered]], services: Services) -> None:
        runs.append([payload.n for _, payload in batch])
        async with services.db.transaction() as session:
            await JobRepository(session).enqueue(installation, AFTER, {"n": len(runs)})
            if crash:
                raise Crash
            await complete_in(session)

    services.handlers.register(KIND, one, payload=Numbered, batch=together)
    for n in (1, 2, 3):
        await enqueue(services, installation, n)
    with pytest.raises(Crash):
        await Worker(services, worker_id="dies").run_once()
    stuck = await rows(services)
    assert {job.status for job in stuck.values()} == {JobStatus.RUNNING}
    assert await rows(services, AFTER) == {}

    crash = False
    assert await Worker(services, worker_id="survivor").run_once() == 0  # still leased
    clock.advance(services.settings.worker_lease_seconds + 1)
    # The three (the three jobs they queued have no handler here: left for a worker that has).
    assert await Worker(services, worker_id="survivor").run_until_idle() == 3
    # Their last run lapsed: taken back together, but each run on its own (any of them may be
    # what killed that worker: `addon.jobs.leases`).
    assert runs[0] == [1, 2, 3] and sorted(runs[1:]) == [[1], [2], [3]]
    done = await rows(services)
    assert {job.status for job in done.values()} == {JobStatus.DONE}
    assert {job.attempts for job in done.values()} == {2}
    assert sorted(await rows(services, AFTER)) == [2, 3, 4]  # the reruns' work, once each


async def test_a_job_whose_lease_was_lost_is_not_completed_by_the_batch(
    services: Services,
) -> None:
    installation = await make_installation(services)

    async def one(job: ClaimedJob, payload: Numbered, _: Services) -> None:
        raise AssertionError("run together")

    async def together(batch: list[tuple[ClaimedJob, Numbered]], services: Services) -> None:
        # Meanwhile another worker took job 2 over (this one stalled past its lease).
        lost = next(job for job, payload in batch if payload.n == 2)
        async with services.db.transaction() as session:
            taken = await session.get(Job, lost.id)
            assert taken is not None
            taken.locked_by, taken.attempts = "other", lost.attempts + 1
        async with services.db.transaction() as session:
            await complete_in(session)

    services.handlers.register(KIND, one, payload=Numbered, batch=together)
    for n in (1, 2, 3):
        await enqueue(services, installation, n)
    assert await Worker(services, worker_id="slow").run_once() == 3
    found = await rows(services)
    assert found[1].status is JobStatus.DONE and found[3].status is JobStatus.DONE
    assert found[2].status is JobStatus.RUNNING and found[2].locked_by == "other"
