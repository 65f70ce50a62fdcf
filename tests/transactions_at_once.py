"""Two transactions at once, in a set order (PostgreSQL): the first does its work and stays
open, the second starts and runs into it, the first commits, the second ends. For tests of
writes that must not fail when they meet (unique keys, rows locked), without timing: the test
polls PostgreSQL for the second being blocked by the first (`pg_blocking_pids`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from addon.services import Services
from tests.worker_process import until

T = TypeVar("T")
BLOCKED_BY = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")


async def second_runs_into_first(
    services: Services,
    first: Callable[[AsyncSession], Awaitable[object]],
    second: Callable[[AsyncSession], Awaitable[T]],
    then: Callable[[AsyncSession], Awaitable[object]] | None = None,
) -> T:
    """Run `first` in a transaction, start `second` in another once `first` has flushed, wait
    until the second is blocked by the first, run `then` in the first (more locks, for a
    deadlock), commit the first; answer what `second` answers (its failure raised here). On
    a failure the second is cancelled, not left running."""

    async def in_transaction() -> T:
        async with services.db.transaction() as session:
            return await second(session)

    other: asyncio.Task[T] | None = None
    try:
        async with services.db.transaction() as session:
            await first(session)
            await session.flush()
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
            other = asyncio.create_task(in_transaction())

            async def blocked() -> bool:
                async with services.db.session() as watching:
                    return bool(await watching.scalar(BLOCKED_BY, {"pid": pid}))

            await until(blocked, "the second transaction to wait for the first")
            if then is not None:
                await then(session)
        return await other
    finally:
        if other is not None and not other.done():
            other.cancel()
