"""Webhook ingest: signed deliveries stored per second, and latency at a steady rate.

Run: `.venv/bin/python -m benchmarks.ingest [--database-url postgresql+asyncpg://.../NAME]`;
also on PostgreSQL when `--database-url` or `TEST_DATABASE_URL` is given (it makes `NAME_ingest`
afresh on that server). Each server runs in its own process under uvicorn on 127.0.0.1
with the settings `addon serve` uses; this process is the client, 16 keep-alive connections:

* a bare FastAPI route that accepts a JSON POST: the ceiling of this server and client;
* the app's real webhook endpoint (the dev stack: the app with the Saleor sandbox, which
  installs it at start-up), on SQLite and on PostgreSQL. Deliveries are `PRODUCT_UPDATED`
  bodies, all distinct (none is a duplicate), signed with the Saleor sandbox's key, which this
  process generates and hands to the server; each must be answered `queued`.

Measures: requests answered per second (for the app, webhooks stored, the app's worker off, as
the issue's baseline measured it), and p50/p99 latency at a steady 200 requests/s for 10 s (for
the app, with the in-process worker on, processing what arrives). Targets: the app stores
>= 30 % of the bare route's rate, and its p99 at 200/s is <= 25 ms, on each database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.initial_sync import _free_port, _fresh_database, _process, _wait_for
from sandboxes.devstack import SALEOR_PATH
from sandboxes.saleor import SigningKey

TARGET_RATIO = 0.30
TARGET_P99_MS = 25.0
CONNECTIONS = 16
WEBHOOK = "/api/webhooks/ecommerce-products"
BARE = "/bare"
SECRET_KEY = "benchmark-secret-key-benchmark-secret-key"


# --- the servers (run as `python -m benchmarks.ingest serve ...`) --------------------------


def _serve(port: int, mode: str, key_file: str | None) -> None:
    import uvicorn
    from fastapi import FastAPI

    app: FastAPI
    if mode == "bare":
        app = FastAPI()

        @app.post(BARE)
        async def bare(payload: dict[str, Any]) -> dict[str, Any]:
            return {"success": True, "outcome": "queued"}

    else:
        from addon.config import load_settings
        from sandboxes.devstack import create_dev_app

        app = create_dev_app(load_settings(), run_worker=mode == "worker")
        assert key_file is not None
        # The client signs with this key; rotated in before the app installs and fetches it.
        key = SigningKey.from_pem(Path(key_file).read_bytes())
        app.state.devstack.saleor.rotate_keys(new_key=key)
    # The settings `addon serve` uses, for both servers.
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


# --- the client --------------------------------------------------------------------------


@dataclass
class Figures:
    rate: float = 0.0  # answered (stored) per second, 16 connections
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    # The server process's CPU time per request (all its threads), whatever else the machine
    # runs: in the rate phase, and in the steady phase (with the worker's processing).
    cpu_rate_ms: float = 0.0
    cpu_steady_ms: float = 0.0
    failures: list[str] = field(default_factory=list)


def _bodies(start: int, count: int) -> list[bytes]:
    return [
        json.dumps(
            {"issuedAt": "2026-01-01T00:00:00+00:00", "product": {"id": f"UHJvZHVjdDo{n}"}}
        ).encode()
        for n in range(start, start + count)
    ]


def _request(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """One HTTP/1.1 keep-alive request, encoded before the clock starts."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _signed(key: SigningKey, api_url: str, bodies: list[bytes]) -> list[bytes]:
    headers = {
        "Content-Type": "application/json",
        "Saleor-Event": "product_updated",
        "Saleor-Domain": "127.0.0.1",
        "Saleor-Api-Url": api_url,
    }
    return [
        _request(WEBHOOK, body, {**headers, "Saleor-Signature": key.sign_detached(body)})
        for body in bodies
    ]


def _plain(bodies: list[bytes]) -> list[bytes]:
    return [_request(BARE, body, {"Content-Type": "application/json"}) for body in bodies]


class Connection:
    """A minimal keep-alive HTTP/1.1 client connection. httpx costs the client more CPU per
    request than the bare route costs the server, so on a small machine it, not the server,
    would set the bare route's rate (and the ratio)."""

    def __init__(
        self, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.port = port
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(port, *await asyncio.open_connection("127.0.0.1", port))

    async def send(self, request: bytes) -> str | None:
        """Send `request`; None when answered 200 `queued`, else what was answered."""
        try:
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            # The server closed the connection while it was idle (uvicorn's keep-alive
            # timeout), before this request: send it on a new one.
            self.writer.close()
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length)
        if status != b"200" or json.loads(body).get("outcome") != "queued":
            return f"{status.decode()} {body[:200].decode(errors='replace')}"
        return None

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def _throughput(port: int, requests: list[bytes], figures: Figures) -> None:
    pending = iter(requests)
    connections = [await Connection.open(port) for _ in range(CONNECTIONS)]

    async def drive(connection: Connection) -> None:
        for request in pending:
            failure = await connection.send(request)
            if failure:
                figures.failures.append(failure)

    started = time.perf_counter()
    await asyncio.gather(*(drive(connection) for connection in connections))
    figures.rate = len(requests) / (time.perf_counter() - started)
    for connection in connections:
        await connection.close()


async def _steady(port: int, requests: list[bytes], rate: float, figures: Figures) -> None:
    latencies: list[float] = []
    idle: list[Connection] = []

    async def send(request: bytes) -> None:
        sent = time.perf_counter()
        # A free connection, or a new one: a late answer never holds up the next departure.
        connection = idle.pop() if idle else await Connection.open(port)
        failure = await connection.send(request)
        latencies.append(time.perf_counter() - sent)
        idle.append(connection)
        if failure:
            figures.failures.append(failure)

    for _ in range(CONNECTIONS):
        idle.append(await Connection.open(port))
    started = time.perf_counter()
    tasks = []
    for index, request in enumerate(requests):
        # Open loop: each request leaves on schedule, whether or not earlier ones answered.
        delay = started + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(request)))
    await asyncio.gather(*tasks)
    for connection in idle:
        await connection.close()
    latencies.sort()
    figures.p50_ms = latencies[len(latencies) // 2] * 1000
    figures.p99_ms = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of process `pid` so far (Linux: /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _measure(
    pid: int,
    port: int,
    make: Callable[[int, int], list[bytes]],
    ready: Callable[[], Any],
    figures: Figures,
    *,
    count: int = 0,
    rate: float = 0.0,
    seconds: float = 0.0,
) -> None:
    """The rate over `count` requests, or the latency at `rate` for `seconds`, after a
    warm-up; `make(start, n)` encodes requests for n new bodies from number `start`."""
    await _wait_for(ready, "the server to be ready", 120)
    await _throughput(port, make(0, 300), Figures())
    if count:
        requests = make(1_000, count)
        cpu = _cpu_seconds(pid)
        await _throughput(port, requests, figures)
        figures.cpu_rate_ms = (_cpu_seconds(pid) - cpu) * 1000 / len(requests)
    if rate:
        requests = make(1_000_000, int(rate * seconds))
        cpu = _cpu_seconds(pid)
        await _steady(port, requests, rate, figures)
        figures.cpu_steady_ms = (_cpu_seconds(pid) - cpu) * 1000 / len(requests)


async def _bare(args: argparse.Namespace, tmp: Path) -> Figures:
    port = _free_port()
    serve = [sys.executable, "-m", "benchmarks.ingest", "serve", f"--port={port}", "--mode=bare"]

    async def ready() -> bool:
        async with httpx.AsyncClient() as client:
            response = await client.post(f"http://127.0.0.1:{port}{BARE}", json={"ping": True})
        return response.status_code == 200

    def make(start: int, count: int) -> list[bytes]:
        return _plain(_bodies(start, count))

    figures = Figures()
    async with _process(serve, dict(os.environ), tmp / "bare.log") as pid:
        await _measure(
            pid,
            port,
            make,
            ready,
            figures,
            count=args.requests,
            rate=args.rate,
            seconds=args.seconds,
        )
    return figures


async def _app(args: argparse.Namespace, tmp: Path, database_url: str, name: str) -> Figures:
    """The latency at a steady rate with the in-process worker on, then, by a new server (a
    new installation, same database) with no worker, the rate of storing alone. In this
    order, so that no worker drains the rate phase's backlog while latency is measured."""
    figures = Figures()
    for mode in ("worker", "app"):
        await _app_run(args, tmp, database_url, f"{name}-{mode}", mode, figures)
    return figures


async def _app_run(
    args: argparse.Namespace, tmp: Path, database_url: str, name: str, mode: str, figures: Figures
) -> None:
    port = _free_port()
    origin = f"http://127.0.0.1:{port}"
    api_url = f"{origin}{SALEOR_PATH}/graphql/"
    key = SigningKey.generate(2048)
    key_file = tmp / f"{name}.pem"
    key_file.write_bytes(key.private_pem())
    env = {
        **os.environ,
        "APP_URL": origin,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "LOG_LEVEL": "WARNING",
    }
    serve = [
        sys.executable,
        "-m",
        "benchmarks.ingest",
        "serve",
        f"--port={port}",
        f"--mode={mode}",
        f"--key-file={key_file}",
    ]
    probes = iter(range(10_000_000, 20_000_000))

    async def ready() -> bool:
        # Installed once a signed delivery is stored (401 until the app has its keys).
        body = _bodies(next(probes), 1)[0]
        headers = {
            "Content-Type": "application/json",
            "Saleor-Event": "product_updated",
            "Saleor-Api-Url": api_url,
            "Saleor-Signature": key.sign_detached(body),
        }
        async with httpx.AsyncClient() as client:
            response = await client.post(f"{origin}{WEBHOOK}", content=body, headers=headers)
        return response.status_code == 200

    def make(start: int, count: int) -> list[bytes]:
        return _signed(key, api_url, _bodies(start, count))

    async with _process(serve, env, tmp / f"{name}.log") as pid:
        if mode == "app":
            await _measure(pid, port, make, ready, figures, count=args.requests)
        else:
            await _measure(pid, port, make, ready, figures, rate=args.rate, seconds=args.seconds)


def _report(bare: Figures, apps: dict[str, Figures], rate: float) -> bool:
    def row(label: str, figures: Figures, ratio: str) -> None:
        print(
            f"{label:>22} {figures.rate:>11.0f} {ratio:>8} "
            f"{figures.p50_ms:>8.1f} {figures.p99_ms:>8.1f} "
            f"{figures.cpu_rate_ms:>9.2f} {figures.cpu_steady_ms:>9.2f}"
        )

    print(
        f"{'':>22} {'per second':>11} {'of bare':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'CPU ms':>9} {'CPU ms':>9}"
    )
    phases = ("(rate)", "", "(steady)", "(steady)", "(rate)", "(steady)")
    print(
        f"{'':>22} "
        + " ".join(f"{p:>{w}}" for p, w in zip(phases, (11, 8, 8, 8, 9, 9), strict=True))
    )
    row("bare FastAPI route", bare, "")
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
        for label, met in checks.items():
            print(f"{'met ' if met else 'MISSED'} {label}")
        for failure in figures.failures[:3]:
            print(f"       e.g. {failure}")
        ok = ok and all(checks.values())
    return ok


async def run(args: argparse.Namespace) -> bool:
    databases = {}
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp_name:
        tmp = Path(tmp_name)
        databases["SQLite"] = f"sqlite+aiosqlite:///{tmp / 'addon.db'}"
        postgres = args.database_url or os.environ.get("TEST_DATABASE_URL")
        if postgres:
            name = postgres.rpartition("/")[2]
            databases["PostgreSQL"] = await _fresh_database(postgres, f"{name}_ingest")
        print("bare route ...", flush=True)
        bare = await _bare(args, tmp)
        apps = {}
        for name, url in databases.items():
            print(f"webhook endpoint on {name} ...", flush=True)
            apps[name] = await _app(args, tmp, url, name)
        return _report(bare, apps, args.rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="(internal) run one of the servers")
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--mode", choices=("bare", "app", "worker"), required=True)
    serve.add_argument("--key-file", default=None)
    parser.add_argument("--database-url", default=None, help="A PostgreSQL database of its own.")
    parser.add_argument("--requests", type=int, default=3000, help="For the rate, per server.")
    parser.add_argument("--rate", type=float, default=200.0, help="Steady requests per second.")
    parser.add_argument("--seconds", type=float, default=10.0, help="Of the steady phase.")
    args = parser.parse_args()
    if args.command == "serve":
        _serve(args.port, args.mode, args.key_file)
        return
    sys.exit(0 if asyncio.run(run(args)) else 1)


if __name__ == "__main__":
    main()
