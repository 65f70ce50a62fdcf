"""A lane whose earlier job is made pending again (the Activity page's Retry of a quarantined
job) while a later job of the lane runs, and that run's lease then lapses (its worker killed):
the later job is taken again and finishes, then the earlier one runs. Checked as a pending job
is, each waited on the other for good."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy import select, true

from addon.clock import ManualClock
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob, PermanentFailure
from addon.jobs.worker import Worker
from addon.services import Services
from tests.factories import make_installation

KIND, LANE = "test.lane_retry", "contact:x"


class Step(BaseModel):
    n: int


async def test_a_retried_job_waits_for_a_lapsed_later_one_which_runs_again(
    services: Services, clock: ManualClock
) -> None:
    ran: list[int] = []
    refused = False

    async def handler(job: ClaimedJob, step: Step, _: Services) -> None:
        nonlocal refused
        if step.n == 1 and not refused:
            refused = True
            raise PermanentFailure("refused once")
        ran.append(step.n)

    services.handlers.register(KIND, handler, payload=Step)
    installation_id = await make_installation(services)
    async with services.db.transaction() as session:
        await JobRepository(session).enqueue(installation_id, KIND, {"n": 1}, lane=LANE)
    await Worker(services).run_until_idle()  # the first is quarantined
    async with services.db.transaction() as session:
        await JobRepository(session).enqueue(installation_id, KIND, {"n": 2}, lane=LANE)
    async with services.db.transaction() as session:  # a worker claims the second, then dies
        [claimed] = await JobRepository(session).claim(
            "killed", 10, timedelta(seconds=30), claimable=true()
        )
    assert claimed.payload == {"n": 2}
    async with services.db.transaction() as session:
        first = await session.scalar(select(Job.id).where(Job.id != claimed.id))
        assert first is not None
        await JobRepository(session).retry(installation_id, first)
    await Worker(services).run_until_idle()
    assert ran == []  # the second's lease is alive: the lane is its
    clock.advance(60)
    await Worker(services).run_until_idle()
    assert ran == [2, 1]
    async with services.db.session() as session:
        statuses = list(await session.scalars(select(Job.status).where(Job.kind == KIND)))
    assert statuses == [JobStatus.DONE, JobStatus.DONE]
