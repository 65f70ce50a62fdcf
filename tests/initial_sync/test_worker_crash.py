"""An initial sync whose worker process is killed (SIGKILL) in the middle of a step resumes
within one lease, with the default settings, and ends with Mailchimp equal to Saleor; a slow
step whose worker is alive keeps its lease (the worker's heartbeat) and is never run twice.

The worker process reaches the test's in-process sandboxes through `SandboxGateway` (a TCP
port served in this process), which holds the answer to its batch submission: the kill then
happens with a batch created at Mailchimp and nothing recorded, the worst point of a step.
This process runs on the manual clock, set to one lease after the kill instead of waiting.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from addon.clock import ManualClock
from addon.config import Settings
from addon.ecommerce.channel_state import RunStatus
from addon.initial_sync.state import STEP_JOB
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from addon.saleor.client import SaleorClient
from tests.conftest import RecordingTransport
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import assert_equal_to_saleor, creations, finish, run_jobs, start
from tests.worker_process import WorkerProcess, until, worker_process  # noqa: F401


class SandboxGateway:
    """The test's in-process sandboxes on a TCP port, for a worker process: each request goes on
    to the host its Host header names (through the test's network, Mailchimp contract checks
    included). Answers to POST .../batches are held until `release`: the worker is then in the
    middle of a step, with a batch created at Mailchimp and nothing recorded yet."""

    def __init__(self, outbound: RecordingTransport) -> None:
        self.client = httpx.AsyncClient(transport=outbound)
        self.batch_created = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        request = Request(scope, receive)
        skip = {"host", "content-length", "connection", "accept-encoding"}
        url = f"http://{request.headers['host']}{scope['raw_path'].decode()}"
        if scope["query_string"]:
            url += "?" + scope["query_string"].decode()
        answer = await self.client.request(
            request.method,
            url,
            headers=[(k, v) for k, v in request.headers.items() if k not in skip],
            content=await request.body(),
        )
        if request.method == "POST" and scope["path"].endswith("/batches"):
            self.batch_created.set()
            await self.release.wait()
        skip = {"content-length", "content-encoding", "transfer-encoding", "connection"}
        headers = {k: v for k, v in answer.headers.items() if k not in skip}
        await Response(answer.content, answer.status_code, headers)(scope, receive, send)


@pytest.fixture
async def gateway(outbound: RecordingTransport) -> AsyncIterator[tuple[SandboxGateway, int]]:
    app = SandboxGateway(outbound)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))

    async def started() -> bool:
        return server.started or task.done()

    await until(started, "the gateway to start")
    try:
        yield app, sock.getsockname()[1]
    finally:
        app.release.set()
        server.should_exit = True
        await task
        await app.client.aclose()


async def test_an_initial_sync_whose_worker_is_killed_mid_step_resumes_within_one_lease(
    small: Shop,
    clock: ManualClock,
    worker_process: WorkerProcess,  # noqa: F811
    gateway: tuple[SandboxGateway, int],
) -> None:
    shop, (sandboxes, port) = small, gateway
    lease = shop.services.settings.worker_lease_seconds
    assert lease == Settings.model_fields["worker_lease_seconds"].default  # the default lease
    shop.saleor.generate_store(products=30, customers=40, orders=25, seed=11)
    await start(shop)

    await worker_process.start(shop.services.settings, forward=port)

    async def mid_step() -> bool:
        return sandboxes.batch_created.is_set()

    await worker_process.until(mid_step, "the worker to submit a batch")
    killed_at = await worker_process.kill()
    sandboxes.release.set()

    async with shop.services.db.session() as session:
        [stuck] = (
            await session.execute(
                select(Job).where(Job.kind == STEP_JOB, Job.status == JobStatus.RUNNING)
            )
        ).scalars()
    assert f":{worker_process.pid}:" in (stuck.locked_by or "")
    assert stuck.locked_until is not None
    assert stuck.locked_until <= killed_at + timedelta(seconds=lease)

    clock.set(killed_at + timedelta(seconds=lease, microseconds=1))  # one lease after the kill
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    async with shop.services.db.session() as session:
        resumed = await session.get(Job, stuck.id)
    assert resumed is not None
    assert resumed.status is JobStatus.DONE and resumed.attempts == stuck.attempts + 1
    assert_equal_to_saleor(shop)
    assert set(creations(shop).values()) == {1}  # the killed step's batch created no duplicate


async def test_a_slow_step_keeps_its_lease_and_no_other_worker_runs_it(
    small: Shop, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = small
    lease = shop.services.settings.worker_lease_seconds
    shop.saleor.generate_store(products=30, customers=20, orders=10, seed=5)
    await start(shop)
    await run_jobs(shop, 1)  # the store is flagged; the next step reads Saleor
    real, reading, saleor_answers = SaleorClient.execute, asyncio.Event(), asyncio.Event()

    async def slow(self: SaleorClient, *args: Any, **kwargs: Any) -> Any:
        reading.set()
        await saleor_answers.wait()  # Saleor takes its time, for as many leases as it likes
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(SaleorClient, "execute", slow)
    alive = asyncio.create_task(Worker(shop.services, worker_id="alive").run_once())
    await reading.wait()
    async with shop.services.db.session() as session:
        [step] = (
            await session.execute(
                select(Job).where(Job.kind == STEP_JOB, Job.status == JobStatus.RUNNING)
            )
        ).scalars()
    other = Worker(shop.services, worker_id="other")

    async def renewed() -> bool:
        async with shop.services.db.session() as session:
            row = await session.get(Job, step.id, populate_existing=True)
        expected = clock.now() + timedelta(seconds=lease)
        return row is not None and row.locked_until == expected and clock.sleepers == 1

    async def heartbeat_waiting() -> bool:
        return clock.sleepers == 1

    for _ in range(3 * 4):  # four leases, a heartbeat at a time
        await until(heartbeat_waiting, "the heartbeat to wait for its next beat")
        clock.advance(lease / 3)
        await until(renewed, "the heartbeat to renew the step's lease")
        assert await other.run_once() == 0  # the step is held; its lane waits behind it
    saleor_answers.set()
    assert await alive == 1
    monkeypatch.setattr(SaleorClient, "execute", real)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    async with shop.services.db.session() as session:
        done = await session.get(Job, step.id)
    assert done is not None and (done.status, done.attempts) == (JobStatus.DONE, 1)
    assert_equal_to_saleor(shop)
