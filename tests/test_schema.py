"""The schema the migrations build is the models' schema, and it has no index another index
of its table makes useless (each is written on every insert and on most updates)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

import addon.tables  # noqa: F401  (every model on the metadata)
from addon.db.base import Base
from addon.db.engine import Database
from addon.db.migrations import alembic_config, upgrade


def _keys(table: sa.Table) -> list[tuple[str, list[str], bool]]:
    """Each index, unique constraint and primary key of the table: name, columns, partial."""
    keys = []
    for index in table.indexes:
        partial = any(
            options.get("where") is not None for options in index.dialect_options.values()
        )
        keys.append((str(index.name), [c.name for c in index.columns], partial))
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint | sa.PrimaryKeyConstraint):
            keys.append((str(constraint.name), [c.name for c in constraint.columns], False))
    return keys


def test_no_index_is_the_start_of_another_index_of_its_table() -> None:
    """An index whose columns start another (whole-table) index or key of its table serves no
    lookup that one does not: drop it (migration 0020 dropped sixteen)."""
    redundant = []
    for table in Base.metadata.sorted_tables:
        keys = _keys(table)
        for index in table.indexes:
            columns = [c.name for c in index.columns]
            if index.unique or any(
                o.get("where") is not None for o in index.dialect_options.values()
            ):
                continue
            redundant += [
                f"{table.name}.{index.name} starts {other}"
                for other, longer, partial in keys
                if other != index.name
                and not partial
                and longer[: len(columns)] == columns
                and len(longer) > len(columns)
            ]
    assert redundant == []


def test_each_installations_rows_are_found_through_an_index() -> None:
    """Deleting an installation deletes its rows (ON DELETE CASCADE), and its rows are read
    per installation: some index or key of each table starts with `installation_id`."""
    unindexed = [
        table.name
        for table in Base.metadata.sorted_tables
        if "installation_id" in table.c
        and not any(
            columns[:1] == ["installation_id"] and not partial
            for _, columns, partial in _keys(table)
        )
    ]
    # Rows of an initial sync's slices, found by their sync (which cascades to them).
    assert unindexed == ["initial_sync_batches"]


async def test_the_migrated_schema_is_the_models_schema(database_url: str) -> None:
    database = Database(database_url)
    try:
        async with database.engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await database.dispose()
    assert differences == []


async def test_postgresql_tables_have_the_models_storage_parameters(database_url: str) -> None:
    """Alembic compares no storage parameters (`postgresql_with`, e.g. the ledger's
    fillfactor, migration 0021): the migrated tables have the models' ones."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's storage parameters")
    expected = {
        table.name: sorted(f"{k}={v}" for k, v in with_.items())
        for table in Base.metadata.sorted_tables
        if (with_ := table.dialect_options["postgresql"].get("with"))
    }
    database = Database(database_url)
    try:
        async with database.engine.connect() as connection:
            rows = await connection.execute(
                sa.text(
                    "SELECT relname, reloptions FROM pg_class WHERE relkind = 'r'"
                    " AND relnamespace = 'public'::regnamespace AND reloptions IS NOT NULL"
                )
            )
            found = {name: sorted(options) for name, options in rows}
    finally:
        await database.dispose()
    assert expected == {"ecommerce_sync_records": ["fillfactor=50"]}
    assert found == expected


async def test_0020_goes_down_and_up_again(tmp_path: Path) -> None:
    """Down to 0019 the sixteen indexes come back, up again they go."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}")
    dropped = {
        ("audience_field_mappings", "ix_audience_field_mappings_installation_id"),
        ("jobs", "ix_jobs_installation_id"),
        ("restored_checkouts", "ix_restored_checkouts_installation_id"),
    }

    def indexes(connection: Connection) -> set[tuple[str, str]]:
        inspector = sa.inspect(connection)
        return {
            (table, str(index["name"]))
            for table in inspector.get_table_names()
            for index in inspector.get_indexes(table)
        }

    def down_and_up(connection: Connection) -> list[set[tuple[str, str]]]:
        seen = [indexes(connection)]
        command.downgrade(alembic_config(connection), "0019_queue_indexes")
        seen.append(indexes(connection))
        command.upgrade(alembic_config(connection), "heads")
        seen.append(indexes(connection))
        return seen

    try:
        await upgrade(database.engine)
        async with database.engine.begin() as connection:
            at_head, at_0019, again = await connection.run_sync(down_and_up)
    finally:
        await database.dispose()
    restored = at_0019 - at_head
    assert len(restored) == 16 and dropped <= restored
    assert all(name == f"ix_{table}_installation_id" for table, name in restored)
    assert at_head - at_0019 == {
        ("jobs", "ix_jobs_pushes_due"),  # migration 0022
        ("contact_states", "ix_contact_states_held_for"),  # migration 0026
        ("signed_in_checkouts", "ix_signed_in_checkouts_seen"),  # migration 0059
    }
    assert again == at_head
