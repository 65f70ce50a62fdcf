"""Burst absorption: 10,000 product updates delivered within a minute, on PostgreSQL.

Run: `.venv/bin/python -m benchmarks.burst --database-url postgresql+asyncpg://USER@HOST/NAME`
(a server the benchmark may create databases on: it makes `NAME_w1` and `NAME_w2` afresh).
For 1 and for 2 `addon worker` processes, side by side, it starts:

* the Saleor side (`benchmarks.burst_stack`): the app's web side with the Saleor sandbox
  holding a generated catalogue of 10,000 products, every request to it delayed by 150 ms, plus
  its controls: `/_bench/prepare` (update products in Saleor and answer their signed
  PRODUCT_UPDATED webhooks, which this process delivers to the app, paced over the given
  seconds: `benchmarks.burst_load`) and `/_bench/names` (the products' names in Saleor);
* the Mailchimp sandbox (`benchmarks.burst_mailchimp`), its requests delayed by 150 ms too, in
  a process of its own as Mailchimp is another service (as in `benchmarks.initial_sync`), plus
  `/_bench/expect` and `/_bench/compare` (products whose Mailchimp title is not the expected
  name);
* the workers, with the app's default settings.

It installs the app, connects the demo account, tracks the channel and runs the initial sync;
then two bursts of 10,000 updates (every product renamed):

1. *live*: delivered over 60 s while the workers run. Measured: how long after the last
   delivery Mailchimp holds every new name (target <= 120 s); peak concurrent Mailchimp
   connections (target <= the app's cap); Mailchimp equal to Saleor at the end.
2. *drain*: delivered with the workers stopped (a stored backlog), then the workers start.
   Measured: time until Mailchimp holds every new name. Target: 2 workers >= 1.6x faster
   than 1, comparing each worker count's median of `--drains` drains (3), run in turns
   (1, 2, 1, 2, ...) on stacks set up side by side beforehand.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from addon.config import Settings
from benchmarks.app_process import ADDON, app_env, migrate
from benchmarks.burst_jobs import phases, settled
from benchmarks.burst_load import deliver_burst
from benchmarks.burst_report import Drain, Run, print_report
from benchmarks.initial_sync import CHANNEL, _dashboard, _setup, _store_ready
from benchmarks.processes import (
    child_process,
    cpu_seconds,
    free_port,
    fresh_database,
    machine_jiffies,
    wait_for,
)

PRODUCTS = 10_000
LIVE_SECONDS = 60
DRAINS = 3  # per worker count: the speed-up compares medians
DRAIN_DELIVERY_SECONDS = 20
CLOSE = 2000  # products still differing from which the drain is looked at every 0.1 s


async def _ready(logs: list[Path]) -> float:
    """When the first worker logged its start (Python's imports and the connection to the
    database done): a worker's start-up is not draining, and takes as long with 1 or 2 workers.
    Its CPU still counts in the CPU per stored webhook."""
    started = re.compile(r"Worker \S+ started")
    while not any(log.exists() and started.search(log.read_text()) for log in logs):  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    return time.time()


async def _expect_saleor(http: httpx.AsyncClient, mailchimp: httpx.AsyncClient) -> None:
    """Tell the Mailchimp sandbox the names Saleor gives the products now."""
    names = (await http.get("/_bench/names")).content
    response = await mailchimp.post("/_bench/expect", content=names)
    response.raise_for_status()


async def _until_equal(mailchimp: httpx.AsyncClient, limit: float) -> float | None:
    """When Mailchimp holds every product as expected (None: not within `limit` seconds).
    Looked at every 0.1 s once fewer than CLOSE products differ (the last few batches), every
    0.5 s before: each look rechecks every product still differing in the Mailchimp sandbox's
    process, 10,000 at first, CPU the drain would otherwise share."""
    started = time.time()
    while time.time() - started < limit:
        differ = (await mailchimp.get("/_bench/compare")).json()["differ"]
        if differ == 0:
            return time.time()
        await asyncio.sleep(0.1 if differ < CLOSE else 0.5)
    return None


@dataclass
class Bench:
    """One worker count's processes and database, set up and kept for its drains."""

    workers: int
    database_url: str
    env: dict[str, str]
    logs: Path
    http: httpx.AsyncClient
    mailchimp: httpx.AsyncClient
    stack_pid: int
    mailchimp_pid: int

    async def stats(self) -> dict[str, Any]:
        return {
            **(await self.http.get("/_bench/stats")).json(),
            **(await self.mailchimp.get("/_bench/stats")).json(),
        }

    @contextlib.asynccontextmanager
    async def running(self, log_suffix: str = "") -> AsyncIterator[list[int]]:
        """The `addon worker` processes, stopped on exit."""
        async with contextlib.AsyncExitStack() as workers_up:
            yield [
                await workers_up.enter_async_context(
                    # INFO: the start line `_ready` waits for (a worker logs little else).
                    child_process(
                        [*ADDON, "worker"],
                        {**self.env, "LOG_LEVEL": "INFO"},
                        self.logs / f"worker{n}{log_suffix}.log",
                    )
                )
                for n in range(self.workers)
            ]


@contextlib.asynccontextmanager
async def prepared(
    result: Run, base_url: str, products: int, latency: float, keep: bool, live: float
) -> AsyncIterator[Bench]:
    """A worker count's stack, app installed and connected, initial sync done, and its live
    burst run (`live` seconds; 0: none), the figures in `result`."""
    workers = result.workers
    database_url = await fresh_database(base_url, f"{base_url.rpartition('/')[2]}_w{workers}")
    port, mailchimp_port = free_port(), free_port()
    origin, mailchimp_origin = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{mailchimp_port}"
    with tempfile.TemporaryDirectory(prefix="burst-") as tmp:
        logs = Path(tmp) if not keep else Path(tempfile.mkdtemp(prefix="burst-logs-"))
        env = app_env(origin, database_url, mailchimp_origin)
        result.cap = Settings(_env_file=None).mailchimp_max_concurrency  # type: ignore[call-arg]
        await migrate(env)
        stack = [
            sys.executable,
            "-m",
            "benchmarks.burst_stack",
            f"--port={port}",
            f"--products={products}",
            f"--latency={latency}",
        ]
        mailchimp_stack = [
            sys.executable,
            "-m",
            "benchmarks.burst_mailchimp",
            f"--port={mailchimp_port}",
            f"--latency={latency}",
        ]
        # The stack's web side runs no worker: its pool (`WORKER_BATCH_SIZE` + 10, see
        # `addon.db.engine`) needs room for the deliveries only. Sized for 20 jobs, the two
        # stacks' web processes kept their live bursts' connections open, and with two
        # workers draining PostgreSQL's 100 connections were once all taken.
        stack_env = {**env, "WORKER_BATCH_SIZE": "4"}
        async with (
            child_process(stack, stack_env, logs / "stack.log") as stack_pid,
            child_process(mailchimp_stack, env, logs / "mailchimp.log") as mailchimp_pid,
            httpx.AsyncClient(base_url=origin, timeout=120) as http,
            httpx.AsyncClient(base_url=mailchimp_origin, timeout=120) as mailchimp,
        ):
            bench = Bench(
                workers, database_url, env, logs, http, mailchimp, stack_pid, mailchimp_pid
            )
            _, headers = await _dashboard(http, origin)
            api_key = (await wait_for(bench.stats, "the Mailchimp sandbox", 60))["api_key"]
            async with bench.running():
                await _setup(http, headers, api_key, mailchimp=mailchimp_origin)
                await wait_for(lambda: _store_ready(http, headers), "the Mailchimp store", 60)
                print(
                    f"  {workers} worker(s): initial sync of {products:,} products ...", flush=True
                )
                await _initial_sync(http, headers)
                await mailchimp.post("/_bench/reset-peak")
                if live > 0:
                    await _live(bench, result, products, live)
            yield bench


async def _live(bench: Bench, result: Run, products: int, live: float) -> None:
    print(f"  {bench.workers} worker(s): live burst ...", flush=True)
    before = await bench.stats()
    report = await deliver_burst(bench.http, products, live, "live")
    result.live_delivery_seconds = report.last_at - report.first_at
    result.live_failed = report.failed
    await _expect_saleor(bench.http, bench.mailchimp)
    equal = await _until_equal(bench.mailchimp, 600)
    result.live_after_last = None if equal is None else equal - report.last_at
    after = await bench.stats()
    result.peak_concurrency = after["peak_concurrency"]
    result.mailchimp_requests = after["mailchimp_requests"] - before["mailchimp_requests"]
    result.saleor_requests = after["saleor_requests"] - before["saleor_requests"]


async def drain(
    bench: Bench, result: Run, products: int, number: int, profile: str | None = None
) -> None:
    """A backlog of `products` updates stored with the workers stopped, then drained by them;
    its figures appended to `result.drains`."""
    http, mailchimp, workers = bench.http, bench.mailchimp, bench.workers
    print(f"  {workers} worker(s): backlog drain {number} ...", flush=True)
    figures = Drain()
    report = await deliver_burst(http, products, DRAIN_DELIVERY_SECONDS, f"drain{number}")
    figures.delivery_seconds = report.last_at - report.first_at
    figures.failed = report.failed
    figures.webhooks = products - report.failed
    await _expect_saleor(http, mailchimp)
    started = time.time()
    sandboxes_cpu = cpu_seconds(bench.stack_pid), cpu_seconds(bench.mailchimp_pid)
    async with (
        bench.running(f"-drain{number}") as pids,
        _profiled(
            {"worker1": pids[0], "stack": bench.stack_pid, "mailchimp": bench.mailchimp_pid},
            profile,
            workers,
        ),
    ):
        ready = await _ready([bench.logs / f"worker{n}-drain{number}.log" for n in range(workers)])
        figures.startup_seconds = ready - started
        # From the first worker's start: the start-ups (Python's imports, every core busy
        # with two workers) are not the drain's.
        machine = machine_jiffies()
        equal = await _until_equal(mailchimp, 900)
        (busy, total), (busy_before, total_before) = machine_jiffies(), machine
        figures.machine_busy = (busy - busy_before) / max(total - total_before, 1)
        figures.seconds = None if equal is None else equal - ready
        figures.cpu_seconds = sum(cpu_seconds(pid) for pid in pids)
        figures.stack_cpu_seconds = cpu_seconds(bench.stack_pid) - sandboxes_cpu[0]
        figures.mailchimp_cpu_seconds = cpu_seconds(bench.mailchimp_pid) - sandboxes_cpu[1]
        # After the CPU figures: the query is the benchmark's, not the drain's.
        figures.webhooks_by, figures.pushes_by = await phases(bench.database_url, ready)
        await _expect_saleor(http, mailchimp)  # Saleor as it is at the end
        compared = (await mailchimp.get("/_bench/compare", params={"full": "1"})).json()
        figures.equal_at_end = compared["differ"] == 0
        after = await bench.stats()
        result.peak_concurrency = max(result.peak_concurrency, after["peak_concurrency"])
        # Not timed: the batches' results applied to the ledger, so that the next drain
        # starts from a settled store, as the first did.
        await wait_for(lambda: settled(bench.database_url), "the ledger settled", 300)
    result.drains.append(figures)


async def run_all(args: argparse.Namespace) -> list[Run]:
    """Every worker count set up side by side, then their drains in turns (1, 2, 2, 1, ...):
    the machine's speed drifts over minutes, and a worker count's drains all run before or
    after the other's would carry that drift into the speed-up."""
    runs = [Run(workers=int(n)) for n in args.workers.split(",")]
    async with contextlib.AsyncExitStack() as stack:
        benches = []
        for result in runs:
            benches.append(
                await stack.enter_async_context(
                    prepared(
                        result,
                        args.database_url,
                        args.products,
                        args.latency,
                        args.keep_logs,
                        args.live_seconds,
                    )
                )
            )
        for number in range(1, args.drains + 1):
            # 1, 2, then 2, 1, ...: a drift over the run weighs on both counts alike.
            pairs = list(zip(benches, runs, strict=True))
            for bench, result in pairs if number % 2 else reversed(pairs):
                profile = args.profile_drain if number == 1 else None
                await drain(bench, result, args.products, number, profile)
    return runs


@contextlib.asynccontextmanager
async def _profiled(pids: dict[str, int], py_spy: str | None, workers: int) -> AsyncIterator[None]:
    """With `--profile-drain PY_SPY`: record the stacks of the first worker and of the sandbox
    stack during the first drain (`py-spy record --format raw`, to burst-drain-w<N>-<process>.txt in
    the current directory)."""
    if py_spy is None:
        yield
        return
    spies = {}
    for name, pid in pids.items():
        out = f"burst-drain-w{workers}-{name}.txt"  # in the current directory
        command = [py_spy, "record", "--pid", str(pid), "--rate", "50", "--format", "raw"]
        spies[out] = await asyncio.create_subprocess_exec(
            *command, "--output", out, stdout=asyncio.subprocess.DEVNULL
        )
    try:
        yield
    finally:
        for out, spy in spies.items():
            spy.send_signal(2)  # SIGINT: py-spy writes what it has
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(spy.wait(), 30)
            print(f"  drain profile: {out}", flush=True)


async def _initial_sync(http: httpx.AsyncClient, headers: dict[str, str]) -> None:
    path = f"/api/ecommerce/channels/{CHANNEL}/initial-sync"
    response = await http.post(path, headers=headers, json={})
    response.raise_for_status()
    sync = response.json()
    while sync["status"] == "running":
        await asyncio.sleep(1)
        sync = (await http.get(path, headers=headers)).json()
    if sync["status"] != "succeeded":
        raise RuntimeError(f"the initial sync ended {sync['status']}: {sync.get('error')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=PRODUCTS)
    parser.add_argument("--latency", type=float, default=0.15, help="Seconds per request.")
    parser.add_argument("--workers", default="1,2", help="Worker counts to run, e.g. 1,2.")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="postgresql+asyncpg://USER@HOST:PORT/NAME (NAME_w1, NAME_w2 are made afresh).",
    )
    parser.add_argument("--keep-logs", action="store_true", help="Keep the processes' logs.")
    parser.add_argument(
        "--drains",
        type=int,
        default=DRAINS,
        help="Drains per worker count, in turns; the report takes each count's median.",
    )
    parser.add_argument(
        "--live-seconds",
        type=float,
        default=LIVE_SECONDS,
        help="The live burst's length (0: no live burst, the drain only).",
    )
    parser.add_argument(
        "--profile-drain",
        metavar="PY_SPY",
        help="py-spy's path: record the first worker's and the sandboxes' stacks during the first "
        "drain of each worker count (which profiling slows).",
    )
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql+asyncpg://"):
        parser.error("--database-url postgresql+asyncpg://… is required (workers share it)")
    if args.drains < 1:
        parser.error("--drains must be at least 1")
    counts = args.workers.split(",")
    if len(set(counts)) != len(counts):
        parser.error("--workers: each count once (a count's database is named after it)")
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    runs = asyncio.run(run_all(args))
    sys.exit(0 if print_report(runs, args.products, args.latency) else 1)


if __name__ == "__main__":
    main()
