"""Migration 0008_security keeps installations (and their children) up and down (SQLite)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import Connection, inspect, text

from addon.db.engine import Database
from addon.db.migrations import alembic_config
from tests.migration_rows import NOW, installed_at


async def test_0008_security_up_and_down_keeps_the_installation_and_its_jobs(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")

    def at_0007(connection: Connection) -> None:
        installed_at(connection, "0007")
        connection.execute(
            text(
                "INSERT INTO jobs (installation_id, kind, payload, status, attempts, run_after,"
                " created_at, updated_at) VALUES (1, 'k', '{}', 'pending', 0, :now, :now, :now)"
            ),
            {"now": NOW},
        )

    def up(connection: Connection) -> tuple[list[str], list[str], int]:
        command.upgrade(alembic_config(connection), "0008_security")
        inspector = inspect(connection)
        columns = [c["name"] for c in inspector.get_columns("installations")]
        limits = [c["name"] for c in inspector.get_columns("rate_limits")]
        jobs = connection.execute(text("SELECT count(*) FROM jobs")).scalar_one()
        return columns, limits, int(jobs)

    def down(connection: Connection) -> tuple[list[str], bool, int]:
        command.downgrade(alembic_config(connection), "0007")
        inspector = inspect(connection)
        columns = [c["name"] for c in inspector.get_columns("installations")]
        jobs = connection.execute(text("SELECT count(*) FROM jobs")).scalar_one()
        return columns, inspector.has_table("rate_limits"), int(jobs)

    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(at_0007)
        async with database.engine.begin() as connection:
            columns, limits, jobs = await connection.run_sync(up)
        assert "jwks_attempted_at" in columns and jobs == 1
        assert set(limits) == {"key", "installation_id", "hits", "expires_at"}
        async with database.engine.begin() as connection:
            columns, has_limits, jobs = await connection.run_sync(down)
        assert "jwks_attempted_at" not in columns and not has_limits and jobs == 1
    finally:
        await database.dispose()
