"""Apply and inspect Alembic migrations from code (used by `addon migrate`, serve, /readyz).

Exactly once on PostgreSQL: every process that upgrades (`addon migrate`, `addon serve`,
`addon worker`, `addon sync`) first takes one transaction-level advisory lock, so when several
start together one runs the migrations and the others wait for it, then find the schema current
and do nothing. The lock ends with the upgrade's transaction (also when a process dies), and
PostgreSQL's DDL is transactional, so a failed upgrade leaves the schema as it was. SQLite is
one process's embedded database: no lock there.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revisions() -> set[str]:
    return set(_heads())


@cache
def _heads() -> frozenset[str]:
    """Read once per process: loading the script directory imports every migration module."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


# PostgreSQL's single-bigint advisory key space, apart from the (account, slot) key pairs of
# addon.db.shared_slots (PostgreSQL keeps the two key spaces apart). Any fixed number works; this
# one spells "addonmig" in ASCII, so it is recognisable in pg_locks (classid, objid, objsubid=1).
MIGRATION_LOCK_KEY = int.from_bytes(b"addonmig", "big") & 0x7FFF_FFFF_FFFF_FFFF


def _take_migration_lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database to the newest schema (idempotent; one process at a time)."""

    def _upgrade(connection: Connection) -> None:
        _take_migration_lock(connection)
        # Every start of the app upgrades: when the schema is current (nearly always), one
        # query answers, where Alembic's upgrade would load every migration module again.
        if _current_on(connection) == head_revisions():
            return
        command.upgrade(alembic_config(connection), "heads")

    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def current_revisions(engine: AsyncEngine) -> set[str]:
    """The revisions the database is at (empty before the first migration)."""

    async with engine.connect() as connection:
        return await connection.run_sync(_current_on)


def _current_on(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


async def is_current(engine: AsyncEngine) -> bool:
    return await current_revisions(engine) == head_revisions()
