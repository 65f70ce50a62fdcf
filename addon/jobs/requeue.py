"""A job set pending again where at most one job of its coalescing key may wait
(`uq_jobs_pending_coalesce_key`): alone, or merged into the key's pending job
(`JobRepository.reschedule`, `release` and `retry`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

# Rounds of a merge and a conflict before the conflict is raised: each round another job of
# the key committed, then was claimed, while this one was written.
ROUNDS = 3


async def alone_or_merged(
    session: AsyncSession,
    alone: Callable[[], Awaitable[bool]],
    merged: Callable[[], Awaitable[bool]],
    *,
    keyed: bool,
) -> bool | None:
    """A job set pending again by `alone` (its answer), unless `merged` hands its work to the
    pending job of its key (None); `keyed`: it has a coalescing key (else no job can take its
    work). On PostgreSQL a newer job of the key may commit while `alone` writes (the UPDATE
    waits for it, then conflicts): only that UPDATE is undone, and the newer job takes the
    work, or, claimed meanwhile, leaves the key free for `alone` again."""
    if not keyed:
        return await alone()
    conflict: IntegrityError | None = None
    for _ in range(ROUNDS):
        if await merged():
            return None
        try:
            async with _undone_alone(session):
                return await alone()
        except IntegrityError as exc:
            conflict = exc
    assert conflict is not None
    raise conflict


def _undone_alone(session: AsyncSession) -> AbstractAsyncContextManager[Any]:
    """A savepoint on PostgreSQL; SQLite writes one transaction at a time, so no job can
    commit beside it."""
    if session.get_bind().dialect.name == "postgresql":
        return session.begin_nested()
    return nullcontext()
