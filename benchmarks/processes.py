"""The processes a benchmark starts, and what it reads of them and of the machine from /proc
(Linux): CPU time, memory, how busy the cores were. CPU time, unlike wall-clock time, does not
grow with other work on the machine, so it says what each process costs whatever the load."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user + system, all its threads; /proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_jiffies() -> tuple[int, int]:
    """The machine's busy and total CPU time so far, all cores (/proc/stat): how much of the
    machine a phase had left, the sandboxes' and the database server's CPU included."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def rss_mb(pid: int, field: str) -> float | None:
    """A memory figure of /proc/<pid>/status (`VmRSS` now, `VmHWM` the peak), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def die_with_parent() -> None:
    """In the child (Linux): end when the benchmark ends, even killed outright, so no worker or
    stack is left running (and loading the machine) after an interrupted run."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.asynccontextmanager
async def child_process(args: list[str], env: dict[str, str], log: Path) -> AsyncIterator[int]:
    with log.open("w") as out:
        process = await asyncio.create_subprocess_exec(
            *args,
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        try:
            yield process.pid
        finally:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


@contextlib.asynccontextmanager
async def maybe_process(
    start: bool, args: list[str], env: dict[str, str], log: Path
) -> AsyncIterator[int | None]:
    if not start:
        yield None
        return
    async with child_process(args, env, log) as pid:
        yield pid


async def wait_for(check: Any, what: str, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            value = await check()
            if value:
                return value
        await asyncio.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


async def fresh_database(url: str, name: str) -> str:
    """`name` created afresh on the server of `url`; its URL."""
    import asyncpg

    base, _, _ = url.rpartition("/")
    admin = await asyncpg.connect(base.replace("postgresql+asyncpg", "postgresql") + "/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"{base}/{name}"
