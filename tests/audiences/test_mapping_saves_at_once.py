"""Two saves of one audience's merge-field mapping at once (two tabs, two admins) both succeed,
the later one's rows kept (PostgreSQL; SQLite's writers take turns).

A save deletes the audience's mapping rows and inserts the new ones. At READ COMMITTED a second
save's DELETE could not see the rows the first had just inserted, and its INSERT then failed on
their unique key (a 500). Now a save locks the audience's row first, so the second waits for the
first to commit and replaces its rows. The test holds the first save's transaction open, lets
the second run into it (polled with `pg_blocking_pids`, no sleep), then commits the first.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text

from addon.audiences.mapping import MappingRepository
from addon.audiences.models import Audience, FieldMapping, FieldSource, MappingTarget
from addon.services import Services
from tests.factories import make_installation
from tests.worker_process import until

LIST = "list1"
BLOCKED_BY = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")


def _rows(installation_id: int, source: FieldSource) -> list[FieldMapping]:
    return [
        FieldMapping(
            installation_id=installation_id,
            list_id=LIST,
            target=MappingTarget.MERGE_FIELD,
            merge_tag="FNAME",
            source=source,
        )
    ]


async def test_two_saves_of_one_mapping_at_once_both_succeed(services: Services) -> None:
    if services.db.is_sqlite:
        pytest.skip("concurrent transactions: PostgreSQL (SQLite's writers take turns)")
    installation = await make_installation(services)
    async with services.db.transaction() as session:
        session.add(Audience(installation_id=installation, list_id=LIST, name="Newsletter"))

    async def second() -> None:
        async with services.db.transaction() as session:
            await MappingRepository(session).replace(
                installation, LIST, _rows(installation, FieldSource.LAST_NAME)
            )

    other: asyncio.Task[None] | None = None
    try:
        async with services.db.transaction() as first:
            await MappingRepository(first).replace(
                installation, LIST, _rows(installation, FieldSource.FIRST_NAME)
            )
            pid = await first.scalar(text("SELECT pg_backend_pid()"))
            other = asyncio.create_task(second())

            async def blocked() -> bool:
                async with services.db.session() as session:
                    return bool(await session.scalar(BLOCKED_BY, {"pid": pid}))

            await until(blocked, "the second save to wait for the first")
        await other
    finally:
        if other is not None and not other.done():
            other.cancel()

    async with services.db.session() as session:
        sources = await session.scalars(
            select(FieldMapping.source).where(FieldMapping.installation_id == installation)
        )
        assert list(sources) == [FieldSource.LAST_NAME]  # the later save's
