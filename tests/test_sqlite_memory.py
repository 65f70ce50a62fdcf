"""SQLite's own memory stays bounded as the database grows (`addon.db.engine`): a smaller page
cache per connection, and multi-row INSERTs cut into statements of a bounded number of rows
(each row count is a statement the driver keeps prepared)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text

from addon.db.engine import SQLITE_CACHE_KIB, SQLITE_INSERT_ROWS, Database
from addon.jobs.enqueue import JobEnqueuer
from addon.jobs.inserts import NewJob
from addon.services import Services
from tests.factories import make_installation
from tests.test_ingest import stored_jobs

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def sqlite(services: Services) -> Database:
    if not services.db.is_sqlite:
        pytest.skip("SQLite's own settings")
    return services.db


@contextmanager
def inserts_into(db: Database, table: str) -> Iterator[list[int]]:
    """The number of parameters of each INSERT into the table sent to the driver."""
    sizes: list[int] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()} "):
            sizes.append(len(parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        yield sizes
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)


async def test_each_connection_keeps_a_smaller_page_cache(sqlite: Database) -> None:
    async with sqlite.session() as session:
        size = (await session.execute(text("PRAGMA cache_size"))).scalar_one()
    assert size == -SQLITE_CACHE_KIB  # KiB (negative), not SQLite's 2 MiB default
    assert SQLITE_CACHE_KIB < 2000


async def test_many_rows_go_in_inserts_of_a_bounded_number_of_rows(
    sqlite: Database, services: Services
) -> None:
    installation = await make_installation(services)
    count = SQLITE_INSERT_ROWS * 2 + 7
    jobs = [NewJob(installation, "test.memory", {"n": n}, f"k{n}") for n in range(count)]

    with inserts_into(sqlite, "jobs") as sizes:
        async with sqlite.transaction() as session:
            ids = await JobEnqueuer(session).enqueue_deduplicated(jobs)

    assert all(isinstance(job_id, int) for job_id in ids)
    assert await stored_jobs(services) == count
    # Two full statements of the same text (one prepared form) and the rest: never one
    # statement of every row, whose prepared form would grow with the batch.
    assert len(sizes) == 3
    per_row = sizes[-1] // 7
    assert sizes == [SQLITE_INSERT_ROWS * per_row] * 2 + [7 * per_row]
