"""Fewer, shorter write transactions: deliveries stored in group commits, SQLite writers queued
in the process, a job completed in its handler's last transaction, signing keys kept in the
process."""

from __future__ import annotations

import asyncio
import logging
from contextlib import nullcontext
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, event, select, text

from addon.db.engine import Database
from addon.db.write_turn import urgent
from addon.installations.intake import InstallationGone, intake_for
from addon.installations.models import Installation
from addon.jobs.completion import complete_in
from addon.jobs.inserts import NewJob
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.jobs.worker import Worker
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.conftest import APP_URL
from tests.factories import make_installation
from tests.test_ingest import PATH, headers, product_body, stored_jobs, write_transactions

pytestmark = pytest.mark.usefixtures("clock")

PATIENCE = 30.0  # a bound on waiting for what happens at once (reached only when broken)


def job(installation_id: int, key: str, payload: dict[str, Any] | None = None) -> NewJob:
    return NewJob(installation_id, "test.intake", payload or {"key": key}, key)


async def all_jobs(services: Services) -> list[Job]:
    async with services.db.session() as session:
        return list((await session.execute(select(Job).order_by(Job.id))).scalars())


async def test_deliveries_arriving_together_are_stored_in_one_transaction(
    services: Services,
) -> None:
    installation = await make_installation(services)
    jobs = [job(installation, f"d{number}") for number in range(50)]
    jobs.insert(10, job(installation, "d3"))  # Saleor redelivered one: the second is a duplicate

    with write_transactions(services.db) as begun:
        ids = await asyncio.gather(*(intake_for(services.db).store(one) for one in jobs))

    assert begun == ["write"]  # one group, one commit
    assert ids[10] is None  # the duplicate
    assert all(isinstance(ids[n], int) for n in range(len(ids)) if n != 10)
    stored = await all_jobs(services)
    assert [stored_job.dedupe_key for stored_job in stored] == [f"d{n}" for n in range(50)]
    assert {stored_job.id for stored_job in stored} == {i for i in ids if i is not None}


async def test_a_delivery_for_an_erased_installation_fails_alone(services: Services) -> None:
    installation = await make_installation(services)
    gone = await make_installation(services, "http://gone.test/graphql/")
    async with services.db.transaction() as session:
        await session.execute(delete(Installation).where(Installation.id == gone))
    jobs = [job(installation, "a"), job(gone, "elsewhere"), job(installation, "b")]

    results = await asyncio.gather(
        *(intake_for(services.db).store(one) for one in jobs), return_exceptions=True
    )

    assert isinstance(results[0], int) and isinstance(results[2], int)
    assert isinstance(results[1], InstallationGone)
    assert [stored.dedupe_key for stored in await all_jobs(services)] == ["a", "b"]


async def test_a_delivery_that_breaks_its_group_fails_alone(services: Services) -> None:
    installation = await make_installation(services)
    unstorable = job(installation, "bad", {"value": object()})  # not JSON: the INSERT fails
    jobs = [job(installation, "a"), unstorable, job(installation, "b")]

    results = await asyncio.gather(
        *(intake_for(services.db).store(one) for one in jobs), return_exceptions=True
    )

    assert isinstance(results[0], int) and isinstance(results[2], int)
    assert isinstance(results[1], Exception)
    assert [stored.dedupe_key for stored in await all_jobs(services)] == ["a", "b"]


async def test_sqlite_writers_of_one_process_wait_their_turn_not_the_busy_timeout(
    services: Services,
) -> None:
    database = Database(services.db.url)
    if not database.is_sqlite:
        pytest.skip("SQLite's write lock")

    def no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        # Without the process's turns, a second writer would fail at once ("database is
        # locked") instead of sleeping in SQLite's busy handler.
        dbapi_connection.execute("PRAGMA busy_timeout = 0")

    event.listen(database.engine.sync_engine, "connect", no_busy_wait)
    try:
        async with database.transaction() as session:
            await session.execute(text("CREATE TABLE turn_counter (id INTEGER, value INTEGER)"))
            await session.execute(text("INSERT INTO turn_counter VALUES (1, 0)"))

        async def increment() -> None:
            async with database.transaction() as session:
                read = text("SELECT value FROM turn_counter WHERE id = 1")
                value = (await session.execute(read)).scalar_one()
                await asyncio.sleep(0)  # let the others try to begin meanwhile
                write = text("UPDATE turn_counter SET value = :value WHERE id = 1")
                await session.execute(write, {"value": value + 1})

        await asyncio.gather(*(increment() for _ in range(20)))
        async with database.session() as session:
            read = text("SELECT value FROM turn_counter WHERE id = 1")
            assert (await session.execute(read)).scalar_one() == 20
    finally:
        async with database.transaction() as session:
            await session.execute(text("DROP TABLE IF EXISTS turn_counter"))
        await database.dispose()


async def test_an_urgent_write_goes_before_the_ordinary_ones_waiting(
    services: Services,
) -> None:
    database = Database(services.db.url)
    turn = database.write_turn
    if turn is None:
        pytest.skip("SQLite's write lock")
    order: list[str] = []
    holding, release = asyncio.Event(), asyncio.Event()

    async def write(name: str, *, is_urgent: bool = False, hold: bool = False) -> None:
        with urgent() if is_urgent else nullcontext():
            async with database.transaction() as session:
                await session.execute(text("SELECT 1"))  # begins: the turn is this one's
                order.append(name)
                if hold:
                    holding.set()
                    await release.wait()

    async def queued(count: int) -> None:
        deadline = asyncio.get_running_loop().time() + PATIENCE
        while turn.waiting < count:
            assert asyncio.get_running_loop().time() < deadline, "gave up waiting"
            await asyncio.sleep(0.001)

    try:
        tasks = [asyncio.create_task(write("holder", hold=True))]
        await holding.wait()
        tasks.append(asyncio.create_task(write("worker 1")))
        await queued(1)
        tasks.append(asyncio.create_task(write("worker 2")))
        await queued(2)
        tasks.append(asyncio.create_task(write("webhook", is_urgent=True)))
        await queued(3)
        release.set()
        await asyncio.gather(*tasks)
        assert order == ["holder", "webhook", "worker 1", "worker 2"]
    finally:
        await database.dispose()


async def test_a_job_completed_in_its_handlers_transaction_costs_no_transaction_more(
    services: Services,
) -> None:
    installation = await make_installation(services)

    async def handler(claimed: ClaimedJob, services: Services) -> None:
        async with services.db.transaction() as session:
            await session.execute(text("SELECT 1"))  # the handler's own last write
            await complete_in(session)

    services.handlers.register("test.completes", handler)
    async with services.db.transaction() as session:
        await JobRepository(session).enqueue(installation, "test.completes", {})

    with write_transactions(services.db) as begun:
        assert await Worker(services).run_once() == 1
    assert begun == ["write", "write"]  # the claim, the handler's (with the completion)
    [done] = await all_jobs(services)
    assert (done.status, done.locked_by, done.last_error) == (JobStatus.DONE, None, None)


async def test_a_completion_rolled_back_with_its_transaction_is_not_recorded(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    installation = await make_installation(services)

    async def rolled_back(claimed: ClaimedJob, services: Services) -> None:
        async with services.db.transaction() as session:
            await complete_in(session)
            raise RuntimeError("failed after completing, in the same transaction")

    async def fails_after(claimed: ClaimedJob, services: Services) -> None:
        async with services.db.transaction() as session:
            await complete_in(session)
        raise RuntimeError("failed after its last transaction")

    services.handlers.register("test.rolled_back", rolled_back)
    services.handlers.register("test.fails_after", fails_after)
    async with services.db.transaction() as session:
        await JobRepository(session).enqueue(installation, "test.rolled_back", {})
        await JobRepository(session).enqueue(installation, "test.fails_after", {})

    with caplog.at_level(logging.ERROR, logger="addon.jobs.worker"):
        assert await Worker(services).run_once() == 2
    by_kind = {stored.kind: stored for stored in await all_jobs(services)}
    retried = by_kind["test.rolled_back"]
    assert retried.status is JobStatus.PENDING
    assert "failed after completing" in (retried.last_error or "")
    assert by_kind["test.fails_after"].status is JobStatus.DONE
    assert "failed after it was recorded" in caplog.text


async def test_a_second_delivery_reads_no_keys_and_a_new_installation_is_found(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    services: Services,
    app_client: httpx.AsyncClient,
) -> None:
    async def deliver(number: int) -> httpx.Response:
        body = product_body(number)
        return await app_client.post(PATH, content=body, headers=headers(saleor, saleor.sign(body)))

    assert (await deliver(1)).json()["outcome"] == "queued"
    reads: list[str] = []

    def on_begin(connection: Any) -> None:
        reads.append(connection.get_execution_options().get("sqlite_begin", "any"))

    event.listen(services.db.engine.sync_engine, "begin", on_begin)
    try:
        assert (await deliver(2)).json()["outcome"] == "queued"
    finally:
        event.remove(services.db.engine.sync_engine, "begin", on_begin)
    assert len(reads) == 1  # the group's write only: the keys came from the process's cache

    # Erased behind this process's back (by another process), then installed again: the
    # cached installation is gone, the delivery is checked against the new one.
    async with services.db.transaction() as session:
        await session.execute(delete(Installation))
    saleor.store.apps.clear()  # and uninstalled in Saleor, before it can be installed again
    await saleor.install_app(f"{APP_URL}/api/manifest")
    before = await stored_jobs(services)
    response = await deliver(3)
    assert response.json()["outcome"] == "queued", response.text
    assert await stored_jobs(services) == before + 1

    async with services.db.transaction() as session:
        await session.execute(delete(Installation))
    response = await deliver(4)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNKNOWN_INSTALLATION"
