"""A PostgreSQL connection keeps the statements it prepared: more of them than asyncpg's 100
(SQLAlchemy's asyncpg dialect, `prepared_statement_cache_size`), so a worker cycling through the
app's statements does not prepare each again, a round trip and a server-side parse apiece."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from addon.db.engine import PG_PREPARED_STATEMENTS, Database

URL = os.environ.get("TEST_DATABASE_URL", "")

pytestmark = pytest.mark.skipif(
    not URL.startswith("postgresql"), reason="asyncpg's prepared statements: PostgreSQL only"
)


async def test_a_connection_keeps_more_statements_than_the_driver_default() -> None:
    distinct = 150  # over the dialect's default of 100
    assert distinct <= PG_PREPARED_STATEMENTS
    database = Database(URL, jobs_at_once=0)
    try:
        async with database.engine.connect() as connection:
            for round_ in range(2):
                for n in range(distinct):
                    value = await connection.scalar(text(f"SELECT {n} + :one"), {"one": 1})
                    assert value == n + 1, round_
            raw = await connection.get_raw_connection()
            kept = raw.dbapi_connection._prepared_statement_cache  # type: ignore[union-attr]
            assert len(kept) >= distinct
    finally:
        await database.dispose()
