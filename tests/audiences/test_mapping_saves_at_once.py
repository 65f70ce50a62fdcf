"""Two saves of one audience's merge-field mapping at once (two tabs, two admins) both succeed,
the later one's rows kept (PostgreSQL; SQLite's writers take turns).

A save deletes the audience's mapping rows and inserts the new ones. At READ COMMITTED a second
save's DELETE could not see the rows the first had just inserted, and its INSERT then failed on
their unique key (a 500). Now a save locks the audience's row first, so the second waits for the
first to commit and replaces its rows. The test holds the first save's transaction open, lets
the second run into it (`tests.transactions_at_once`: no sleep), then commits the first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.mapping import MappingRepository
from addon.audiences.models import Audience, FieldMapping, FieldSource, MappingTarget
from addon.services import Services
from tests.factories import make_installation
from tests.transactions_at_once import second_runs_into_first

LIST = "list1"


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

    def saving(source: FieldSource) -> Callable[[AsyncSession], Awaitable[None]]:
        async def save(session: AsyncSession) -> None:
            rows = _rows(installation, source)
            await MappingRepository(session).replace(installation, LIST, rows)

        return save

    await second_runs_into_first(
        services, saving(FieldSource.FIRST_NAME), saving(FieldSource.LAST_NAME)
    )

    async with services.db.session() as session:
        sources = await session.scalars(
            select(FieldMapping.source).where(FieldMapping.installation_id == installation)
        )
        assert list(sources) == [FieldSource.LAST_NAME]  # the later save's
