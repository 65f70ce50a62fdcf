"""Webhook ingest: signed deliveries stored per second, and latency at a steady rate.

Run: `.venv/bin/python -m benchmarks.ingest [--database-url postgresql+asyncpg://.../NAME]`;
also on PostgreSQL when `--database-url` or `TEST_DATABASE_URL` is given (it makes `NAME_ingest`
afresh on that server). This process is the client, 16 keep-alive connections; every server is a
process of its own under uvicorn on 127.0.0.1 with the options `addon serve` uses
(`addon.cli.uvicorn_options`, `LOG_LEVEL=WARNING`):

* a bare FastAPI route that accepts a JSON POST: the ceiling of this server and client;
* the app alone, on SQLite and on PostgreSQL: for the steady phase `addon serve` itself (web
  side and in-process worker), for the rate phase the same app without its worker;
* the sandboxes, in one more process (`benchmarks.sandboxes_stack`): the Saleor sandbox, which
  installs the app (manifest, token, webhooks) before each of its runs, and the Mailchimp
  sandbox the app is pointed at (`MAILCHIMP_API_URL_TEMPLATE`). Real Saleor and Mailchimp are
  other machines: in the app's process (the dev stack, `sandboxes.devstack`) their work would
  take the app's event loop and CPU and count as the app's.

Deliveries are `PRODUCT_UPDATED` bodies, all distinct (none is a duplicate), signed with the
Saleor sandbox's key, which this process generates and hands to the sandbox process; each must
be answered `queued`. No channel is tracked and no Mailchimp account connected, so a stored
delivery's job is handled (no push to queue) and completed by the worker.

Measures: requests answered per second (for the app, webhooks stored, the app's worker off, as
the issue's baseline measured it), and p50/p99 latency at a steady 200 requests/s for 10 s (for
the app, with the in-process worker on, processing what arrives); the CPU time (user + system,
/proc, all threads) per request of the server process, and of the sandbox process apart.
Targets: the app stores >= 30 % of the bare route's rate, and its p99 at 200/s is <= 25 ms, on
each database.

This module starts the processes, runs each phase against them and reports; the client, its
phases and what they measure are `benchmarks.ingest_load`'s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.app_process import ADDON, app_env
from benchmarks.ingest_load import Figures, bodies, encode_request, measure
from benchmarks.processes import child_process, free_port, fresh_database, wait_for
from benchmarks.targets import print_checks
from sandboxes.devstack import SALEOR_PATH
from sandboxes.saleor import SigningKey

TARGET_RATIO = 0.30
TARGET_P99_MS = 25.0
WEBHOOK = "/api/webhooks/ecommerce-products"
BARE = "/bare"


# --- the servers (run as `python -m benchmarks.ingest serve ...`) --------------------------


def _serve(port: int, mode: str) -> None:
    """The bare route, or the app without its worker (`addon serve` without the worker: the
    steady phase runs `addon serve` itself), with `addon serve`'s uvicorn options."""
    import uvicorn
    from fastapi import FastAPI

    from addon.app import create_app
    from addon.capabilities import create_services
    from addon.cli import uvicorn_options
    from addon.config import load_settings
    from addon.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)  # as `addon serve`
    app: FastAPI
    if mode == "bare":
        app = FastAPI()

        @app.post(BARE)
        async def bare(payload: dict[str, Any]) -> dict[str, Any]:
            return {"success": True, "outcome": "queued"}

    else:
        app = create_app(create_services(settings), run_worker=False)
    uvicorn.run(app, **uvicorn_options(settings, host="127.0.0.1", port=port))


# --- the runs (the client's side: `benchmarks.ingest_load`) ------------------------------


def _headers(sandboxes: Sandboxes, body: bytes) -> dict[str, str]:
    """A delivery's headers, as the Saleor sandbox sends them."""
    return {
        "Content-Type": "application/json",
        "Saleor-Event": "product_updated",
        "Saleor-Domain": sandboxes.origin.removeprefix("http://"),
        "Saleor-Api-Url": sandboxes.api_url,
        "Saleor-Signature": sandboxes.key.sign_detached(body),
    }


def _plain(batch: list[bytes]) -> list[bytes]:
    return [encode_request(BARE, body, {"Content-Type": "application/json"}) for body in batch]


@dataclass
class Sandboxes:
    """The sandboxes' process (`benchmarks.sandboxes_stack`): its pid, origin and the key its
    Saleor signs with."""

    pid: int
    origin: str
    key: SigningKey

    @property
    def api_url(self) -> str:
        return f"{self.origin}{SALEOR_PATH}/graphql/"


async def _bare(args: argparse.Namespace, tmp: Path) -> Figures:
    port = free_port()
    serve = [sys.executable, "-m", "benchmarks.ingest", "serve", f"--port={port}", "--mode=bare"]

    async def ready() -> bool:
        async with httpx.AsyncClient() as client:
            response = await client.post(f"http://127.0.0.1:{port}{BARE}", json={"ping": True})
        return response.status_code == 200

    def make(start: int, count: int) -> list[bytes]:
        return _plain(bodies(start, count))

    figures = Figures()
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    async with child_process(serve, env, tmp / "bare.log") as pid:
        await measure(
            (pid, None),
            port,
            make,
            ready,
            figures,
            count=args.requests,
            rate=args.rate,
            seconds=args.seconds,
        )
    return figures


async def _app(
    args: argparse.Namespace, tmp: Path, sandboxes: Sandboxes, database_url: str, name: str
) -> Figures:
    """The latency at a steady rate with the in-process worker on (`addon serve`), then, by a
    new server (a new installation, same database) with no worker, the rate of storing alone.
    In this order, so that no worker drains the rate phase's backlog while latency is
    measured."""
    figures = Figures()
    for mode in ("worker", "app"):
        await _app_run(args, tmp, sandboxes, database_url, f"{name}-{mode}", mode, figures)
    return figures


async def _app_run(
    args: argparse.Namespace,
    tmp: Path,
    sandboxes: Sandboxes,
    database_url: str,
    name: str,
    mode: str,
    figures: Figures,
) -> None:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    env = app_env(origin, database_url, sandboxes.origin)
    if mode == "worker":
        serve = [*ADDON, "serve", f"--port={port}"]
    else:
        serve = [sys.executable, "-m", "benchmarks.ingest", "serve", f"--port={port}", "--mode=app"]
    probes = iter(range(10_000_000, 20_000_000))
    installed = False

    async def ready() -> bool:
        # Installed by the Saleor sandbox once the app answers; ready once a signed delivery is
        # stored (401 until the app has its keys).
        nonlocal installed
        async with httpx.AsyncClient(timeout=30) as client:
            if not installed:
                if (await client.get(f"{origin}/healthz")).status_code != 200:
                    return False
                manifest = f"{origin}/api/manifest"
                answer = await client.get(f"{sandboxes.origin}/_bench/install?manifest={manifest}")
                installed = answer.status_code == 200
                if not installed:
                    raise RuntimeError(f"installing the app failed: {answer.text[:300]}")
            body = bodies(next(probes), 1)[0]
            response = await client.post(
                f"{origin}{WEBHOOK}", content=body, headers=_headers(sandboxes, body)
            )
        return response.status_code == 200

    def make(start: int, count: int) -> list[bytes]:
        return [
            encode_request(WEBHOOK, body, _headers(sandboxes, body))
            for body in bodies(start, count)
        ]

    async with child_process(serve, env, tmp / f"{name}.log") as pid:
        pids = (pid, sandboxes.pid)
        if mode == "app":
            await measure(pids, port, make, ready, figures, count=args.requests)
        else:
            await measure(pids, port, make, ready, figures, rate=args.rate, seconds=args.seconds)


def _report(bare: Figures, apps: dict[str, Figures], rate: float) -> bool:
    def row(label: str, figures: Figures, ratio: str, sandboxes: bool = True) -> None:
        # The sandboxes' process's CPU (its own columns: the bare route has no sandboxes).
        apart = (
            f"{figures.sandbox_rate_ms:>9.2f} {figures.sandbox_steady_ms:>9.2f}"
            if sandboxes
            else f"{'-':>9} {'-':>9}"
        )
        print(
            f"{label:>22} {figures.rate:>11.0f} {ratio:>8} "
            f"{figures.p50_ms:>8.1f} {figures.p99_ms:>8.1f} "
            f"{figures.cpu_rate_ms:>9.2f} {figures.cpu_steady_ms:>9.2f} {apart}"
        )

    heads = ("per second", "of bare", "p50 ms", "p99 ms", "CPU ms", "CPU ms", "sandbox", "sandbox")
    phases = ("(rate)", "", "(steady)", "(steady)", "(rate)", "(steady)", "(rate)", "(steady)")
    widths = (11, 8, 8, 8, 9, 9, 9, 9)
    for line in (heads, phases):
        print(f"{'':>22} " + " ".join(f"{h:>{w}}" for h, w in zip(line, widths, strict=True)))
    row("bare FastAPI route", bare, "", sandboxes=False)
    ok = not bare.failures
    for name, figures in apps.items():
        ratio = figures.rate / bare.rate
        row(f"webhook, {name}", figures, f"{ratio:.0%}")
        checks = {
            f"{name}: stored per second >= {TARGET_RATIO:.0%} of the bare route": ratio
            >= TARGET_RATIO,
            f"{name}: p99 at {rate:.0f}/s <= {TARGET_P99_MS:.0f} ms": figures.p99_ms
            <= TARGET_P99_MS,
            f"{name}: every delivery stored": not figures.failures,
        }
        met = print_checks(checks)
        for failure in figures.failures[:3]:
            print(f"       e.g. {failure}")
        ok = ok and met
    return ok


async def run(args: argparse.Namespace) -> bool:
    databases = {}
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp_name:
        tmp = Path(tmp_name)
        databases["SQLite"] = f"sqlite+aiosqlite:///{tmp / 'addon.db'}"
        postgres = args.database_url or os.environ.get("TEST_DATABASE_URL")
        if postgres:
            name = postgres.rpartition("/")[2]
            databases["PostgreSQL"] = await fresh_database(postgres, f"{name}_ingest")
        print("bare route ...", flush=True)
        bare = await _bare(args, tmp)
        apps = {}
        async with _sandboxes(tmp) as sandboxes:
            for name, url in databases.items():
                print(f"webhook endpoint on {name} ...", flush=True)
                apps[name] = await _app(args, tmp, sandboxes, url, name)
        return _report(bare, apps, args.rate)


@contextlib.asynccontextmanager
async def _sandboxes(tmp: Path) -> AsyncIterator[Sandboxes]:
    """The sandboxes' process, its Saleor signing with a key made here (the client signs
    deliveries with it), no added latency."""
    port = free_port()
    key = SigningKey.generate(2048)
    key_file = tmp / "saleor.pem"
    key_file.write_bytes(key.private_pem())
    serve = [
        sys.executable,
        "-m",
        "benchmarks.sandboxes_stack",
        f"--port={port}",
        "--latency=0",
        f"--key-file={key_file}",
    ]
    sandboxes = Sandboxes(0, f"http://127.0.0.1:{port}", key)

    async def ready() -> bool:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{sandboxes.origin}/_bench/stats")).status_code == 200

    async with child_process(serve, dict(os.environ), tmp / "sandboxes.log") as pid:
        sandboxes.pid = pid
        await wait_for(ready, "the sandboxes to start", 60)
        yield sandboxes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="(internal) run one of the servers")
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--mode", choices=("bare", "app"), required=True)
    parser.add_argument("--database-url", default=None, help="A PostgreSQL database of its own.")
    parser.add_argument("--requests", type=int, default=3000, help="For the rate, per server.")
    parser.add_argument("--rate", type=float, default=200.0, help="Steady requests per second.")
    parser.add_argument("--seconds", type=float, default=10.0, help="Of the steady phase.")
    args = parser.parse_args()
    if args.command == "serve":
        _serve(args.port, args.mode)
        return
    sys.exit(0 if asyncio.run(run(args)) else 1)


if __name__ == "__main__":
    main()
