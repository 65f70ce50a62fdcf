"""The durable queue and its worker: retries, quarantine, coalescing, lanes, pause, scale-out."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.engine.interfaces import ExecuteStyle

from addon.clock import ManualClock
from addon.db.engine import SQLITE_INSERT_ROWS
from addon.db.types import utcnow
from addon.installations.models import Installation
from addon.jobs.inserts import CoalescedJob
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob, PermanentFailure, RetryLater
from addon.jobs.worker import Worker
from addon.services import Services
from tests.factories import make_installation, recorded_kind

# Every test here runs on the manual clock: a backoff or a lease passes only when a test moves
# the clock, never because the machine was slow.
pytestmark = pytest.mark.usefixtures("clock")


async def enqueue(
    services: Services, installation_id: int, kind: str, **kwargs: object
) -> int | None:
    payload = kwargs.pop("payload", {})
    async with services.db.transaction() as session:
        return await JobRepository(session).enqueue(installation_id, kind, payload, **kwargs)  # type: ignore[arg-type]


async def jobs(services: Services) -> list[Job]:
    async with services.db.session() as session:
        return list((await session.execute(select(Job).order_by(Job.id))).scalars())


async def make_due(services: Services) -> None:
    """Skip the backoff wait (tests do not sleep): due at the clock's now."""
    async with services.db.transaction() as session:
        await session.execute(
            update(Job).where(Job.status == JobStatus.PENDING).values(run_after=utcnow())
        )


async def test_a_delivery_is_stored_and_processed_once(services: Services) -> None:
    installation = await make_installation(services)
    seen: list[dict[str, object]] = []

    async def handler(job: ClaimedJob, _: Services) -> None:
        seen.append(job.payload)

    services.handlers.register("test.record", handler)
    first = await enqueue(services, installation, "test.record", payload={"n": 1}, dedupe_key="d1")
    again = await enqueue(services, installation, "test.record", payload={"n": 1}, dedupe_key="d1")
    assert first is not None and again is None
    assert await Worker(services).run_until_idle() == 1
    assert seen == [{"n": 1}]
    assert [j.status for j in await jobs(services)] == [JobStatus.DONE]


async def test_failures_back_off_then_quarantine_without_blocking_others(
    services: Services, clock: ManualClock
) -> None:
    installation = await make_installation(services)
    calls: Counter[str] = Counter()

    async def flaky(job: ClaimedJob, _: Services) -> None:
        calls[job.kind] += 1
        raise RuntimeError("Mailchimp said no")

    async def fine(job: ClaimedJob, _: Services) -> None:
        calls[job.kind] += 1

    services.handlers.register("test.poison", flaky)
    services.handlers.register("test.fine", fine)
    await enqueue(services, installation, "test.poison")
    for _ in range(3):
        await enqueue(services, installation, "test.fine")
    worker = Worker(services)
    await worker.run_until_idle()
    assert calls["test.fine"] == 3  # not blocked by the failing one
    poison = (await jobs(services))[0]
    # Backing off: however long the rounds took, it is not due before the clock moves.
    assert poison.status == JobStatus.PENDING and poison.run_after > clock.now()
    assert await worker.run_until_idle() == 0
    assert poison.last_error == "RuntimeError: Mailchimp said no"
    for _ in range(5):
        await make_due(services)
        await worker.run_until_idle()
    poison = (await jobs(services))[0]
    assert calls["test.poison"] == services.settings.worker_max_attempts == 3
    assert poison.status == JobStatus.QUARANTINED
    assert poison.last_error == "RuntimeError: Mailchimp said no"

    async with services.db.transaction() as session:
        assert await JobRepository(session).retry(installation, poison.id)
    await worker.run_until_idle()
    assert calls["test.poison"] == 4  # a retried job runs again with fresh attempts


async def test_permanent_failures_quarantine_at_once_and_retry_later_waits(
    services: Services,
) -> None:
    installation = await make_installation(services)

    async def bad_data(job: ClaimedJob, _: Services) -> None:
        raise PermanentFailure("Mailchimp rejected the e-mail address")

    async def slow_down(job: ClaimedJob, _: Services) -> None:
        raise RetryLater("rate limited", delay=30)

    services.handlers.register("test.bad", bad_data)
    services.handlers.register("test.slow", slow_down)
    await enqueue(services, installation, "test.bad")
    await enqueue(services, installation, "test.slow")
    await enqueue(services, installation, "test.unknown")
    await Worker(services).run_until_idle()
    bad, slow, unknown = await jobs(services)
    assert (bad.status, bad.attempts) == (JobStatus.QUARANTINED, 1)
    assert bad.last_error == "Mailchimp rejected the e-mail address"
    assert slow.status == JobStatus.PENDING
    assert slow.run_after > utcnow() + timedelta(seconds=25)
    # No handler here: never claimed, left for a worker that has one (a rolling deploy).
    assert (unknown.status, unknown.attempts, unknown.last_error) == (JobStatus.PENDING, 0, None)


async def test_coalescing_merges_pending_work_into_one_run(services: Services) -> None:
    installation = await make_installation(services)
    runs: list[dict[str, object]] = []

    async def push(job: ClaimedJob, _: Services) -> None:
        runs.append(job.payload)

    services.handlers.register("test.push", push)
    later = utcnow() + timedelta(seconds=60)
    for version in range(1, 6):
        await enqueue(
            services,
            installation,
            "test.push",
            payload={"v": version},
            coalesce_key="cart:1",
            run_after=later,
        )
    pending = await jobs(services)
    assert len(pending) == 1 and pending[0].payload == {"v": 5}
    await make_due(services)
    await Worker(services).run_until_idle()
    assert runs == [{"v": 5}]
    # After the run a new change starts a new pending job.
    await enqueue(services, installation, "test.push", payload={"v": 6}, coalesce_key="cart:1")
    assert [j.status for j in await jobs(services)] == [JobStatus.DONE, JobStatus.PENDING]


@pytest.mark.parametrize("counted", [False, True])
async def test_waiting_is_not_a_failed_attempt_unless_the_kind_says_so(
    services: Services, counted: bool
) -> None:
    """A job that waited more times than it may fail (a batch polled until it finished) still
    has every attempt for its first real failure: it is retried, not quarantined. A kind that
    never gives up on a failure and backs off by the attempts counts them (`counted`)."""
    installation = await make_installation(services)
    waits = services.settings.worker_max_attempts + 2
    seen: list[int] = []

    async def poll(job: ClaimedJob, _: Services) -> None:
        seen.append(job.attempts)
        if len(seen) <= waits:
            raise RetryLater("the batch is still running", delay=60, counted=counted)
        raise RuntimeError("Mailchimp answered 503")

    services.handlers.register("test.poll", poll)
    await enqueue(services, installation, "test.poll")
    worker = Worker(services)
    for _ in range(waits + 1):
        assert await worker.run_until_idle() == 1
        await make_due(services)
    [job] = await jobs(services)
    if counted:
        assert seen == list(range(1, waits + 2))
        assert job.status is JobStatus.QUARANTINED  # its attempts were used up waiting
    else:
        assert seen == [1] * (waits + 1)
        assert (job.status, job.attempts) == (JobStatus.PENDING, 1)  # retried after a backoff
        assert job.last_error == "RuntimeError: Mailchimp answered 503"


async def test_a_lane_runs_in_order_one_at_a_time(services: Services) -> None:
    installation = await make_installation(services)
    order: list[int] = []
    fail_first = True

    async def step(job: ClaimedJob, _: Services) -> None:
        nonlocal fail_first
        if job.payload["n"] == 1 and fail_first:
            fail_first = False
            raise RetryLater("transient", delay=60)  # long enough to stay pending this round
        order.append(int(job.payload["n"]))  # type: ignore[call-overload]

    services.handlers.register("test.step", step)
    for n in (1, 2, 3):
        await enqueue(services, installation, "test.step", payload={"n": n}, lane="order:7")
    worker = Worker(services)
    await worker.run_until_idle()
    assert order == []  # 2 and 3 wait behind 1, which is backing off
    await make_due(services)
    await worker.run_until_idle()
    assert order == [1, 2, 3]


async def test_a_paused_installation_keeps_its_jobs_until_resumed(services: Services) -> None:
    paused = await make_installation(services, active=False)
    other = await make_installation(services, "http://other.test/graphql/")
    done: list[int] = []

    async def record(job: ClaimedJob, _: Services) -> None:
        done.append(job.installation_id)

    services.handlers.register("test.record", record)
    await enqueue(services, paused, "test.record")
    await enqueue(services, other, "test.record")
    await Worker(services).run_until_idle()
    assert done == [other]
    async with services.db.transaction() as session:
        await session.execute(
            update(Installation).where(Installation.id == paused).values(is_active=True)
        )
    await Worker(services).run_until_idle()
    assert done == [other, paused]


async def a_dead_workers_job(services: Services) -> tuple[int, list[int]]:
    """A job claimed by a worker that then crashed (nobody renews its lease); the ids of the
    jobs its handler runs."""
    installation = await make_installation(services)
    ran = recorded_kind(services, "test.record")
    job_id = await enqueue(services, installation, "test.record")
    lease = services.settings.worker_lease_seconds
    async with services.db.transaction() as session:
        claimed = await JobRepository(session).claim(
            "dead-worker", 10, timedelta(seconds=lease), claimable=services.handlers.claimable
        )
    assert [j.id for j in claimed] == [job_id]
    return job_id, ran


async def test_a_job_whose_worker_died_is_picked_up_after_its_lease(
    services: Services, clock: ManualClock
) -> None:
    job_id, ran = await a_dead_workers_job(services)
    lease = services.settings.worker_lease_seconds
    clock.advance(lease - 0.001)
    assert await Worker(services).run_until_idle() == 0  # leased: not due yet
    clock.advance(0.002)  # one lease after the claim (nobody renewed it)
    await Worker(services).run_until_idle()
    assert ran == [job_id]
    assert (await jobs(services))[0].attempts == 2


async def test_a_worker_looks_for_lapsed_leases_once_a_poll_interval(
    services: Services, clock: ManualClock
) -> None:
    """Lapsed leases are rare (a worker died): one worker's claims look for them once a poll
    interval, not each time (a statement per claim); such a job is still taken within one
    interval of its lease lapsing."""
    job_id, ran = await a_dead_workers_job(services)
    lease = services.settings.worker_lease_seconds
    poll = services.settings.worker_poll_interval_seconds
    worker = Worker(services)
    clock.advance(lease - poll / 2)
    assert await worker.run_until_idle() == 0  # it looked: still leased
    clock.advance(poll / 2 + 0.001)  # lapsed, but this worker looked less than an interval ago
    assert await worker.run_until_idle() == 0
    assert ran == []
    clock.advance(poll / 2)  # an interval since it looked
    assert await worker.run_until_idle() == 1
    assert ran == [job_id]


async def test_workers_side_by_side_process_each_job_exactly_once(services: Services) -> None:
    installation = await make_installation(services)
    seen: Counter[int] = Counter()

    async def record(job: ClaimedJob, _: Services) -> None:
        await asyncio.sleep(0)
        seen[job.id] += 1

    services.handlers.register("test.record", record)
    for n in range(60):
        await enqueue(services, installation, "test.record", payload={"n": n})
    workers = [Worker(services, worker_id=f"w{i}") for i in range(4)]
    await asyncio.gather(*(w.run_until_idle() for w in workers))
    assert len(seen) == 60 and set(seen.values()) == {1}
    assert {j.status for j in await jobs(services)} == {JobStatus.DONE}


async def test_the_postgresql_pool_holds_a_connection_for_every_job_run_at_once() -> None:
    """No job waits for a connection, and no overflow connection is opened and closed over and
    over; connections are recycled instead of pinged at every checkout."""
    from addon.db.engine import OTHER_CONNECTIONS, Database

    database = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none", jobs_at_once=20)
    try:
        pool = database.engine.pool
        assert pool.size() >= 20 + OTHER_CONNECTIONS
        assert not pool._pre_ping
        assert pool._recycle > 0
    finally:
        await database.dispose()


async def test_many_coalesced_jobs_go_as_one_multi_row_insert(services: Services) -> None:
    """A burst's pushes are queued by the hundred: one INSERT of many rows, not the statement
    run once per row (asyncpg's executemany: one execution per row for PostgreSQL); each key
    still merges into its pending job (the newest payload, the first schedule)."""
    installation = await make_installation(services)
    now = utcnow()
    first = now + timedelta(seconds=30)
    await enqueue(
        services, installation, "test.push", payload={"v": 1}, coalesce_key="k:0", run_after=first
    )
    many = [
        CoalescedJob(installation, "test.push", {"v": 2, "n": n}, f"k:{n}", f"k:{n}", now)
        for n in range(300)
    ]
    seen: list[tuple[str, ExecuteStyle]] = []

    def record(*args: Any) -> None:
        seen.append((str(args[2]), args[4].execute_style))

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        async with services.db.transaction() as session:
            await JobRepository(session).enqueue_coalesced(many)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    # SQLite's are cut into statements of fewer rows (`SQLITE_INSERT_ROWS`: each row count is a
    # statement its driver keeps prepared); PostgreSQL's go as one.
    statements = -(-300 // SQLITE_INSERT_ROWS) if services.db.is_sqlite else 1
    inserts = [style for sql, style in seen if sql.startswith("INSERT")]
    assert inserts == [ExecuteStyle.INSERTMANYVALUES] * statements
    queued = await jobs(services)
    assert len(queued) == 300
    merged = next(job for job in queued if job.coalesce_key == "k:0")
    assert merged.payload == {"v": 2, "n": 0}
    assert merged.run_after == first


async def test_a_lane_job_committed_after_a_later_one_was_claimed_waits_for_it(
    services: Services,
) -> None:
    """Ids are taken before commits: on PostgreSQL a lane's job may commit after a later one
    of its lane was claimed. Before, with only earlier jobs checked, it was claimed and ran
    beside the later one."""
    installation = await make_installation(services)
    ran: list[int] = []

    async def step(job: ClaimedJob, _: Services) -> None:
        ran.append(int(job.payload["n"]))  # type: ignore[call-overload]

    services.handlers.register("test.step", step)
    first = await enqueue(services, installation, "test.step", payload={"n": 1}, lane="contact:1")
    later = await enqueue(services, installation, "test.step", payload={"n": 2}, lane="contact:1")
    async with services.db.transaction() as session:  # the later one claimed and running
        await session.execute(
            update(Job)
            .where(Job.id == later)
            .values(
                status=JobStatus.RUNNING,
                locked_by="elsewhere",
                locked_until=utcnow() + timedelta(minutes=5),
            )
        )
    worker = Worker(services)
    await worker.run_until_idle()
    assert ran == []  # `first` waits while `later` runs
    async with services.db.transaction() as session:
        await session.execute(update(Job).where(Job.id == later).values(status=JobStatus.DONE))
    await worker.run_until_idle()
    assert ran == [1] and first is not None
