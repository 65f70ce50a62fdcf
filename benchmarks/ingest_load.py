"""The ingest benchmark's client and what it measures of one server: requests encoded before
the clock starts, a minimal keep-alive HTTP/1.1 connection (`Connection`), the rate phase
(CONNECTIONS connections, each sending its next request when the last is answered), the steady
phase (an open loop at a fixed rate: latency), and `measure`, which runs them after a warm-up
with the CPU time per request of the server's process and of the sandboxes' apart
(`Figures`)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.processes import cpu_seconds, wait_for

CONNECTIONS = 16


@dataclass
class Figures:
    """What `measure` found of one server."""

    rate: float = 0.0  # answered (stored) per second, 16 connections
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    # The server process's CPU time per request (all its threads), whatever else the machine
    # runs: in the rate phase, and in the steady phase (with the worker's processing).
    cpu_rate_ms: float = 0.0
    cpu_steady_ms: float = 0.0
    # The sandboxes' process's, apart (Saleor and Mailchimp are other machines).
    sandbox_rate_ms: float = 0.0
    sandbox_steady_ms: float = 0.0
    failures: list[str] = field(default_factory=list)


def bodies(start: int, count: int) -> list[bytes]:
    """`count` distinct PRODUCT_UPDATED bodies, numbered from `start`."""
    return [
        json.dumps(
            {"issuedAt": "2026-01-01T00:00:00+00:00", "product": {"id": f"UHJvZHVjdDo{n}"}}
        ).encode()
        for n in range(start, start + count)
    ]


def encode_request(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """One HTTP/1.1 keep-alive request, encoded before the clock starts."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


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


async def measure(
    pids: tuple[int, int | None],
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
    warm-up; `make(start, n)` encodes requests for n new bodies from number `start`. `pids`:
    the server's process and the sandboxes' (if any), whose CPU time is taken apart."""
    server, sandboxes = pids

    def cpu() -> tuple[float, float]:
        return cpu_seconds(server), cpu_seconds(sandboxes) if sandboxes else 0.0

    def per_request(before: tuple[float, float], count: int) -> tuple[float, float]:
        after = cpu()
        return (after[0] - before[0]) * 1000 / count, (after[1] - before[1]) * 1000 / count

    await wait_for(ready, "the server to be ready", 120)
    await _throughput(port, make(0, 300), Figures())
    if count:
        requests = make(1_000, count)
        before = cpu()
        await _throughput(port, requests, figures)
        figures.cpu_rate_ms, figures.sandbox_rate_ms = per_request(before, len(requests))
    if rate:
        requests = make(1_000_000, int(rate * seconds))
        before = cpu()
        await _steady(port, requests, rate, figures)
        figures.cpu_steady_ms, figures.sandbox_steady_ms = per_request(before, len(requests))
