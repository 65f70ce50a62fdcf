"""PostgreSQL: a claim in flight holds its jobs' lanes (`addon.jobs.statements.lane_claimed`).

`lane_busy` sees only committed state. Job Y of a lane takes its id first but commits after
job X of the same lane (two webhooks of one order stored at the same moment). Worker 1 claims X
while Y is not committed (the lane looks free); Y commits; worker 2 claims before worker 1's
claim commits: in its snapshot X is still pending and later than Y, so nothing held the lane,
and it took Y, to run beside X. Each step is a transaction driven by hand: no timing involved.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.services import Services
from tests.factories import make_installation

LANE = "order:1"
LEASE = timedelta(seconds=30)
KIND = "test.lane"
# The advisory locks this transaction holds.
ADVISORY_LOCKS = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
)


@pytest.fixture(autouse=True)
def postgresql_only(services: Services) -> None:
    if services.db.is_sqlite:
        pytest.skip("concurrent claims: PostgreSQL only (SQLite has one writer)")

    async def handler(job: ClaimedJob, _: Services) -> None: ...

    services.handlers.register(KIND, handler)


async def test_a_lane_job_committed_during_another_workers_claim_of_its_lane_waits(
    services: Services,
) -> None:
    installation = await make_installation(services)
    db = services.db
    claimable = services.handlers.claimable

    async with db.transaction() as y_session:  # Y: the lower id, committed last
        y_id = await JobRepository(y_session).enqueue(installation, KIND, {"n": "y"}, lane=LANE)
        async with db.transaction() as x_session:
            x_id = await JobRepository(x_session).enqueue(installation, KIND, {"n": "x"}, lane=LANE)
        assert y_id is not None and x_id is not None and y_id < x_id
        first = db.sessionmaker()
        await first.begin()
        first_claimed = await JobRepository(first).claim("w1", 10, LEASE, claimable=claimable)
        assert [job.id for job in first_claimed] == [x_id]  # Y not committed: the lane is free
    try:
        # Y is committed; worker 1's claim is not.
        async with db.transaction() as second:
            second_claimed = await JobRepository(second).claim("w2", 10, LEASE, claimable=claimable)
        assert second_claimed == []  # Y waits: the lane's claim is worker 1's
        await first.commit()
    finally:
        await first.close()

    async with db.transaction() as third:  # X runs: Y waits for it as for any running job
        assert await JobRepository(third).claim("w2", 10, LEASE, claimable=claimable) == []
    async with db.session() as session:
        running = list(
            await session.scalars(
                select(Job.id).where(Job.lane == LANE, Job.status == JobStatus.RUNNING)
            )
        )
    assert running == [x_id]


async def test_a_claim_locks_only_the_lanes_of_the_jobs_it_could_take(services: Services) -> None:
    """The lane's lock is taken for a job otherwise claimable only: not for a paused store's
    backlog, nor for a job whose lane is busy anyway (each lock takes a slot of PostgreSQL's
    shared lock table until the claim commits), nor for a job in no lane."""
    active = await make_installation(services)
    paused = await make_installation(services, "http://paused.test/graphql/", active=False)
    async with services.db.transaction() as session:
        jobs = JobRepository(session)
        for n in range(30):
            await jobs.enqueue(paused, KIND, {"n": n}, lane=f"order:{n}")
        for n in range(3):
            await jobs.enqueue(active, KIND, {"n": n}, lane="order:busy")  # 2 wait for 1
        await jobs.enqueue(active, KIND, {"n": 9})  # no lane
    async with services.db.transaction() as session:
        claimed = await JobRepository(session).claim(
            "w", 10, LEASE, claimable=services.handlers.claimable
        )
        locks = await session.scalar(ADVISORY_LOCKS)
    assert sorted(job.payload["n"] for job in claimed) == [0, 9]
    assert locks == 1  # "order:busy", for its first job
