"""Migration 0008_dashboard (OAuth attempts, stores found missing) keeps what a store has, up and
down (SQLite, foreign keys on)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import Connection, inspect, text

from addon.db.engine import Database
from addon.db.migrations import alembic_config
from tests.migration_rows import NOW, installed_at


def _seed(connection: Connection) -> None:
    installed_at(connection, "0007")
    connection.execute(
        text(
            "INSERT INTO mailchimp_stores (id, installation_id, channel_slug, store_id, list_id,"
            " currency_code, created_at, tracked, name) VALUES (1, 1, 'c', 'saleor-1', 'l1',"
            " 'USD', :now, 1, 'Default')"
        ),
        {"now": NOW},
    )
    connection.execute(
        text(
            "INSERT INTO ecommerce_sync_records (installation_id, channel_slug, kind, saleor_id,"
            " children, status, attempts, updated_at) VALUES (1, 'c', 'store', 'c', '{}',"
            " 'synced', 0, :now)"
        ),
        {"now": NOW},
    )


def _up(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "0008_dashboard")


def _down(connection: Connection) -> None:
    command.downgrade(alembic_config(connection), "0007")


async def test_0008_dashboard_up_and_down_keeps_the_stores(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(_seed)
            await connection.run_sync(_up)
        async with database.engine.connect() as connection:
            stores = (
                await connection.execute(
                    text("SELECT store_id, missing_since FROM mailchimp_stores")
                )
            ).all()
            assert stores == [("saleor-1", None)]
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
            assert "oauth_attempts" in tables
            records = (
                await connection.execute(text("SELECT count(*) FROM ecommerce_sync_records"))
            ).scalar_one()
            assert records == 1
        async with database.engine.begin() as connection:
            await connection.run_sync(_down)
        async with database.engine.connect() as connection:
            columns = await connection.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("mailchimp_stores")}
            )
            assert "missing_since" not in columns
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
            assert "oauth_attempts" not in tables
            stores = (await connection.execute(text("SELECT store_id FROM mailchimp_stores"))).all()
            assert stores == [("saleor-1",)]
            records = (
                await connection.execute(text("SELECT count(*) FROM ecommerce_sync_records"))
            ).scalar_one()
            assert records == 1
    finally:
        await database.engine.dispose()
