"""Initial sync of a large store: wall time, throughput, requests per entity, memory, connections.

Run: `.venv/bin/python -m benchmarks.initial_sync` (part of `make benchmark`). For each size
(10 % and 100 % of 10 k products, 50 k customers and 100 k orders) it starts two processes:

* the sandbox stack (`benchmarks.stack`): the app's web side with the Saleor sandbox holding the
  generated store and the Mailchimp sandbox, every request to them delayed by 150 ms;
* one `addon worker` with the app's default settings, which does the whole sync.

By default the Mailchimp sandbox runs in a third process (`benchmarks.mailchimp_stack`), as
Saleor and Mailchimp are separate services; `--one-stack-process` serves both sandboxes from the
stack process, as the dev stack and the tests do.

It installs the app, connects the demo Mailchimp account, tracks the channel, starts the sync
through the dashboard API and samples the worker's memory until the sync ends. Figures come from
the sandboxes' own counters and from `/proc/<worker>/status`. Targets (issue 15): the full store
in ≤ 150 s (customers and orders read in parallel slices, not 1,600 sequential pages), ≤ 1
Mailchimp request per 250 entities, worker peak RSS ≤ 250 MB and flat across sizes, peak
concurrent Mailchimp connections ≤ the app's cap.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from addon.config import Settings
from addon.ecommerce.store_state import StoreStatus
from benchmarks.live_sync import LIST
from benchmarks.processes import (
    child_process,
    cpu_seconds,
    free_port,
    machine_jiffies,
    maybe_process,
    rss_mb,
    wait_for,
)
from sandboxes.devstack import DASHBOARD_PATH, MAILCHIMP_PATH, SALEOR_PATH

FULL = {"products": 10_000, "customers": 50_000, "orders": 100_000}
CHANNEL = "default-channel"
TARGET_SECONDS = 150
TARGET_ENTITIES_PER_REQUEST = 250
TARGET_RSS_MB = 250


@dataclass
class CpuUse:
    """CPU seconds (user + system) each process spent during the sync, and how busy the
    machine's cores were: the worker is the app; the sandboxes stand for Saleor and Mailchimp,
    which in real life run on machines of their own."""

    worker: float
    saleor: float  # the stack process: the Saleor sandbox, and the app's web side (polled)
    mailchimp: float  # 0 when the stack process serves Mailchimp too (`--one-stack-process`)
    machine_busy: float  # share of all cores' time, whatever ran

    @property
    def sandboxes_floor(self) -> float:
        """Seconds the sandboxes' CPU alone needs on this machine's cores: no sync here can end
        sooner, however little the worker spends."""
        return (self.saleor + self.mailchimp) / (os.cpu_count() or 1)


@dataclass
class Result:
    scale: float
    entities: int
    seconds: float
    mailchimp_requests: int
    archive_downloads: int
    saleor_requests: int
    peak_rss_mb: float
    rss_samples_mb: list[float]
    peak_concurrency: int
    cap: int
    synced: dict[str, int]
    progress: list[dict[str, Any]]
    status: str
    cpu: CpuUse

    @property
    def per_request(self) -> float:
        return self.entities / max(self.mailchimp_requests, 1)


async def run(
    scale: float, latency: float, database_url: str | None, keep: bool, *, split: bool = True
) -> Result:
    sizes = {kind: max(1, round(count * scale)) for kind, count in FULL.items()}
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    # Where the Mailchimp sandbox answers: its own process (split), else the stack's.
    mailchimp = f"http://127.0.0.1:{free_port()}" if split else origin
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        env = {
            **os.environ,
            "APP_URL": origin,
            "DATABASE_URL": database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'addon.db'}",
            "SECRET_KEY": "benchmark-secret-key-benchmark-secret-key",
            "LOG_LEVEL": "WARNING",
            # `addon worker` talks to the Mailchimp sandbox of the stack, as `addon serve` does.
            "MAILCHIMP_API_URL_TEMPLATE": f"{mailchimp}{MAILCHIMP_PATH}/{{dc}}/3.0",
        }
        cap = Settings(_env_file=None).mailchimp_max_concurrency  # type: ignore[call-arg]
        logs = Path(tmp) if not keep else Path(tempfile.mkdtemp(prefix="bench-logs-"))
        stack_args = [
            sys.executable,
            "-m",
            "benchmarks.stack",
            f"--port={port}",
            f"--latency={latency}",
            *(f"--{kind}={count}" for kind, count in sizes.items()),
        ]
        migrate = [sys.executable, "-c", "from addon.cli import main; main()", "migrate"]
        migration = await asyncio.create_subprocess_exec(*migrate, env=env)
        if await migration.wait():
            raise RuntimeError("addon migrate failed")
        worker_args = [sys.executable, "-c", "from addon.cli import main; main()", "worker"]
        mailchimp_args = [
            sys.executable,
            "-m",
            "benchmarks.mailchimp_stack",
            f"--port={mailchimp.rpartition(':')[2]}",
            f"--latency={latency}",
        ]
        async with (
            child_process(stack_args, env, logs / "stack.log") as stack,
            maybe_process(split, mailchimp_args, env, logs / "mailchimp.log") as mailchimp_pid,
            httpx.AsyncClient(base_url=origin, timeout=60) as http,
        ):

            async def stats() -> dict[str, Any]:
                figures = dict((await http.get("/_bench/stats")).json())
                if split:  # the Mailchimp figures from the Mailchimp process
                    figures.update((await http.get(f"{mailchimp}/_bench/stats")).json())
                return figures

            # Generating the full store takes minutes, more on a busy machine (not timed).
            _, headers = await _dashboard(http, origin, start_seconds=900)
            if split:
                await wait_for(stats, "the Mailchimp sandbox", 60)
            api_key = (await stats())["api_key"]
            async with child_process(worker_args, env, logs / "worker.log") as worker:
                await _setup(http, headers, api_key, mailchimp=mailchimp if split else "")
                await wait_for(lambda: _store_ready(http, headers), "the Mailchimp store", 60)
                baseline = await stats()
                samples: list[float] = []

                def cpu_now() -> tuple[float, float, float]:
                    return (
                        cpu_seconds(worker),
                        cpu_seconds(stack),
                        cpu_seconds(mailchimp_pid) if mailchimp_pid else 0.0,
                    )

                cpu_before, machine_before = cpu_now(), machine_jiffies()
                started = time.monotonic()
                response = await http.post(
                    f"/api/ecommerce/channels/{CHANNEL}/initial-sync", headers=headers, json={}
                )
                response.raise_for_status()
                sync = response.json()
                last_report = started
                while sync["status"] == "running":
                    for _ in range(5):
                        await asyncio.sleep(0.2)
                        rss = rss_mb(worker, "VmRSS")
                        if rss is not None:
                            samples.append(rss)
                    sync = (
                        await http.get(
                            f"/api/ecommerce/channels/{CHANNEL}/initial-sync", headers=headers
                        )
                    ).json()
                    if time.monotonic() - last_report >= 30:
                        last_report = time.monotonic()
                        _report(time.monotonic() - started, sync)
                seconds = time.monotonic() - started
                worker_cpu, saleor_cpu, mailchimp_cpu = (
                    after - before for after, before in zip(cpu_now(), cpu_before, strict=True)
                )
                busy, total = (
                    after - before
                    for after, before in zip(machine_jiffies(), machine_before, strict=True)
                )
                cpu = CpuUse(worker_cpu, saleor_cpu, mailchimp_cpu, busy / max(total, 1))
                peak = rss_mb(worker, "VmHWM") or 0.0
                after = await stats()
        return Result(
            scale=scale,
            entities=sum(sizes.values()),
            seconds=seconds,
            mailchimp_requests=after["mailchimp_requests"] - baseline["mailchimp_requests"],
            archive_downloads=after["archive_downloads"] - baseline["archive_downloads"],
            saleor_requests=after["saleor_requests"] - baseline["saleor_requests"],
            peak_rss_mb=peak,
            rss_samples_mb=samples,
            peak_concurrency=after["peak_concurrency"],
            cap=cap,
            synced=after["store"],
            progress=sync["kinds"],
            status=sync["status"] + (f" ({sync['error']})" if sync.get("error") else ""),
            cpu=cpu,
        )


async def _installed(http: httpx.AsyncClient) -> dict[str, Any] | None:
    stats = dict((await http.get("/_bench/stats")).json())
    return stats if stats.get("app_id") else None


async def _app_knows(http: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    return (await http.get("/api/connection", headers=headers)).is_success


async def _dashboard(
    http: httpx.AsyncClient, origin: str, *, start_seconds: float = 300
) -> tuple[dict[str, Any], dict[str, str]]:
    """Once the stack has installed the app (it may take `start_seconds` to start): its stats
    and a dashboard user's headers."""
    installed = await wait_for(
        lambda: _installed(http), "the stack to start and install the app", start_seconds
    )
    token = (
        await http.post(
            f"{DASHBOARD_PATH}/api/token",
            json={"app_id": installed["app_id"], "lifetime": 3600},
        )
    ).json()["token"]
    headers = {"authorization-bearer": token, "saleor-api-url": f"{origin}{SALEOR_PATH}/graphql/"}
    # Saleor lists the app before the app has stored its token (as real Saleor does,
    # saleor/app/installation_utils.py): wait until the app knows the installation.
    await wait_for(lambda: _app_knows(http, headers), "the app to store its token", 60)
    return installed, headers


async def _setup(
    http: httpx.AsyncClient, headers: dict[str, str], api_key: str, *, mailchimp: str = ""
) -> None:
    """Create an audience in Mailchimp (at the origin `mailchimp`, default the stack's),
    connect it, turn tracking on, track the channel."""
    dc = api_key.rsplit("-", 1)[1]
    created = await http.post(
        f"{mailchimp}{MAILCHIMP_PATH}/{dc}/3.0/lists", json=LIST, auth=("bench", api_key)
    )
    created.raise_for_status()
    list_id = str(created.json()["id"])
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/api/connection/api-key", {"api_key": api_key}),
        (
            "PATCH",
            "/api/ecommerce/settings",
            {
                "tracking_enabled": True,
                "product_url_template": "https://bench.example/p/{slug}",
                "checkout_url_template": "https://bench.example/c/{token}",
            },
        ),
        ("PUT", f"/api/ecommerce/channels/{CHANNEL}", {"tracked": True, "list_id": list_id}),
    ]
    for method, path, body in steps:
        response = await http.request(method, path, json=body, headers=headers)
        if response.is_error:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")


async def _store_ready(http: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    overview = (await http.get("/api/ecommerce", headers=headers)).json()
    return any(
        channel["slug"] == CHANNEL and channel["store_status"] == StoreStatus.READY
        for channel in overview["channels"]
    )


def _report(elapsed: float, sync: dict[str, Any]) -> None:
    parts = []
    for kind in sync["kinds"]:
        done = sum(kind[k] for k in ("confirmed", "quarantined", "skipped", "retried"))
        parts.append(f"{kind['kind']} {done}/{kind['total'] if kind['total'] is not None else '?'}")
    print(f"  {elapsed:6.0f} s  {sync['phase']:<9} " + ", ".join(parts), flush=True)


def _print(results: list[Result], latency: float) -> bool:
    print()
    print(f"initial sync, {latency * 1000:.0f} ms per request to Saleor and Mailchimp")
    header = f"{'':34}" + "".join(f"{f'{r.scale:.0%} size':>20}" for r in results)
    print(header)

    def row(label: str, values: list[str]) -> None:
        print(f"{label:34}" + "".join(f"{v:>20}" for v in values))

    row("entities", [f"{r.entities:,}" for r in results])
    row("status", [r.status for r in results])
    row("in Mailchimp (prod/cust/orders)", [
        "/".join(str(r.synced.get(k, 0)) for k in ("products", "customers", "orders"))
        for r in results
    ])  # fmt: skip
    row("wall time", [f"{r.seconds:.0f} s" for r in results])
    row("entities per second", [f"{r.entities / r.seconds:,.0f}" for r in results])
    row("Mailchimp HTTP requests", [f"{r.mailchimp_requests:,}" for r in results])
    row("  of which result downloads", [f"{r.archive_downloads:,}" for r in results])
    row("entities per Mailchimp request", [f"{r.per_request:,.0f}" for r in results])
    row("Saleor GraphQL requests", [f"{r.saleor_requests:,}" for r in results])
    row("worker peak RSS", [f"{r.peak_rss_mb:.0f} MB" for r in results])
    row("  RSS at 10/50/90 % of the run", [_spread(r.rss_samples_mb) for r in results])
    row("peak concurrent connections", [f"{r.peak_concurrency} (cap {r.cap})" for r in results])
    row("CPU: worker (the app)", [f"{r.cpu.worker:.0f} s" for r in results])
    row("CPU: Saleor sandbox, app web", [f"{r.cpu.saleor:.0f} s" for r in results])
    row("CPU: Mailchimp sandbox", [f"{r.cpu.mailchimp:.0f} s" for r in results])
    row(f"machine CPU busy ({os.cpu_count()} cores)", [
        f"{100 * r.cpu.machine_busy:.0f} %" for r in results
    ])  # fmt: skip
    row("sandboxes' CPU / cores (floor)", [f"{r.cpu.sandboxes_floor:.0f} s" for r in results])
    full = results[-1]
    checks = {
        f"wall time <= {TARGET_SECONDS} s": full.seconds <= TARGET_SECONDS,
        f">= {TARGET_ENTITIES_PER_REQUEST} entities per Mailchimp request": all(
            r.per_request >= TARGET_ENTITIES_PER_REQUEST for r in results
        ),
        f"peak RSS <= {TARGET_RSS_MB} MB": all(r.peak_rss_mb <= TARGET_RSS_MB for r in results),
        "peak RSS flat across sizes (within 25 %)": len(results) < 2
        or full.peak_rss_mb <= results[0].peak_rss_mb * 1.25,
        "connections never above the cap": all(r.peak_concurrency <= r.cap for r in results),
        "every sync succeeded": all(r.status == "succeeded" for r in results),
    }
    print()
    for label, ok in checks.items():
        print(f"{'met ' if ok else 'MISSED'} {label}")
    return all(checks.values())


def _spread(samples: list[float]) -> str:
    if not samples:
        return "-"
    picks = [samples[min(len(samples) - 1, int(len(samples) * q))] for q in (0.1, 0.5, 0.9)]
    return "/".join(f"{v:.0f}" for v in picks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--scales",
        default="0.1,1",
        help="Fractions of the full store (10 k products, 50 k customers, 100 k orders).",
    )
    parser.add_argument("--latency", type=float, default=0.15, help="Seconds per request.")
    parser.add_argument("--database-url", default=None, help="Default: a temporary SQLite file.")
    parser.add_argument("--keep-logs", action="store_true", help="Keep the processes' logs.")
    parser.add_argument(
        "--one-stack-process",
        action="store_true",
        help="Serve the Mailchimp sandbox from the stack process too (as the dev stack does).",
    )
    args = parser.parse_args()
    results = []
    for scale in (float(s) for s in args.scales.split(",")):
        print(f"syncing {scale:.0%} of the full store ...", flush=True)
        results.append(
            asyncio.run(
                run(
                    scale,
                    args.latency,
                    args.database_url,
                    args.keep_logs,
                    split=not args.one_stack_process,
                )
            )
        )
    sys.exit(0 if _print(results, args.latency) else 1)


if __name__ == "__main__":
    main()
