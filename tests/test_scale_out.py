"""Scale-out on PostgreSQL: two web and two worker processes, a burst of signed webhooks across
both web processes, one worker stopped with SIGTERM in the middle and another started, and
every event delivered to the Mailchimp sandbox exactly once (PostgreSQL only).

The processes are the real ones: `addon serve` twice (each with its in-process worker) and
`addon worker`, all on one database, beside the Saleor and Mailchimp sandboxes served over HTTP
by a process of their own (`tests.scale_stack`: the benchmarks' stack). The app is installed
into the Saleor sandbox, connected to the demo Mailchimp account and tracks the channel through
its own HTTP API (the benchmarks' `_dashboard` and `_setup`).

The events: 40 customers registered in Saleor. Each CUSTOMER_CREATED reaches the app as
Saleor's signed webhooks (e-commerce and subscriptions hooks), customer i's to web process
i mod 2, and its one correct outcome in Mailchimp is one PUT of that e-commerce customer.

What makes the stop meaningful rather than lucky: while the burst arrives, the stack holds every
request to the Saleor API at a closed gate, so each push job waits there, before its Mailchimp
write. Once the first worker holds such a job it gets SIGTERM (and a second worker starts, and
the second half of the burst arrives): its jobs cannot end within its grace, so they must be
released, which the test sees in the jobs table the moment the worker has exited (no job still
leased by it, its attempt not counted). Leases here are an hour long, so a job the shutdown did
not release would stay leased and the test would fail (rather than a lease lapsing and hiding
it). Only then does the gate open and everything drain. A job that ran twice would show as a
second attempt or (run concurrently past the gate) as a second PUT of its customer.

No sleep decides anything: every wait is for a state, bounded by PATIENCE, which only a stuck
run reaches.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from asyncio.subprocess import STDOUT, Process
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from addon.jobs.models import Job, JobStatus
from benchmarks.initial_sync import _dashboard, _setup, _store_ready
from benchmarks.processes import wait_for
from tests.livesite import free_ports
from tests.own_database import own_database

ROOT = Path(__file__).resolve().parent.parent
URL = os.environ.get("TEST_DATABASE_URL", "")
PATIENCE = 120.0  # only a stuck run waits this long; nothing is asserted about durations
GRACE = 2.0  # WORKER_SHUTDOWN_GRACE_SECONDS: the stopped worker's jobs cannot end within it
BATCH = 4  # WORKER_BATCH_SIZE: each worker holds at most this many jobs at the gate
HALF = 20  # customers per half of the burst: more than the web processes' workers can hold
PUSH = "ecommerce.push"
BURST_KINDS = {PUSH, "webhook.ecommerce-customers", "webhook.subscriptions-customer-created"}
# Released either running at the grace's end or claimed as the stop came (a claim the snapshot
# saw committed may return to the worker only after the signal): both give the job back.
RELEASED = re.compile(
    r"Job (\d+) \(\S+\) "
    r"(did not end within the shutdown grace period|claimed as the worker stopped)"
)
STOPPED_RUNNING = "did not end within the shutdown grace period"
ADDON = [sys.executable, "-c", "from addon.cli import main; main()"]

T = TypeVar("T")

pytestmark = [
    pytest.mark.skipif(not URL.startswith("postgresql"), reason="scale-out: PostgreSQL only"),
]  # five processes (four of the app, the sandboxes), some 25 s: .ci/run's PostgreSQL run has it


@pytest.fixture
async def scale_database() -> AsyncIterator[str]:
    """A database of this test's own, empty (the session's database stays as it is)."""
    async with own_database(URL, "scale_out") as url:
        yield url


class Processes:
    """The test's processes, each logging to a file of its own."""

    def __init__(self, directory: Path, environment: dict[str, str]) -> None:
        self.directory = directory
        self.environment = environment
        self.running: dict[str, Process] = {}

    async def start(self, name: str, *command: str) -> Process:
        with (self.directory / f"{name}.log").open("wb") as sink:  # cwd: no developer .env
            process = await asyncio.create_subprocess_exec(
                *command, cwd=self.directory, env=self.environment, stdout=sink, stderr=STDOUT
            )
        self.running[name] = process
        return process

    def log(self, name: str) -> str:
        return (self.directory / f"{name}.log").read_text(errors="replace")

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{self.log(name)[-3000:]}" for name in self.running)

    async def explained(self, step: Awaitable[T]) -> T:
        """`step`'s outcome; its failure with every process's log (the stack's holds the
        tracebacks of the app's dashboard API, which serves the set-up's requests)."""
        try:
            return await step
        except Exception as exc:
            raise AssertionError(f"{exc}\n{self.logs()}") from exc

    def check_alive(self) -> None:
        for name, process in self.running.items():
            if name != "worker-1":  # the one the test stops
                assert process.returncode is None, f"{name} ended:\n{self.logs()}"

    async def stop_all(self) -> None:
        for process in self.running.values():
            if process.returncode is None:
                process.kill()
                await process.wait()


def worker_pid(locked_by: str | None) -> int | None:
    """The process of a worker id (`host:pid:object`, see `Worker`)."""
    return int(locked_by.split(":")[1]) if locked_by else None


async def jobs(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as connection:
        columns = (Job.id, Job.kind, Job.status, Job.locked_by, Job.attempts, Job.payload)
        return list(await connection.execute(select(*columns, Job.run_after).order_by(Job.id)))


def left_undone(job: Any) -> bool:
    """Leased, or due and not taken (jobs scheduled for later, e.g. the hourly lifecycle
    check, are not left undone)."""
    due = job.status is JobStatus.PENDING and job.run_after <= datetime.now(UTC)
    return job.locked_by is not None or job.status is JobStatus.RUNNING or due


async def until(
    what: str, check: Callable[[], Awaitable[bool]], processes: Processes, engine: AsyncEngine
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while not await check():
        processes.check_alive()
        if loop.time() > deadline:
            table = Counter(
                (job.kind, job.status.value, job.locked_by) for job in await jobs(engine)
            )
            raise AssertionError(
                f"timed out waiting until {what}\njobs: {table}\n{processes.logs()}"
            )
        await asyncio.sleep(0.1)


async def burst(http: httpx.AsyncClient, first: int) -> list[dict[str, Any]]:
    """Register HALF customers in Saleor; check each webhook was accepted (queued)."""
    answer = await http.post(f"/_scale/customers?first={first}&count={HALF}")
    customers: list[dict[str, Any]] = answer.json()["customers"]
    for customer in customers:
        deliveries = customer["deliveries"]
        assert "ecommerce-customers" in {d["webhook"] for d in deliveries}, customer
        for delivery in deliveries:
            assert delivery["status"] == 200, delivery
            assert json.loads(delivery["response"])["outcome"] == "queued", delivery
    return customers


async def test_two_web_and_two_worker_processes_deliver_every_event_once(
    scale_database: str, tmp_path: Path
) -> None:
    stack_port, *web_ports = free_ports(3)
    origin = f"http://127.0.0.1:{stack_port}"
    webs = [f"http://127.0.0.1:{port}" for port in web_ports]
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "APP_URL": origin,  # the stack's: Saleor installs the app there (manifest, webhooks)
        "DATABASE_URL": scale_database,
        "SECRET_KEY": "scale-out-test-secret-key-0123456789abcdef",
        "LOG_LEVEL": "INFO",
        "MAILCHIMP_API_URL_TEMPLATE": f"{origin}/sandbox/mailchimp/{{dc}}/3.0",
        "WORKER_BATCH_SIZE": str(BATCH),
        "WORKER_SHUTDOWN_GRACE_SECONDS": str(GRACE),
        # Leases never lapse within the test: only a release hands a stopped worker's job on.
        "WORKER_LEASE_SECONDS": "3600",
        # A push of its own per customer (no Mailchimp batch): one PUT each is what is counted.
        "ECOMMERCE_BATCH_THRESHOLD": "1000",
    }
    environment.pop("TEST_DATABASE_URL", None)
    migrated = await asyncio.create_subprocess_exec(
        *ADDON, "migrate", cwd=tmp_path, env=environment, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, errors = await migrated.communicate()
    assert migrated.returncode == 0, errors.decode()

    processes = Processes(tmp_path, environment)
    engine = create_async_engine(scale_database)
    try:
        await processes.start(
            "stack", sys.executable, "-m", "tests.scale_stack",
            f"--port={stack_port}", f"--webs={','.join(webs)}",
        )  # fmt: skip
        for name, port in zip(("web-a", "web-b"), web_ports, strict=True):
            await processes.start(name, *ADDON, "serve", "--port", str(port))
        first_worker = await processes.start("worker-1", *ADDON, "worker")

        async with httpx.AsyncClient(base_url=origin, timeout=PATIENCE) as http:
            # Installed, connected to the demo account, the channel tracked, its store made.
            installed, headers = await processes.explained(_dashboard(http, origin))
            await processes.explained(_setup(http, headers, installed["api_key"]))
            await processes.explained(
                wait_for(lambda: _store_ready(http, headers), "the Mailchimp store", PATIENCE)
            )
            for web in webs:

                async def ready(web: str = web) -> bool:
                    try:
                        return (await http.get(f"{web}/readyz")).status_code == 200
                    except httpx.TransportError:
                        return False

                await until(f"{web} is ready", ready, processes, engine)

            async def started(name: str) -> bool:
                return " started" in processes.log(name)

            await until("worker 1 runs", lambda: started("worker-1"), processes, engine)

            async def settled() -> bool:
                return not [job for job in await jobs(engine) if left_undone(job)]

            # The set-up's jobs done, the first half of the burst, while every job that reads
            # Saleor waits at the gate (the webhooks' own jobs do not: they queue the pushes).
            await until("the set-up's jobs ran", settled, processes, engine)
            assert (await http.post("/_scale/gate?open=0")).json()["open"] is False
            before = max(job.id for job in await jobs(engine))  # the burst's jobs come after
            customers = await burst(http, 0)

            async def held_by(process: Process) -> list[Any]:
                return [
                    job
                    for job in await jobs(engine)
                    if job.status is JobStatus.RUNNING and worker_pid(job.locked_by) == process.pid
                ]

            async def holds_a_push(process: Process) -> bool:
                return any(job.kind == PUSH for job in await held_by(process))

            # The web processes' workers hold at most 2 * BATCH jobs at the gate, so the
            # first worker gets pushes too; a batch at the gate keeps it from claiming more.
            await until(
                "worker 1 holds a push", lambda: holds_a_push(first_worker), processes, engine
            )
            in_hand = {job.id: job for job in await held_by(first_worker)}

            first_worker.send_signal(signal.SIGTERM)
            second_worker = await processes.start("worker-2", *ADDON, "worker")
            customers += await burst(http, HALF)  # the second half, meanwhile
            # It ends by itself once its grace is over (the bound is for a hang), with 0.
            await asyncio.wait_for(first_worker.wait(), GRACE + PATIENCE)
            first_log = processes.log("worker-1")
            assert first_worker.returncode == 0, first_log

            # Exited: nothing is leased by it any more, and what it held was released. It may
            # have claimed more between the snapshot and the signal: the released are those its
            # log names, a superset of the snapshot's pushes.
            now = {job.id: job for job in await jobs(engine)}
            assert not [j for j in now.values() if worker_pid(j.locked_by) == first_worker.pid]
            found = RELEASED.findall(first_log)
            released = [now[int(i)] for i, _ in found]
            assert {i for i, job in in_hand.items() if job.kind == PUSH} <= {j.id for j in released}
            for job in released:  # pending again, or since taken by another worker
                assert job.id > before, job
                # A burst job's one claim was worker 1's (0 attempts before it), not counted:
                # an attempt only if another worker took it since.
                assert job.attempts == (job.status is not JobStatus.PENDING), job
                # A push cannot have ended while the gate is closed. A job of another kind
                # (a webhook's) may have: released as the stop came, it is due at once for a
                # worker with a free slot, which may run it within the stopped one's grace.
                assert job.kind != PUSH or job.status is not JobStatus.DONE, job
            if any(how == STOPPED_RUNNING for _, how in found):  # it had begun some
                assert f"get {GRACE:g}s to end" in first_log

            # The second worker takes part: it holds jobs at the gate before the gate opens.
            await until(
                "worker 2 holds a push", lambda: holds_a_push(second_worker), processes, engine
            )
            assert (await http.post("/_scale/gate?open=1")).json()["open"] is True

            async def drained() -> bool:
                rows = await jobs(engine)
                ours = [job for job in rows if job.id > before]
                return (
                    len([job for job in ours if job.kind == PUSH]) == 2 * HALF
                    and all(job.status is JobStatus.DONE for job in ours if job.kind in BURST_KINDS)
                    and not [job for job in rows if left_undone(job)]
                )

            await until("every job ran", drained, processes, engine)
            logged = (await http.get("/_scale/mailchimp")).json()["requests"]

        # Both web processes took their share of the deliveries (their access logs).
        for name, web in zip(("web-a", "web-b"), webs, strict=True):
            sent = [d for c in customers for d in c["deliveries"] if d["web"] == web]
            assert len(sent) >= HALF  # customer i's webhooks go to web process i mod 2
            assert processes.log(name).count("POST /api/webhooks/") == len(sent)

        # Every customer exactly once in Mailchimp: one PUT each, nothing else about them.
        emails = Counter(customer["email"] for customer in customers)
        assert len(emails) == 2 * HALF
        puts = [r for r in logged if r["method"] == "PUT" and "/customers/" in r["path"]]
        ids = {r["body"]["id"] for r in puts if r["body"]["email_address"] in emails}
        about_them = [r for r in logged if r["path"].rpartition("/customers/")[2] in ids]
        assert {(r["method"], r["status"]) for r in about_them} == {("PUT", 200)}
        assert Counter(r["body"]["email_address"] for r in about_them) == emails

        # One job per delivery and per customer, each run once; nothing left leased or due.
        rows = await jobs(engine)
        ours = [job for job in rows if job.id > before]
        delivered = Counter(
            f"webhook.{d['webhook']}" for customer in customers for d in customer["deliveries"]
        )
        assert Counter(job.kind for job in ours if job.kind.startswith("webhook.")) == delivered
        pushed = Counter(job.payload["saleor_id"] for job in ours if job.kind == PUSH)
        assert pushed == Counter(customer["id"] for customer in customers)
        for job in ours:
            if job.kind in BURST_KINDS:
                assert job.status is JobStatus.DONE and job.attempts == 1, job
        assert not [job for job in rows if left_undone(job)]

        # The others end too: the worker at once (nothing in hand), the web processes
        # after finishing in-flight requests (uvicorn then re-raises the signal it caught).
        for name in ("worker-2", "web-a", "web-b"):
            processes.running[name].send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second_worker.wait(), PATIENCE) == 0, processes.logs()
        for name in ("web-a", "web-b"):
            code = await asyncio.wait_for(processes.running[name].wait(), PATIENCE)
            assert code == -signal.SIGTERM, processes.logs()
        assert not [job for job in await jobs(engine) if job.locked_by is not None]
    finally:
        await processes.stop_all()
        await engine.dispose()
