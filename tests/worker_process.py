"""A worker in a process of its own, for crash tests (the test kills it with SIGKILL), and how
a test drives it (`WorkerProcess`, fixture `worker_process`).

    python -m tests.worker_process DIR [--forward PORT]

Settings come from the environment, as for `addon worker` (DATABASE_URL, SECRET_KEY, WORKER_*,
INITIAL_SYNC_*, ...). Besides the app's job kinds it handles the test-only kind `test.block`:
the handler writes DIR/started-<job id> and then waits forever, so the test knows the job is
in the middle of its run. With --forward, every outbound HTTP request (Saleor, Mailchimp) goes
to 127.0.0.1:PORT with its Host header kept: the test serves its in-process sandboxes there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from addon.capabilities import create_services
from addon.config import Settings
from addon.jobs.schemas import ClaimedJob
from addon.jobs.worker import Worker
from addon.services import Services

BLOCK_JOB = "test.block"
# Waiting for something another process does: generous, since a loaded machine is slow. Only
# a test that is stuck anyway reaches it; no assertion is made on how long anything took.
PATIENCE = 120.0
ROOT = Path(__file__).resolve().parent.parent


class Forward(httpx.AsyncBaseTransport):
    """Send every request to the test's server; the Host header still names the sandbox."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        return await self.inner.handle_async_request(request)


async def main(directory: Path, forward: int | None) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    services = create_services(settings, transport=Forward(forward) if forward else None)

    async def block(job: ClaimedJob, _: Services) -> None:
        (directory / f"started-{job.id}").write_text(str(job.attempts))
        await asyncio.Event().wait()

    services.handlers.register(BLOCK_JOB, block)
    (directory / "ready").write_text("")
    await Worker(services).run(asyncio.Event())


# --- the test's side -----------------------------------------------------------------------------


async def until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait for something the worker (its heartbeat, another process) does."""
    deadline = asyncio.get_running_loop().time() + PATIENCE
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        await asyncio.sleep(0.01)


def environment(settings: Settings, **overrides: object) -> dict[str, str]:
    """The settings as the environment variables a worker process reads."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    for name, value in {**dict(settings), **overrides}.items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, Enum):
            value = value.value
        elif isinstance(value, list):
            value = json.dumps(value)
        env[name.upper()] = str(value)
    return env


class WorkerProcess:
    """`python -m tests.worker_process`, watched through the files it writes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, settings: Settings, *, forward: int | None = None) -> None:
        env = environment(settings, worker_poll_interval_seconds=0.05, sandbox=False)
        command = [sys.executable, "-m", "tests.worker_process", str(self.directory)]
        if forward is not None:
            command += ["--forward", str(forward)]
        with (self.directory / "output.txt").open("wb") as output:
            self.process = await asyncio.create_subprocess_exec(
                *command, cwd=ROOT, env=env, stdout=output, stderr=output
            )
        await self.until(self.file("ready"), "the worker process to start")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def file(self, name: str) -> Callable[[], Awaitable[bool]]:
        async def exists() -> bool:
            return (self.directory / name).exists()

        return exists

    async def until(self, condition: Callable[[], Awaitable[bool]], what: str) -> None:
        async def met() -> bool:
            assert self.process is not None
            if self.process.returncode is not None:
                output = (self.directory / "output.txt").read_text()
                pytest.fail(f"the worker process exited ({self.process.returncode}):\n{output}")
            return await condition()

        await until(met, what)

    async def kill(self) -> datetime:
        """SIGKILL: no cleanup of any kind runs. Returns when it is dead (real time)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        return datetime.now(UTC)


@pytest.fixture
async def worker_process(tmp_path: Path) -> AsyncIterator[WorkerProcess]:
    process = WorkerProcess(tmp_path)
    yield process
    if process.process is not None and process.process.returncode is None:
        process.process.kill()
        await process.process.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", type=Path)
    parser.add_argument("--forward", type=int)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.directory, arguments.forward))
