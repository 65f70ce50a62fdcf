"""Tasks run side by side whose failure is the first task's own exception."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def side_by_side() -> AsyncIterator[asyncio.TaskGroup]:
    """An `asyncio.TaskGroup` that fails with the exception of its first failed task, not an
    ExceptionGroup: a job's retry policy and the text its admin reads depend on what failed (a
    Saleor or Mailchimp refusal, a 429's wait), which a group hides. The others stay in the
    raised exception's context."""
    try:
        async with asyncio.TaskGroup() as group:
            yield group
    except BaseExceptionGroup as failed:
        raise first_of(failed)  # noqa: B904 (the group stays the context)


def first_of(group: BaseExceptionGroup[BaseException]) -> BaseException:
    found: BaseException = group
    while isinstance(found, BaseExceptionGroup):
        found = found.exceptions[0]
    return found
