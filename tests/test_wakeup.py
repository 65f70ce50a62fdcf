"""Wake, don't poll: a committed job wakes an idle worker at once (in-process after the commit;
across processes on PostgreSQL by LISTEN/NOTIFY), a rolled-back one does not.

Every test runs on the manual clock and never moves it, unless it says so: the worker's fallback
poll sleep never ends, so a job processed here was processed because the worker was woken.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest
from pydantic import BaseModel
from sqlalchemy import select, text

from addon.clock import ManualClock
from addon.config import Settings
from addon.db.engine import Database
from addon.installations.webhook_kinds import webhook_job_kind
from addon.jobs.inserts import NewJob
from addon.jobs.models import Job, JobStatus
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.jobs.wakeup import wakeup_for
from addon.jobs.worker import JOBS_TOGETHER, Worker
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.factories import make_installation

# A bound on waiting for what happens at once (reached only when broken): the tests do not
# depend on how fast the machine is.
PATIENCE = 30.0


class Numbered(BaseModel):
    n: int


async def until(condition: Callable[[], bool]) -> None:
    """Wait for something the worker does at once (a bound only a hang reaches)."""
    deadline = asyncio.get_running_loop().time() + PATIENCE
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "gave up waiting"
        await asyncio.sleep(0.001)


def idle(worker: Worker) -> bool:
    """The worker waits for a wake: it looked for work after the last wake and found none."""
    return worker.idle


@dataclass
class WorkerOnly:
    """What a separate `addon worker` process has: its own settings, database and handlers."""

    settings: Settings
    db: Database
    handlers: HandlerRegistry[WorkerOnly] = field(default_factory=HandlerRegistry)


@asynccontextmanager
async def running(worker: Worker) -> AsyncIterator[Worker]:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(task, PATIENCE)


async def job_statuses(services: Services, kind: str) -> list[JobStatus]:
    async with services.db.session() as session:
        statement = select(Job.status).where(Job.kind == kind).order_by(Job.id)
        return list((await session.execute(statement)).scalars())


async def test_a_committed_webhook_wakes_the_in_process_worker(
    installed_app: SandboxApp,
    app_client: httpx.AsyncClient,
    saleor: SaleorSandbox,
    services: Services,
    clock: ManualClock,
) -> None:
    handled: list[str] = []

    async def handle(job: ClaimedJob, _: Services) -> None:
        handled.append(str(job.payload["event"]))

    # Only this kind: the test sees exactly the webhook's job.
    services.handlers = HandlerRegistry()
    services.handlers.register(webhook_job_kind("subscriptions-customer-created"), handle)
    async with running(Worker(services)) as worker:
        await until(lambda: idle(worker))
        start = clock.now()
        await saleor.create_customer("wake@example.com")  # delivered to the app's endpoint
        await until(lambda: bool(handled))
        assert handled == ["CUSTOMER_CREATED"]
        assert clock.now() == start  # no poll interval passed: the worker was woken
        await until(lambda: idle(worker))
    kind = webhook_job_kind("subscriptions-customer-created")
    assert await job_statuses(services, kind) == [JobStatus.DONE]


async def test_a_rolled_back_job_does_not_wake_and_a_committed_one_does(
    services: Services,
) -> None:
    installation = await make_installation(services)
    wakeup = wakeup_for(services.db)
    before = wakeup.generation
    with pytest.raises(RuntimeError):
        async with services.db.transaction() as session:
            await JobRepository(session).enqueue(installation, "test.kind", {})
            raise RuntimeError("rolled back")
    assert wakeup.generation == before
    async with services.db.transaction() as session:
        jobs = JobRepository(session)
        await jobs.enqueue(installation, "test.kind", {})
        await jobs.enqueue(installation, "test.kind", {})
        assert wakeup.generation == before  # not before the commit
    assert wakeup.generation == before + 1  # once per transaction


async def test_a_job_due_later_does_not_wake(services: Services, clock: ManualClock) -> None:
    installation = await make_installation(services)
    wakeup = wakeup_for(services.db)
    before = wakeup.generation
    async with services.db.transaction() as session:
        later = clock.now().replace(year=clock.now().year + 1)
        await JobRepository(session).enqueue(installation, "test.kind", {}, run_after=later)
    assert wakeup.generation == before  # the poll finds it when it is due


async def test_a_wake_while_the_worker_claims_is_not_lost(services: Services) -> None:
    wakeup = wakeup_for(services.db)
    seen = wakeup.generation
    wakeup.notify()  # committed after the worker read the generation, before it waits
    await asyncio.wait_for(wakeup.wait(seen), PATIENCE)


async def test_notify_wakes_a_worker_of_another_process(
    services: Services, settings: Settings, database_url: str, clock: ManualClock
) -> None:
    """PostgreSQL: a job committed through one `Database` wakes a worker on another (its own
    pool, as a separate `addon worker` process has) through LISTEN/NOTIFY; when the LISTEN
    connection drops, the worker re-opens it and is woken again."""
    if services.db.is_sqlite:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    installation = await make_installation(services)
    handled: list[int] = []
    other = WorkerOnly(
        # The fallback poll never comes during the test, even when the clock moves.
        settings.model_copy(update={"worker_poll_interval_seconds": 3600}),
        Database(database_url),
    )

    async def handle(job: ClaimedJob, _: WorkerOnly) -> None:
        handled.append(job.id)

    other.handlers.register("test.wake", handle)
    try:
        async with running(Worker(other)) as worker:
            # Connected and listening: it looks for work once on connecting, then waits.
            await until(lambda: worker.wakeup.generation >= 1 and idle(worker))
            first = await enqueue(services, installation)
            await until(lambda: handled == [first])
            await until(lambda: idle(worker))

            # The connection drops: the worker re-opens it after a pause and hears again.
            connected = worker.wakeup.generation
            async with services.db.transaction() as session:
                await session.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND query = 'LISTEN \"addon_jobs\"'"
                    )
                )
            await until(lambda: clock.sleepers >= 2)  # the poll, and the pause to reconnect
            clock.advance(1)
            await until(lambda: worker.wakeup.generation > connected and idle(worker))
            second = await enqueue(services, installation)
            await until(lambda: handled == [first, second])
    finally:
        await other.db.dispose()


async def enqueue(services: Services, installation: int) -> int:
    async with services.db.transaction() as session:
        job_id = await JobRepository(session).enqueue(installation, "test.wake", {})
    assert job_id is not None
    return job_id


async def test_a_worker_holds_two_full_batches_of_jobs_run_together_at_most(
    services: Services, clock: ManualClock
) -> None:
    """A backlog of webhooks is shared among the workers: a batch of jobs run together takes
    a worker slot per 25 of its jobs, so a worker holding two full batches (of 250) claims no
    more until one ends. Counted as one slot each, it took all 1,000 at once."""
    installation = await make_installation(services)
    entered, release = asyncio.Event(), asyncio.Event()
    batches: list[int] = []

    async def one(job: ClaimedJob, payload: Numbered, _: Services) -> None:
        raise AssertionError("these jobs run together")

    async def together(batch: list[tuple[ClaimedJob, Numbered]], _: Services) -> None:
        batches.append(len(batch))
        if len(batches) == 2:
            entered.set()
        await release.wait()

    services.handlers = HandlerRegistry()
    services.handlers.register("test.together", one, payload=Numbered, batch=together)
    async with services.db.transaction() as session:
        await JobRepository(session).enqueue_deduplicated(
            [NewJob(installation, "test.together", {"n": n}, f"d{n}") for n in range(1000)]
        )
    async with running(Worker(services)) as worker:
        await until(entered.is_set)
        # It looked for more work, took none, and waits for a task to end.
        await until(lambda: worker.wakeup.waiting > 0)
        statuses = await job_statuses(services, "test.together")
        assert batches == [JOBS_TOGETHER, JOBS_TOGETHER]
        assert statuses.count(JobStatus.RUNNING) == 2 * JOBS_TOGETHER
        release.set()
        await until(lambda: len(batches) == 4 and idle(worker))
    assert batches == [JOBS_TOGETHER] * 4
    assert set(await job_statuses(services, "test.together")) == {JobStatus.DONE}


async def test_a_long_job_does_not_hold_up_the_jobs_after_it(
    services: Services, clock: ManualClock
) -> None:
    """The worker keeps claiming while a job runs: a job committed while a long one (an
    engagement collection, say) is in hand runs at once, not after it."""
    installation = await make_installation(services)
    long_started, release_long = asyncio.Event(), asyncio.Event()
    quick: list[int] = []

    async def long(job: ClaimedJob, _: Services) -> None:
        long_started.set()
        await release_long.wait()

    async def short(job: ClaimedJob, _: Services) -> None:
        quick.append(job.id)

    services.handlers = HandlerRegistry()
    services.handlers.register("test.long", long)
    services.handlers.register("test.short", short)
    async with running(Worker(services)) as worker:
        async with services.db.transaction() as session:
            await JobRepository(session).enqueue(installation, "test.long", {})
        await until(long_started.is_set)
        async with services.db.transaction() as session:
            await JobRepository(session).enqueue(installation, "test.short", {})
        await until(lambda: bool(quick))
        # The short one's task ended (its outcome written); the long one still in hand.
        await until(lambda: worker.flow is not None and len(worker.flow.running) == 1)
        assert await job_statuses(services, "test.long") == [JobStatus.RUNNING]
        assert await job_statuses(services, "test.short") == [JobStatus.DONE]
        release_long.set()
        await until(lambda: idle(worker))
    assert await job_statuses(services, "test.long") == [JobStatus.DONE]


async def test_claimed_jobs_start_even_when_pruning_fails(
    services: Services, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pruning old jobs runs after a claim. Before, its failure (a statement timeout on a large
    DELETE, a dropped connection) left the jobs just claimed running but never started, until
    their leases lapsed and another attempt was counted."""
    installation = await make_installation(services)
    handled: list[int] = []

    async def handle(job: ClaimedJob, _: Services) -> None:
        handled.append(job.id)

    services.handlers = HandlerRegistry()
    services.handlers.register("test.pruned", handle)
    worker = Worker(services)

    async def broken() -> None:
        raise RuntimeError("canceling statement due to statement timeout")

    monkeypatch.setattr(worker, "prune_if_due", broken)
    async with services.db.transaction() as session:
        job_id = await JobRepository(session).enqueue(installation, "test.pruned", {})
    async with running(worker):
        await until(lambda: bool(handled))
    assert handled == [job_id]
    assert await job_statuses(services, "test.pruned") == [JobStatus.DONE]
