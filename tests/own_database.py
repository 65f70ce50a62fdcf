"""A PostgreSQL database of one test's own, made empty and dropped after (the session's database
stays as it is): for tests that start real `addon` processes against a fresh schema, or that
need PostgreSQL's planner to see a table as new (`on_postgresql`, `insert_installation`)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from addon.db.engine import Database
from addon.db.migrations import upgrade

# The suite's PostgreSQL server (`TEST_DATABASE_URL`), and the mark of tests of PostgreSQL's
# planner, which SQLite has no counterpart of (it keeps no statistics unless asked).
URL = os.environ.get("TEST_DATABASE_URL", "")
on_postgresql = pytest.mark.skipif(
    not URL.startswith("postgresql"), reason="the planner's statistics: PostgreSQL only"
)


@asynccontextmanager
async def own_database(url: str, purpose: str) -> AsyncIterator[str]:
    """`<database>_<purpose>_<xdist worker>` on the server of `url`, empty; its URL."""
    parsed = make_url(url)
    name = f"{parsed.database}_{purpose}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def insert_installation(
    session: AsyncSession, now: datetime, domain: str = "saleor.test"
) -> int:
    """An installation row, written as SQL: the model would encrypt the token (no key needed
    in a database of a test's own)."""
    installation_id = await session.scalar(
        text(
            "INSERT INTO installations (saleor_api_url, saleor_domain, app_id,"
            " app_token, jwks, jwks_fetched_at, is_active, installed_at,"
            " updated_at) VALUES (:url, :domain,"
            " 'QXBwOjE=', 'x', '{}', :now, true, :now, :now) RETURNING id"
        ),
        {"now": now, "url": f"http://{domain}/graphql/", "domain": domain},
    )
    assert installation_id is not None
    return int(installation_id)


@asynccontextmanager
async def migrated(purpose: str, now: datetime) -> AsyncIterator[tuple[Database, int]]:
    """A database of the test's own (`own_database`), migrated, with one installation (and
    its id)."""
    async with own_database(URL, purpose) as url:
        database = Database(url)
        try:
            await upgrade(database.engine)
            async with database.transaction() as session:
                installation_id = await insert_installation(session, now)
            yield database, installation_id
        finally:
            await database.dispose()
