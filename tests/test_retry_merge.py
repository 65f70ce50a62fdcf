"""A failed job whose coalescing key got a pending job while it ran (a webhook for the same
record arriving meanwhile): at most one job of a key may wait, so that pending job carries the
retry (`JobRepository.reschedule`, `statements.MERGE_RETRY`) instead of the outcome failing to
be written and the job waiting out its lease."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from pydantic import BaseModel
from sqlalchemy import select, text, true, update

from addon.clock import ManualClock, current_clock
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository, Retried
from addon.jobs.retry import RetryPolicy
from addon.jobs.schemas import ClaimedJob, PermanentFailure
from addon.jobs.worker import Worker
from addon.services import Services
from tests.factories import make_installation

pytestmark = pytest.mark.usefixtures("clock")

PATIENCE = 30.0  # a bound on waiting for what happens at once (reached only when broken)


class Version(BaseModel):
    n: int


class Refused(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


async def enqueue(
    services: Services, installation_id: int, n: int, after: timedelta = timedelta()
) -> None:
    """Version `n` of record 1's push, due `after` from now."""
    async with services.db.transaction() as session:
        await JobRepository(session).enqueue(
            installation_id,
            "test.push",
            {"n": n},
            coalesce_key="record:1",
            run_after=current_clock().now() + after,
        )


async def quarantined_push(services: Services, installation_id: int) -> None:
    """Version 1 of record 1's push, quarantined: its handler gives up at once."""

    async def push(job: ClaimedJob, payload: Version, _: Services) -> None:
        raise PermanentFailure("Mailchimp refused the record")

    services.handlers.register("test.push", push, payload=Version)
    await enqueue(services, installation_id, 1)
    await Worker(services).run_until_idle()


async def claimed_by_first(services: Services, installation_id: int) -> ClaimedJob:
    """Version 1 of record 1's push, claimed by worker "first" (nothing runs it)."""
    await enqueue(services, installation_id, 1)
    async with services.db.transaction() as session:
        [claimed] = await JobRepository(session).claim(
            "first", 10, timedelta(seconds=30), claimable=true()
        )
    return claimed


async def jobs(services: Services) -> list[Job]:
    async with services.db.session() as session:
        return list(await session.scalars(select(Job).order_by(Job.id)))


@pytest.mark.parametrize("pending_later", [False, True], ids=["retry-later", "pending-later"])
async def test_a_failed_job_merges_its_retry_into_the_pending_job_of_its_key(
    services: Services, clock: ManualClock, pending_later: bool
) -> None:
    """Fails before the fix: the retry's UPDATE broke the key's uniqueness, the outcome was not
    written, and the failed job stayed running (its lane blocking the new work) until its
    lease lapsed."""
    installation = await make_installation(services)
    runs: list[int] = []

    async def push(job: ClaimedJob, payload: Version, _: Services) -> None:
        runs.append(payload.n)
        if payload.n == 1:
            # A newer change of the record arrives while this push runs, then the push fails.
            await enqueue(services, installation, 2, timedelta(seconds=900 if pending_later else 0))
            raise Refused("Mailchimp is unavailable", retry_after=60.0)

    policy = RetryPolicy(max_attempts=5, expected=(Refused,))
    services.handlers.register("test.push", push, payload=Version, retry=policy)
    await enqueue(services, installation, 1)
    worker = Worker(services)
    await worker.run_until_idle()

    failed, waiting = await jobs(services)
    assert (failed.status, failed.locked_by) == (JobStatus.DONE, None)  # its work merged
    assert waiting.status is JobStatus.PENDING and waiting.payload == {"n": 2}
    # Not before the retry's wait (nor before its own schedule); the attempt counted.
    wait = 900 if pending_later else 60
    assert waiting.run_after == clock.now() + timedelta(seconds=wait)
    assert (waiting.attempts, waiting.last_error) == (1, "Mailchimp is unavailable")

    clock.advance(wait)
    await worker.run_until_idle()
    assert runs == [1, 2]
    [_, done] = await jobs(services)
    assert (done.status, done.attempts) == (JobStatus.DONE, 2)


async def test_a_failed_job_alone_with_its_key_is_retried_as_itself(
    services: Services, clock: ManualClock
) -> None:
    """Pending jobs of another key, and of the same key in another store, are not its key's."""
    installation = await make_installation(services)
    other = await make_installation(services, "http://other.test/graphql/")

    async def push(job: ClaimedJob, payload: Version, _: Services) -> None:
        if payload.n == 1:
            async with services.db.transaction() as session:
                later = clock.now() + timedelta(seconds=900)
                repository = JobRepository(session)
                await repository.enqueue(
                    installation, "test.push", {"n": 2}, coalesce_key="record:2", run_after=later
                )
                await repository.enqueue(
                    other, "test.push", {"n": 3}, coalesce_key="record:1", run_after=later
                )
            raise Refused("Mailchimp is unavailable", retry_after=60.0)

    services.handlers.register(
        "test.push", push, payload=Version, retry=RetryPolicy(expected=(Refused,))
    )
    await enqueue(services, installation, 1)
    await Worker(services).run_until_idle()
    job, *others = await jobs(services)
    assert (job.status, job.attempts) == (JobStatus.PENDING, 1)
    assert job.run_after == clock.now() + timedelta(seconds=60)
    assert [(o.status, o.attempts, o.last_error) for o in others] == [
        (JobStatus.PENDING, 0, None)
    ] * 2


async def test_a_retry_of_a_job_no_longer_its_claims_writes_nothing(
    services: Services, clock: ManualClock
) -> None:
    """Its lease lost, another worker holds it: neither the job nor its key's pending job is
    touched."""
    installation = await make_installation(services)
    claimed = await claimed_by_first(services, installation)
    await enqueue(services, installation, 2)  # pending beside it
    async with services.db.transaction() as session:
        await session.execute(update(Job).where(Job.id == claimed.id).values(locked_by="second"))
    async with services.db.transaction() as session:
        written = await JobRepository(session).reschedule(
            claimed, "first", "failed", clock.now() + timedelta(seconds=60)
        )
    assert written is False
    running, waiting = await jobs(services)
    assert (running.status, running.locked_by) == (JobStatus.RUNNING, "second")
    assert (waiting.attempts, waiting.last_error) == (0, None)


async def test_a_job_released_beside_a_pending_job_of_its_key_is_merged_into_it(
    services: Services, clock: ManualClock
) -> None:
    """A worker shutting down gives its jobs back; one whose key got a pending job meanwhile
    cannot wait again beside it (the release raised IntegrityError before): that job carries
    it, due when it was due (not before the released job was), the released attempt not
    counted."""
    installation = await make_installation(services)
    claimed = await claimed_by_first(services, installation)
    await enqueue(services, installation, 2)
    async with services.db.transaction() as session:
        assert await JobRepository(session).release(claimed, "first") is True
    released, waiting = await jobs(services)
    assert (released.status, released.locked_by) == (JobStatus.DONE, None)
    assert (waiting.status, waiting.payload) == (JobStatus.PENDING, {"n": 2})
    assert (waiting.attempts, waiting.last_error, waiting.run_after) == (0, None, clock.now())


async def test_a_released_job_alone_with_its_key_waits_again_as_itself(
    services: Services, clock: ManualClock
) -> None:
    installation = await make_installation(services)
    claimed = await claimed_by_first(services, installation)
    clock.advance(5)
    async with services.db.transaction() as session:
        assert await JobRepository(session).release(claimed, "first") is True
    [job] = await jobs(services)
    assert (job.status, job.attempts, job.locked_by) == (JobStatus.PENDING, 0, None)
    assert job.run_after == clock.now()


@pytest.mark.parametrize("pending_later", [False, True], ids=["pending-due", "pending-later"])
async def test_a_quarantined_job_retried_beside_a_pending_job_of_its_key_hands_it_over(
    services: Services, clock: ManualClock, pending_later: bool
) -> None:
    """The Activity page's Retry: the pending job (newer work for the record) is due now with
    fresh attempts, the quarantined one done; before, the retry raised IntegrityError."""
    installation = await make_installation(services)
    await quarantined_push(services, installation)
    await enqueue(services, installation, 2, timedelta(seconds=900 if pending_later else 0))
    async with services.db.transaction() as session:
        await session.execute(
            update(Job).where(Job.payload["n"].as_integer() == 2).values(attempts=3)
        )
    quarantined_id, pending_id = [job.id for job in await jobs(services)]
    due = clock.now()
    clock.advance(1)
    async with services.db.transaction() as session:
        outcome = await JobRepository(session).retry(installation, quarantined_id)
    assert outcome is Retried.MERGED
    superseded, waiting = await jobs(services)
    assert (superseded.status, superseded.finished_at) == (JobStatus.DONE, clock.now())
    assert (waiting.id, waiting.status, waiting.attempts) == (pending_id, JobStatus.PENDING, 0)
    assert waiting.run_after == (clock.now() if pending_later else due)  # the earlier
    async with services.db.transaction() as session:
        assert await JobRepository(session).retry(installation, quarantined_id) is None


async def test_a_quarantined_job_retried_while_a_job_of_its_key_runs_is_superseded(
    services: Services, clock: ManualClock
) -> None:
    """Newer work for the record is running: set pending beside it, the older job could run at
    the same time (its lower id puts it first in the lane), and a later merge into it would
    keep its older payload. It is done instead; the running job carries the record."""
    installation = await make_installation(services)
    await quarantined_push(services, installation)
    await enqueue(services, installation, 2)
    async with services.db.transaction() as session:
        [running] = await JobRepository(session).claim(
            "other", 10, timedelta(seconds=30), claimable=true()
        )
    quarantined = (await jobs(services))[0]
    async with services.db.transaction() as session:
        assert await JobRepository(session).retry(installation, quarantined.id) is Retried.MERGED
    superseded, newer = await jobs(services)
    assert (superseded.status, newer.id, newer.status) == (
        JobStatus.DONE,
        running.id,
        JobStatus.RUNNING,
    )


async def test_a_quarantined_job_alone_with_its_key_is_retried_as_itself(
    services: Services, clock: ManualClock
) -> None:
    installation = await make_installation(services)
    other = await make_installation(services, "http://other.test/graphql/")
    await quarantined_push(services, installation)
    await enqueue(services, other, 2)  # the same key in another store
    [quarantined, foreign] = await jobs(services)
    async with services.db.transaction() as session:
        assert await JobRepository(session).retry(installation, quarantined.id) is Retried.ITSELF
    retried, foreign_after = await jobs(services)
    assert (retried.status, retried.attempts, retried.run_after) == (
        JobStatus.PENDING,
        0,
        clock.now(),
    )
    assert (foreign_after.status, foreign_after.run_after) == (JobStatus.PENDING, foreign.run_after)


async def another_statement_waits_for_a_lock(services: Services) -> None:
    """Until a statement of another connection waits on a lock (polled: nothing else tells)."""
    for _ in range(int(PATIENCE / 0.01)):
        async with services.db.session() as session:
            waiting = await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no statement waited for a lock")


@pytest.mark.parametrize("way", ["release", "retry"])
async def test_on_postgresql_a_job_of_its_key_committed_meanwhile_takes_the_work(
    services: Services, way: str
) -> None:
    """Set pending again while another transaction adds a pending job of its key: the UPDATE
    waits for that transaction, then conflicts once it commits. The conflict is undone alone
    (a savepoint) and the committed job takes the work."""
    if services.db.is_sqlite:
        pytest.skip("SQLite writes one transaction at a time")
    installation = await make_installation(services)
    if way == "retry":
        await quarantined_push(services, installation)
    else:
        claimed = await claimed_by_first(services, installation)
    [first] = await jobs(services)

    async def set_pending() -> object:
        async with services.db.transaction() as session:
            repository = JobRepository(session)
            if way == "retry":
                return await repository.retry(installation, first.id)
            return await repository.release(claimed, "first")

    async with services.db.transaction() as other:
        await JobRepository(other).enqueue(
            installation, "test.push", {"n": 2}, coalesce_key="record:1"
        )
        setting = asyncio.create_task(set_pending())
        await another_statement_waits_for_a_lock(services)
    outcome = await asyncio.wait_for(setting, PATIENCE)

    assert outcome is (Retried.MERGED if way == "retry" else True)
    done, waiting = await jobs(services)
    assert (done.id, done.status) == (first.id, JobStatus.DONE)
    assert (waiting.status, waiting.payload) == (JobStatus.PENDING, {"n": 2})
