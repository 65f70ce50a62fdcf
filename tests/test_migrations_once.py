"""Migrations exactly once: several processes starting together on PostgreSQL (`addon migrate`,
`addon worker`, `addon serve`) upgrade the schema one at a time, behind
one advisory lock, so the migrations run once in all and nobody fails halfway (PostgreSQL only).

The test holds the lock itself while the processes start, sees every one of them wait for it
(and none touch the schema), then lets go: one process migrates, the others find the schema
current. Without the lock the processes would migrate at once and the test fails at the first
"Running upgrade" line printed before it let go.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from asyncio.subprocess import STDOUT, Process
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from addon.db.migrations import MIGRATION_LOCK_KEY, alembic_config, head_revisions
from tests.own_database import own_database

ROOT = Path(__file__).resolve().parent.parent
PATIENCE = 120.0  # only a stuck test waits this long; nothing is asserted about durations
COMMANDS = (["migrate"], ["worker"], ["serve", "--port", "0"])
READY = {"migrate": "Database is up to date.", "worker": "Worker ", "serve": "startup complete"}

URL = os.environ.get("TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not URL.startswith("postgresql"), reason="advisory locks: PostgreSQL only"
)


@pytest.fixture
async def empty_database() -> AsyncIterator[str]:
    """A database of this test's own, empty (the session's database stays as it is)."""
    async with own_database(URL, "migrate_once") as url:
        yield url


async def _waiting(connection: AsyncConnection) -> int:
    """How many sessions wait for the migration lock (a bigint key: objsubid 1)."""
    count = await connection.scalar(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1"
            " AND classid::bigint = :high AND objid::bigint = :low AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"high": MIGRATION_LOCK_KEY >> 32, "low": MIGRATION_LOCK_KEY & 0xFFFF_FFFF},
    )
    return int(count or 0)


async def test_processes_starting_together_migrate_once(
    empty_database: str, tmp_path: Path
) -> None:
    environment = {
        **os.environ,
        "DATABASE_URL": empty_database,
        "APP_ENV": "production",
        "SECRET_KEY": "migrate-once-test-secret-key-0123456789",
        "APP_URL": "https://app.example",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    environment.pop("TEST_DATABASE_URL", None)
    engine = create_async_engine(empty_database)
    outputs = [tmp_path / f"process-{n}.log" for n in range(len(COMMANDS))]
    processes: list[Process] = []

    def output(n: int) -> str:
        return outputs[n].read_text(errors="replace")

    def is_ready(n: int) -> bool:
        return READY[COMMANDS[n][0]] in output(n)

    async def until(condition: str, check: Callable[[], bool]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PATIENCE
        while not check():
            assert loop.time() < deadline, f"timed out waiting until {condition}"
            await asyncio.sleep(0.05)

    try:
        async with engine.connect() as holder:
            await holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            await holder.commit()
            for command, path in zip(COMMANDS, outputs, strict=True):
                with path.open("wb") as sink:  # cwd: tmp_path, so no developer .env is read
                    processes.append(
                        await asyncio.create_subprocess_exec(
                            sys.executable,
                            "-c",
                            "from addon.cli import main; main()",
                            *command,
                            cwd=tmp_path,
                            env={**environment, "PYTHONPATH": str(ROOT)},
                            stdout=sink,
                            stderr=STDOUT,
                        )
                    )
            async with engine.connect() as watcher:
                loop = asyncio.get_running_loop()
                deadline = loop.time() + PATIENCE
                while (waiting := await _waiting(watcher)) < len(COMMANDS):
                    for n, process in enumerate(processes):
                        assert process.returncode is None, (
                            f"{COMMANDS[n]} ended early:\n{output(n)}"
                        )
                        assert "Running upgrade" not in output(n), "migrated without the lock"
                    assert loop.time() < deadline, f"only {waiting} processes wait for the lock"
                    await watcher.rollback()
                    await asyncio.sleep(0.05)
                await watcher.rollback()
                assert not await watcher.scalar(text("SELECT to_regclass('alembic_version')"))
            await holder.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )

        for n, command in enumerate(COMMANDS):
            await until(f"{command} is ready", partial(is_ready, n))
        for n, process in enumerate(processes):
            if COMMANDS[n][0] != "migrate":
                process.send_signal(signal.SIGTERM)
        for n, process in enumerate(processes):
            await process.wait()  # a process that never ends times the test out
            # uvicorn, once shut down gracefully, re-raises the signal it caught
            expected = -signal.SIGTERM if COMMANDS[n][0] == "serve" else 0
            assert process.returncode == expected, output(n)

        revisions = list(ScriptDirectory.from_config(alembic_config()).walk_revisions())
        runs = sum(output(n).count("Running upgrade") for n in range(len(COMMANDS)))
        assert runs == len(revisions)  # every migration, exactly once in all
        async with engine.connect() as connection:
            current = await connection.execute(text("SELECT version_num FROM alembic_version"))
            assert {row[0] for row in current} == head_revisions()
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await engine.dispose()
