"""A PostgreSQL database of one test's own, made empty and dropped after (the session's database
stays as it is): for tests that start real `addon` processes against a fresh schema."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine


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
