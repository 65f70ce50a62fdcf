"""Campaign engagement collected for a large audience: wall time, requests, mutations, memory.

Run: `.venv/bin/python -m benchmarks.engagement` (quick: `--members 2000 --campaigns 5
--small-members 0`). For each size (10 k members, then `--members`, default 100 k; half of
them Saleor customers, the rest guests) it starts two processes:

* the sandbox stack (`benchmarks.engagement_stack`): the app's web side, the Saleor sandbox
  with the customers and the Mailchimp sandbox, every request to them delayed by 150 ms;
* one `addon worker` with the app's default settings, which runs the collections.

It installs the app, connects the demo Mailchimp account (no channel tracked: see `_connect`),
makes the audience active, waits for the collection the audience import starts by itself (the
audience still empty), has the stack send `--campaigns`
campaigns (default 50) with opens and clicks, then queues a first collection and, once done,
an hourly increment after 1 % of the members opened (a fifth of those clicked) one campaign.
Figures come from the sandboxes' counters and `/proc/<worker>/status`. Targets (issue 19):
first collection ≤ 10 min, increment ≤ 1 min, Mailchimp connections never above the app's
cap, worker peak RSS flat in the number of members (the full size within 25 % of 10 k).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import update

from addon.audiences.models import Audience
from addon.config import Settings
from addon.db.engine import Database
from addon.engagement import store
from addon.engagement.jobs import schedule
from addon.engagement.models import RunState
from addon.engagement.repository import run_status
from addon.engagement.views import EngagementRun
from benchmarks.initial_sync import _dashboard
from benchmarks.live_sync import LIST
from benchmarks.processes import child_process, free_port, fresh_database, rss_mb, wait_for
from sandboxes.devstack import MAILCHIMP_PATH

TARGET_FIRST_SECONDS = 600
TARGET_INCREMENT_SECONDS = 60
RSS_FLAT = 1.25


@dataclass
class Phase:
    name: str
    seconds: float
    mailchimp_requests: int
    saleor_requests: int
    saleor_mutations: int
    metadata_webhooks: int
    peak_concurrency: int
    peak_rss_mb: float
    run: EngagementRun
    writing_seconds: float  # the metadata writes at the run's end (0: none)


@dataclass
class Size:
    members: int
    campaigns: int
    cap: int
    seed_seconds: float
    phases: list[Phase]


async def _audience(db: Database) -> int | None:
    """Once the audiences are imported: the audience made active, its installation's id."""
    async with db.transaction() as session:
        result = await session.execute(
            update(Audience).values(active=True).returning(Audience.installation_id)
        )
        ids = list(result.scalars())
    return ids[0] if ids else None


async def _started_run_done(db: Database, installation_id: int) -> bool:
    """The collection the audience import started by itself has ended (before the audience is
    seeded, so each measured phase is one whole collection)."""
    async with db.session() as session:
        run = await run_status(session, installation_id)
    return run.last_finished_at is not None and run.state in ("idle", "failed")


async def _connect(http: httpx.AsyncClient, headers: dict[str, str], api_key: str) -> None:
    """An audience in Mailchimp, connected by API key. No channel is tracked: the metadata the
    collection writes would have e-commerce sync push every customer written (Saleor sends
    CUSTOMER_METADATA_UPDATED), which is that capability's cost, not this one's."""
    dc = api_key.rsplit("-", 1)[1]
    created = await http.post(
        f"{MAILCHIMP_PATH}/{dc}/3.0/lists", json=LIST, auth=("bench", api_key)
    )
    created.raise_for_status()
    response = await http.post(
        "/api/connection/api-key", json={"api_key": api_key}, headers=headers
    )
    response.raise_for_status()


async def _phase(
    name: str, http: httpx.AsyncClient, db: Database, worker: int, installation_id: int
) -> Phase:
    before = dict((await http.get("/_bench/stats")).json())
    started_at = datetime.now().astimezone()
    started = time.monotonic()
    async with db.transaction() as session:
        settings = await store.settings_row(session, installation_id)
        settings.state = RunState.QUEUED
        await schedule(session, installation_id, now=True)
    peak = 0.0
    last_report = started
    while True:
        await asyncio.sleep(0.5)
        peak = max(peak, rss_mb(worker, "VmRSS") or 0.0)
        async with db.session() as session:
            run = await run_status(session, installation_id)
        finished = run.last_finished_at is not None and run.last_finished_at >= started_at
        if finished and run.state in ("idle", "failed"):
            break
        if time.monotonic() - last_report >= 30:
            last_report = time.monotonic()
            print(
                f"  {time.monotonic() - started:6.0f} s  {run.state}: campaigns "
                f"{run.campaigns_done}/{run.campaigns_total}, {run.members_seen:,} members read",
                flush=True,
            )
    seconds = time.monotonic() - started
    after = dict((await http.get("/_bench/stats")).json())
    async with db.session() as session:
        settings = await store.settings_row(session, installation_id)
        wrote_from, wrote_until = settings.customers_written_from, settings.customers_written_until
    writing = (wrote_until - wrote_from).total_seconds() if wrote_from and wrote_until else 0.0
    return Phase(
        name=name,
        seconds=seconds,
        mailchimp_requests=after["mailchimp_requests"] - before["mailchimp_requests"],
        saleor_requests=after["saleor_requests"] - before["saleor_requests"],
        saleor_mutations=after["saleor_mutations"] - before["saleor_mutations"],
        metadata_webhooks=after["metadata_webhooks"] - before["metadata_webhooks"],
        peak_concurrency=after["peak_concurrency"],
        peak_rss_mb=peak,
        run=run,
        writing_seconds=writing,
    )


async def run(
    members: int, campaigns: int, latency: float, database_url: str | None, keep: bool
) -> Size:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        if database_url:
            database_url = await fresh_database(database_url, f"bench_engagement_{members}")
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'addon.db'}"
        env = {
            **os.environ,
            "APP_URL": origin,
            "DATABASE_URL": url,
            "SECRET_KEY": "benchmark-secret-key-benchmark-secret-key",
            "LOG_LEVEL": "WARNING",
            "MAILCHIMP_API_URL_TEMPLATE": f"{origin}{MAILCHIMP_PATH}/{{dc}}/3.0",
        }
        cap = Settings(_env_file=None).mailchimp_max_concurrency  # type: ignore[call-arg]
        logs = Path(tmp) if not keep else Path(tempfile.mkdtemp(prefix="bench-logs-"))
        stack_args = [
            sys.executable,
            "-m",
            "benchmarks.engagement_stack",
            f"--port={port}",
            f"--latency={latency}",
            f"--members={members}",
            f"--campaigns={campaigns}",
            f"--customers={max(1, members // 2)}",
        ]
        migrate = [sys.executable, "-c", "from addon.cli import main; main()", "migrate"]
        migration = await asyncio.create_subprocess_exec(*migrate, env=env)
        if await migration.wait():
            raise RuntimeError("addon migrate failed")
        worker_args = [sys.executable, "-c", "from addon.cli import main; main()", "worker"]
        db = Database(url)
        try:
            async with (
                child_process(stack_args, env, logs / "stack.log"),
                httpx.AsyncClient(base_url=origin, timeout=1800) as http,
            ):
                before, headers = await _dashboard(http, origin)
                async with child_process(worker_args, env, logs / "worker.log") as worker:
                    await _connect(http, headers, before["api_key"])
                    installation_id = await wait_for(
                        lambda: _audience(db), "the audiences to be imported", 120
                    )
                    await wait_for(
                        lambda: _started_run_done(db, installation_id),
                        "the collection the audience import started",
                        300,
                    )
                    seeded = (await http.post("/_bench/engagement/seed")).json()
                    print(f"  seeded the audience in {seeded['seconds']:.0f} s", flush=True)
                    first = await _phase("first collection", http, db, worker, installation_id)
                    await http.post("/_bench/engagement/increment", params={"fraction": 0.01})
                    increment = await _phase("hourly increment", http, db, worker, installation_id)
        finally:
            await db.dispose()
    return Size(members, campaigns, cap, seeded["seconds"], [first, increment])


def _print(sizes: list[Size], latency: float) -> bool:
    print()
    print(f"engagement, {latency * 1000:.0f} ms per request to Saleor and Mailchimp")
    columns = [(s, p) for s in sizes for p in s.phases]
    print(f"{'':30}" + "".join(f"{f'{s.members // 1000} k: {p.name}':>26}" for s, p in columns))

    def row(label: str, values: list[str]) -> None:
        print(f"{label:30}" + "".join(f"{v:>26}" for v in values))

    row("members x campaigns", [f"{s.members:,} x {s.campaigns}" for s, _ in columns])
    row("state", [p.run.state + (f" ({p.run.last_error})" if p.run.last_error else "")
                  for _, p in columns])  # fmt: skip
    row("wall time", [f"{p.seconds:.1f} s" for _, p in columns])
    row("  of which writing metadata", [f"{p.writing_seconds:.1f} s" for _, p in columns])
    row("campaigns collected", [f"{p.run.campaigns_done}/{p.run.campaigns_total}"
                                for _, p in columns])  # fmt: skip
    row("members read", [f"{p.run.members_seen:,}" for _, p in columns])
    row("Mailchimp HTTP requests", [f"{p.mailchimp_requests:,}" for _, p in columns])
    row("Saleor GraphQL requests", [f"{p.saleor_requests:,}" for _, p in columns])
    row("Saleor metadata mutations", [f"{p.saleor_mutations:,}" for _, p in columns])
    row("  webhooks they cause (not sent)", [f"{p.metadata_webhooks:,}" for _, p in columns])
    row("peak concurrent connections", [f"{p.peak_concurrency} (cap {s.cap})" for s, p in columns])
    row("worker peak RSS", [f"{p.peak_rss_mb:.0f} MB" for _, p in columns])
    full = sizes[-1]
    first, increment = full.phases
    checks = {
        f"first collection <= {TARGET_FIRST_SECONDS} s": first.seconds <= TARGET_FIRST_SECONDS,
        f"hourly increment <= {TARGET_INCREMENT_SECONDS} s": increment.seconds
        <= TARGET_INCREMENT_SECONDS,
        "connections never above the cap": all(p.peak_concurrency <= s.cap for s, p in columns),
        f"peak RSS flat in members (within {RSS_FLAT - 1:.0%})": len(sizes) < 2
        or first.peak_rss_mb <= sizes[0].phases[0].peak_rss_mb * RSS_FLAT,
        "every run succeeded": all(p.run.state == "idle" for _, p in columns),
        "the increment wrote fewer customers than the first run": increment.saleor_mutations
        < max(first.saleor_mutations, 1),
    }
    print()
    for label, ok in checks.items():
        print(f"{'met ' if ok else 'MISSED'} {label}")
    return all(checks.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument(
        "--small-members", type=int, default=10_000, help="The size RSS is compared with (0: none)."
    )
    parser.add_argument("--latency", type=float, default=0.15, help="Seconds per request.")
    parser.add_argument("--database-url", default=None, help="Default: a temporary SQLite file.")
    parser.add_argument("--keep-logs", action="store_true", help="Keep the processes' logs.")
    args = parser.parse_args()
    sizes = []
    counts = [args.small_members] if 0 < args.small_members < args.members else []
    for members in [*counts, args.members]:
        print(f"{members:,} members x {args.campaigns} campaigns ...", flush=True)
        sizes.append(
            asyncio.run(
                run(members, args.campaigns, args.latency, args.database_url, args.keep_logs)
            )
        )
    sys.exit(0 if _print(sizes, args.latency) else 1)


if __name__ == "__main__":
    main()
