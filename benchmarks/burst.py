"""Burst absorption: 10,000 product updates delivered within a minute, on PostgreSQL.

Run: `.venv/bin/python -m benchmarks.burst --database-url postgresql+asyncpg://USER@HOST/NAME`
(a server the benchmark may create databases on: it makes `NAME_w1` and `NAME_w2` afresh).
For 1 and then 2 `addon worker` processes it starts:

* the sandbox stack (`--serve`, this module): the app's web side with the Saleor sandbox
  holding a generated catalogue of 10,000 products and the Mailchimp sandbox, every request to
  either delayed by 150 ms (`benchmarks.stack.BenchStack`), plus `/_bench/burst` (update
  products in Saleor, each update delivered to the app as Saleor's signed PRODUCT_UPDATED
  webhook, paced over the given seconds) and `/_bench/compare` (products whose Mailchimp title
  is not Saleor's name);
* the workers, with the app's default settings.

It installs the app, connects the demo account, tracks the channel and runs the initial sync;
then two bursts of 10,000 updates (every product renamed):

1. *live*: delivered over 60 s while the workers run. Measured: how long after the last
   delivery Mailchimp holds every new name (target <= 120 s); peak concurrent Mailchimp
   connections (target <= the app's cap); Mailchimp equal to Saleor at the end.
2. *drain*: delivered with the workers stopped (a stored backlog), then the workers start.
   Measured: time until Mailchimp holds every new name. Target: 2 workers >= 1.6x faster
   than 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
from starlette.types import Receive, Scope, Send

from addon.config import Settings
from benchmarks.initial_sync import CHANNEL, _dashboard, _setup, _store_ready
from benchmarks.processes import (
    child_process,
    cpu_seconds,
    free_port,
    fresh_database,
    machine_jiffies,
    wait_for,
)
from benchmarks.stack import BenchStack

PRODUCTS = 10_000
LIVE_SECONDS = 60
DRAIN_DELIVERY_SECONDS = 20
TARGET_AFTER_LAST_DELIVERY = 120.0
TARGET_SPEEDUP = 1.6
# Deliveries in flight at once from the Saleor sandbox (Saleor's webhook workers).
SENDERS = 32
DELIVERY_ATTEMPTS = 3


# --- the stack process --------------------------------------------------------------------------


class BurstStack(BenchStack):
    """`BenchStack` and the burst's own controls."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        query = {k: v[0] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}
        if path == "/_bench/prepare":
            await _json(send, await self.prepare(int(query["count"]), query["tag"]))
        elif path == "/_bench/compare":
            await _json(send, self.compare(full=query.get("full") == "1"))
        elif path == "/_bench/reset-peak":
            self.stack.mailchimp.reset_peak_concurrency(self.stack.demo_account)
            await _json(send, {})
        else:
            await super().__call__(scope, receive, send)

    _differing: set[int] | None = None  # what the last compare found (None: look at all)

    async def prepare(self, count: int, tag: str) -> dict[str, Any]:
        """Rename `count` products in Saleor and answer the signed PRODUCT_UPDATED webhooks
        Saleor sends for them (bodies and headers exactly as `SaleorSandbox.emit` builds them),
        for the orchestrator to deliver: another process, as Saleor is another machine."""
        saleor = self.stack.saleor
        self._differing = None  # products are renamed: the next compare looks at all
        deliveries = []
        for product in list(saleor.store.products.values())[:count]:
            base = product.name.split(" @", 1)[0]
            updated = saleor.store.update_product(product, name=f"{base} @{tag}")
            for app, hook in saleor._recipients("PRODUCT_UPDATED", None, None):
                body, errors = await saleor.render_payload(hook, app, "PRODUCT_UPDATED", updated)
                if errors:
                    raise RuntimeError(f"the PRODUCT_UPDATED payload failed: {errors}")
                headers = {
                    "Content-Type": "application/json",
                    "Saleor-Event": "product_updated",
                    "Saleor-Domain": saleor.domain,
                    "Saleor-Api-Url": saleor.api_url,
                    "Saleor-Signature": saleor.sign(body),
                    **hook.custom_headers,
                }
                deliveries.append(
                    {"url": hook.target_url, "headers": headers, "body": body.decode()}
                )
        return {"deliveries": deliveries}

    def compare(self, *, full: bool) -> dict[str, Any]:
        """Products whose Mailchimp title is not Saleor's name. Polled twice a second while a
        backlog drains, in the process that serves both sandboxes: a poll looks again only at
        the products that differed at the last one (a scan of all 10,000 each time was a
        seventh of this process's CPU), and a whole scan confirms any "none differ"."""
        mailchimp, account = self.stack.mailchimp, self.stack.demo_account
        stores = mailchimp.stores(account)
        held = mailchimp.state.accounts[account.id].stores[stores[0].id].products if stores else {}
        products = self.stack.saleor.store.products

        def differ(pks: Iterable[int]) -> set[int]:
            out = set()
            for pk in pks:
                found = held.get(str(products[pk].id))
                if found is None or found.title != products[pk].name:
                    out.add(pk)
            return out

        left = None if full or self._differing is None else differ(self._differing)
        if not left:
            left = differ(products)
        self._differing = left
        return {"differ": len(left), "products": len(products)}


async def _json(send: Send, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


def serve(port: int, products: int, latency: float) -> None:
    import uvicorn

    from addon.config import load_settings
    from sandboxes.devstack import DevStack, create_dev_app
    from sandboxes.saleor.generator import generate_store

    app = create_dev_app(load_settings(), run_worker=False)
    stack: DevStack = app.state.devstack
    generate_store(stack.saleor.store, products=products, customers=0, orders=0, seed=7)
    stack.mailchimp.faults.set(latency=latency)
    uvicorn.run(
        BurstStack(app, stack, latency),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
    )


# --- the orchestrator ---------------------------------------------------------------------------


@dataclass
class Run:
    workers: int
    live_delivery_seconds: float = 0.0
    live_failed: int = 0
    live_after_last: float | None = None
    drain_delivery_seconds: float = 0.0
    drain_failed: int = 0
    drain_seconds: float | None = None  # from the first worker's start line (see _ready)
    drain_startup_seconds: float = 0.0  # processes started -> first worker ready
    drain_cpu_seconds: float = 0.0  # the workers' CPU (user + system) during the drain
    drain_webhooks: int = 0
    drain_machine_busy: float = 0.0  # of all the machine's cores, during the drain
    drain_stack_cpu_seconds: float = 0.0  # the sandboxes' (and the app's web side's) process
    peak_concurrency: int = 0
    cap: int = 0
    equal_at_end: bool = False
    mailchimp_requests: int = 0
    saleor_requests: int = 0


@dataclass
class Delivered:
    first_at: float
    last_at: float
    failed: int


async def _burst(http: httpx.AsyncClient, count: int, seconds: float, tag: str) -> Delivered:
    """Update `count` products in Saleor and deliver their webhooks to the app, paced evenly
    over `seconds` from SENDERS kept-alive connections (Saleor's webhook workers)."""
    deliveries = (await http.get(f"/_bench/prepare?count={count}&tag={tag}")).json()["deliveries"]
    failed = 0
    gate = asyncio.Semaphore(SENDERS)
    limits = httpx.Limits(max_connections=SENDERS, max_keepalive_connections=SENDERS)
    async with httpx.AsyncClient(timeout=30, limits=limits) as sender:

        async def deliver(delivery: dict[str, Any]) -> None:
            nonlocal failed
            try:
                # A failed delivery is sent again, as Saleor retries it (its first retries
                # come within seconds); counted when every attempt failed.
                for _ in range(DELIVERY_ATTEMPTS):
                    try:
                        response = await sender.post(
                            delivery["url"], content=delivery["body"], headers=delivery["headers"]
                        )
                    except httpx.HTTPError:
                        continue
                    if response.is_success:
                        return
                failed += 1
            finally:
                gate.release()

        started = time.time()
        tasks = []
        for index, delivery in enumerate(deliveries):
            delay = started + index * seconds / len(deliveries) - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await gate.acquire()
            tasks.append(asyncio.create_task(deliver(delivery)))
        await asyncio.gather(*tasks)
    return Delivered(started, time.time(), failed)


async def _ready(logs: list[Path]) -> float:
    """When the first worker logged its start (Python's imports and the connection to the
    database done): a worker's start-up is not draining, and takes as long with 1 or 2 workers.
    Its CPU still counts in the CPU per stored webhook."""
    started = re.compile(r"Worker \S+ started")
    while not any(log.exists() and started.search(log.read_text()) for log in logs):  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    return time.time()


async def _until_equal(http: httpx.AsyncClient, limit: float) -> float | None:
    """Seconds until Mailchimp holds every product as Saleor names it (None: not in time)."""
    started = time.time()
    while time.time() - started < limit:
        if (await http.get("/_bench/compare")).json()["differ"] == 0:
            return time.time()
        await asyncio.sleep(0.5)
    return None


async def run(
    workers: int,
    base_url: str,
    products: int,
    latency: float,
    keep: bool,
    live: float,
    profile: str | None = None,
) -> Run:
    result = Run(workers=workers)
    database_url = await fresh_database(base_url, f"{base_url.rpartition('/')[2]}_w{workers}")
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="burst-") as tmp:
        logs = Path(tmp) if not keep else Path(tempfile.mkdtemp(prefix="burst-logs-"))
        env = {
            **os.environ,
            "APP_URL": origin,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "benchmark-secret-key-benchmark-secret-key",
            "LOG_LEVEL": "WARNING",
            "MAILCHIMP_API_URL_TEMPLATE": f"{origin}/sandbox/mailchimp/{{dc}}/3.0",
        }
        result.cap = Settings(_env_file=None).mailchimp_max_concurrency  # type: ignore[call-arg]
        migrate = [sys.executable, "-c", "from addon.cli import main; main()", "migrate"]
        if await (await asyncio.create_subprocess_exec(*migrate, env=env)).wait():
            raise RuntimeError("addon migrate failed")
        stack = [
            sys.executable,
            "-m",
            "benchmarks.burst",
            "--serve",
            f"--port={port}",
            f"--products={products}",
            f"--latency={latency}",
        ]
        worker = [sys.executable, "-c", "from addon.cli import main; main()", "worker"]

        @contextlib.asynccontextmanager
        async def running() -> AsyncIterator[list[int]]:
            async with contextlib.AsyncExitStack() as workers_up:
                pids = [
                    await workers_up.enter_async_context(
                        # INFO: the start line `_ready` waits for (a worker logs little else).
                        child_process(worker, {**env, "LOG_LEVEL": "INFO"}, logs / f"worker{n}.log")
                    )
                    for n in range(workers)
                ]
                yield pids

        async with (
            child_process(stack, env, logs / "stack.log") as stack_pid,
            httpx.AsyncClient(base_url=origin, timeout=120) as http,
        ):
            first, headers = await _dashboard(http, origin)
            async with running():
                await _setup(http, headers, first["api_key"])
                await wait_for(lambda: _store_ready(http, headers), "the Mailchimp store", 60)
                print(
                    f"  {workers} worker(s): initial sync of {products:,} products ...", flush=True
                )
                await _initial_sync(http, headers)
                await http.post("/_bench/reset-peak")
                if live > 0:
                    print(f"  {workers} worker(s): live burst ...", flush=True)
                    before = (await http.get("/_bench/stats")).json()
                    report = await _burst(http, products, live, "live")
                    result.live_delivery_seconds = report.last_at - report.first_at
                    result.live_failed = report.failed
                    equal = await _until_equal(http, 600)
                    result.live_after_last = None if equal is None else equal - report.last_at
                    after = (await http.get("/_bench/stats")).json()
                    result.peak_concurrency = after["peak_concurrency"]
                    result.mailchimp_requests = (
                        after["mailchimp_requests"] - before["mailchimp_requests"]
                    )
                    result.saleor_requests = after["saleor_requests"] - before["saleor_requests"]
            print(f"  {workers} worker(s): backlog drain ...", flush=True)
            report = await _burst(http, products, DRAIN_DELIVERY_SECONDS, "drain")
            result.drain_delivery_seconds = report.last_at - report.first_at
            result.drain_failed = report.failed
            result.drain_webhooks = products - report.failed
            started = time.time()
            stack_cpu = cpu_seconds(stack_pid)
            machine = machine_jiffies()
            async with (
                running() as pids,
                _profiled({"worker1": pids[0], "stack": stack_pid}, profile, workers),
            ):
                ready = await _ready([logs / f"worker{n}.log" for n in range(workers)])
                result.drain_startup_seconds = ready - started
                equal = await _until_equal(http, 900)
                (busy, total), (busy_before, total_before) = machine_jiffies(), machine
                busy, total = busy - busy_before, total - total_before
                result.drain_machine_busy = busy / max(total, 1)
                result.drain_seconds = None if equal is None else equal - ready
                result.drain_cpu_seconds = sum(cpu_seconds(pid) for pid in pids)
                result.drain_stack_cpu_seconds = cpu_seconds(stack_pid) - stack_cpu
                compared = (await http.get("/_bench/compare", params={"full": "1"})).json()
                result.equal_at_end = compared["differ"] == 0
                after = (await http.get("/_bench/stats")).json()
                result.peak_concurrency = max(result.peak_concurrency, after["peak_concurrency"])
    return result


@contextlib.asynccontextmanager
async def _profiled(pids: dict[str, int], py_spy: str | None, workers: int) -> AsyncIterator[None]:
    """With `--profile-drain PY_SPY`: record the stacks of the first worker and of the sandbox
    stack during the drain (`py-spy record --format raw`, to burst-drain-w<N>-<process>.txt in
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


def _print(runs: list[Run], products: int, latency: float) -> bool:
    print()
    print(f"burst: {products:,} product updates, {latency * 1000:.0f} ms per request to Saleor "
          "and Mailchimp, PostgreSQL")  # fmt: skip
    print(f"{'':44}" + "".join(f"{f'{r.workers} worker(s)':>16}" for r in runs))

    def row(label: str, values: list[str]) -> None:
        print(f"{label:44}" + "".join(f"{v:>16}" for v in values))

    def secs(value: float | None) -> str:
        return "not reached" if value is None else f"{value:.1f} s"

    row("live: deliveries took", [secs(r.live_delivery_seconds) for r in runs])
    row("live: deliveries failed (3 attempts)", [str(r.live_failed) for r in runs])
    row("live: all in Mailchimp after last delivery", [secs(r.live_after_last) for r in runs])
    row("live: Mailchimp HTTP requests", [f"{r.mailchimp_requests:,}" for r in runs])
    row("live: Saleor GraphQL requests", [f"{r.saleor_requests:,}" for r in runs])
    row("drain: deliveries stored in", [secs(r.drain_delivery_seconds) for r in runs])
    row("drain: deliveries failed (3 attempts)", [str(r.drain_failed) for r in runs])
    row(
        "drain: workers' start-up (not counted)",
        [secs(r.drain_startup_seconds) for r in runs],
    )
    row("drain: backlog applied in", [secs(r.drain_seconds) for r in runs])
    row(
        "drain: worker CPU per stored webhook",
        [f"{1000 * r.drain_cpu_seconds / max(r.drain_webhooks, 1):.2f} ms" for r in runs],
    )
    row(
        "drain: sandboxes' process CPU",
        [f"{r.drain_stack_cpu_seconds:.1f} s" for r in runs],
    )
    row(
        f"drain: machine CPU busy ({os.cpu_count()} cores)",
        [f"{100 * r.drain_machine_busy:.0f} %" for r in runs],
    )
    row(
        "peak concurrent Mailchimp connections",
        [f"{r.peak_concurrency} (cap {r.cap})" for r in runs],
    )
    row("Mailchimp equal to Saleor at the end", ["yes" if r.equal_at_end else "NO" for r in runs])
    checks = {
        f"all applied <= {TARGET_AFTER_LAST_DELIVERY:.0f} s after the last delivery": all(
            r.live_after_last is not None and r.live_after_last <= TARGET_AFTER_LAST_DELIVERY
            for r in runs
            if r.live_delivery_seconds  # not with --live-seconds 0
        ),
        "connections never above the cap": all(r.peak_concurrency <= r.cap for r in runs),
        "Mailchimp equal to Saleor at the end": all(r.equal_at_end for r in runs),
    }
    one = next((r for r in runs if r.workers == 1), None)
    two = next((r for r in runs if r.workers == 2), None)
    if one and two and one.drain_seconds and two.drain_seconds:
        speedup = one.drain_seconds / two.drain_seconds
        print(f"{'drain speed-up, 2 workers vs 1':44}{speedup:>16.2f}x")
        checks[f"2 workers drain >= {TARGET_SPEEDUP}x faster than 1"] = speedup >= TARGET_SPEEDUP
    elif one and two:
        checks[f"2 workers drain >= {TARGET_SPEEDUP}x faster than 1"] = False
    print()
    for label, ok in checks.items():
        print(f"{'met ' if ok else 'MISSED'} {label}")
    return all(checks.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
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
        "--live-seconds",
        type=float,
        default=LIVE_SECONDS,
        help="The live burst's length (0: no live burst, the drain only).",
    )
    parser.add_argument(
        "--profile-drain",
        metavar="PY_SPY",
        help="py-spy's path: record the first worker's and the stack's stacks during the drain.",
    )
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.products, args.latency)
        return
    if not args.database_url or not args.database_url.startswith("postgresql+asyncpg://"):
        parser.error("--database-url postgresql+asyncpg://… is required (workers share it)")
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    runs = []
    for count in (int(n) for n in args.workers.split(",")):
        runs.append(
            asyncio.run(
                run(
                    count,
                    args.database_url,
                    args.products,
                    args.latency,
                    args.keep_logs,
                    args.live_seconds,
                    args.profile_drain,
                )
            )
        )
    sys.exit(0 if _print(runs, args.products, args.latency) else 1)


if __name__ == "__main__":
    main()
