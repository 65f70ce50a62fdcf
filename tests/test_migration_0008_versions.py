"""Migration 0008_versions (Saleor version and lifecycle-check columns, erasure records) keeps
what an installation has, gives each installation its periodic check, and goes back down
(SQLite, foreign keys on)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.orm import load_only

from addon.db.engine import Database
from addon.db.migrations import alembic_config
from addon.installations.checks import CHECK_KIND, CheckPayload
from addon.installations.models import LifecycleSignal
from addon.jobs.models import Job, JobStatus
from tests.migration_rows import NOW, installed_at


def _seed(connection: Connection) -> None:
    installed_at(connection, "0007")
    connection.execute(
        text(
            "INSERT INTO jobs (installation_id, kind, payload, status, attempts, run_after,"
            " created_at, updated_at) VALUES (1, 'other.kind', '{}', 'pending', 0, :now, :now,"
            " :now)"
        ),
        {"now": NOW},
    )


def _up(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "0008_versions")


def _down(connection: Connection) -> None:
    command.downgrade(alembic_config(connection), "0007")


async def test_0008_versions_up_and_down(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(_seed)
            await connection.run_sync(_up)
        async with database.session() as session:
            # Only columns 0008 has (later migrations add more: 0023 `lapses`).
            read = load_only(
                Job.kind, Job.installation_id, Job.status, Job.coalesce_key, Job.run_after,
                Job.payload,
            )  # fmt: skip
            statement = select(Job).options(read).order_by(Job.id)
            jobs = list((await session.execute(statement)).scalars())
            assert [job.kind for job in jobs] == ["other.kind", CHECK_KIND]
            check = jobs[1]
            # Read back through the model: a check due now, as the app schedules it.
            assert check.installation_id == 1 and check.status is JobStatus.PENDING
            assert check.coalesce_key == CHECK_KIND and check.run_after.tzinfo is not None
            payload = CheckPayload.model_validate(check.payload)
            assert payload.signal is LifecycleSignal.PERIODIC_CHECK
        async with database.engine.connect() as connection:
            row = (
                await connection.execute(
                    text("SELECT app_id, saleor_version, token_refused_at FROM installations")
                )
            ).one()
            assert tuple(row) == ("QXBwOjE=", None, None)
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
            assert "installation_erasures" in tables
        async with database.engine.begin() as connection:
            await connection.run_sync(_down)
        async with database.engine.connect() as connection:
            columns = await connection.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("installations")}
            )
            assert not columns & {"saleor_version", "checked_at", "token_refused_at"}
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
            assert "installation_erasures" not in tables
            kinds = (await connection.execute(text("SELECT kind FROM jobs"))).scalars().all()
            assert kinds == ["other.kind"]
            installations = (
                await connection.execute(text("SELECT count(*) FROM installations"))
            ).scalar_one()
            assert installations == 1
    finally:
        await database.engine.dispose()
