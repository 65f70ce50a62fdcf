"""A worker's heartbeat renews its jobs' leases while their handlers complete them, in other
transactions; on PostgreSQL both lock the jobs' rows in id order, so neither holds a row while
waiting for one of a lower id that the other holds (a deadlock, which PostgreSQL breaks by
failing one of them: perhaps a batch handler's whole last transaction).

Each test holds the lower job's row in a transaction of its own, lets the renewal (or the
completion) of both jobs run into it, and sees the higher job's row still free. The jobs are
claimed in the other order (the higher one was due first), which is the order the heartbeat
renewed them in, one statement each, before."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError

from addon.clock import ManualClock
from addon.jobs.models import Job
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.services import Services
from tests.factories import make_installation
from tests.worker_process import until

WORKER = "w"
LEASE = timedelta(seconds=30)
WAITING_ON_A_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)
LOCK = text("SELECT id FROM jobs WHERE id = :id FOR UPDATE NOWAIT")


@pytest.fixture(autouse=True)
def postgresql_only(services: Services) -> None:
    if services.db.is_sqlite:
        pytest.skip("row locks: PostgreSQL only")


async def claimed_higher_first(services: Services, clock: ManualClock) -> list[ClaimedJob]:
    installation = await make_installation(services)

    async def handler(job: ClaimedJob, _: Services) -> None: ...

    services.handlers.register("test.kind", handler)  # a worker claims the kinds it runs
    async with services.db.transaction() as session:
        jobs = JobRepository(session, clock)
        ids = [await jobs.enqueue(installation, "test.kind", {"n": n}) for n in (1, 2)]
        await session.execute(
            update(Job).where(Job.id == ids[1]).values(run_after=clock.now() - LEASE)
        )
    async with services.db.transaction() as session:
        claimed = await JobRepository(session, clock).claim(
            WORKER, 10, LEASE, claimable=services.handlers.claimable
        )
    assert [job.id for job in claimed] == [ids[1], ids[0]]  # the higher one first
    return claimed


async def runs_into_the_lower_row(
    services: Services, jobs: list[ClaimedJob], write: Callable[[JobRepository], Awaitable[object]]
) -> object:
    """Run `write` while another transaction holds the lower job's row; answer what it
    answers, once that transaction let go."""
    lower, higher = sorted(job.id for job in jobs)
    async with services.db.transaction() as holder:
        await holder.execute(LOCK, {"id": lower})

        async def in_transaction() -> object:
            async with services.db.transaction() as session:
                return await write(JobRepository(session))

        writing = asyncio.create_task(in_transaction())

        async def waiting() -> bool:
            async with services.db.session() as session:
                return bool(await session.scalar(WAITING_ON_A_LOCK))

        await until(waiting, "the write to wait for the lower job's row")
        async with services.db.transaction() as other:
            try:
                await other.execute(LOCK, {"id": higher})
            except DBAPIError as exc:
                writing.cancel()
                pytest.fail(f"the higher job's row was locked while waiting for the lower: {exc}")
    return await writing


async def test_a_renewal_locks_its_jobs_in_id_order(services: Services, clock: ManualClock) -> None:
    jobs = await claimed_higher_first(services, clock)
    renewal = await runs_into_the_lower_row(
        services, jobs, lambda repository: repository.renew(WORKER, jobs, LEASE)
    )
    assert renewal == ([], [])  # both renewed


async def test_completing_jobs_together_locks_them_in_id_order(
    services: Services, clock: ManualClock
) -> None:
    jobs = await claimed_higher_first(services, clock)
    written = await runs_into_the_lower_row(
        services, jobs, lambda repository: repository.complete_many(jobs, WORKER)
    )
    assert written == {job.id for job in jobs}
