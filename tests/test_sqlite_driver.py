"""SQLite's driver adapter (`addon.db.sqlite_driver`): one trip to aiosqlite's thread per
statement, and what SQLAlchemy reads of a statement (rows, rowcount, lastrowid, errors) as
with SQLAlchemy's own adapter."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiosqlite import core
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from addon.config import Settings
from addon.db.engine import Database


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with database.engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
        )
    yield database
    await database.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Each call aiosqlite runs on its thread, by what it runs (a statement: its first word)."""
    counted: Counter[str] = Counter()
    real = core.Connection._execute

    async def counting(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sql = args[1] if len(args) > 1 and isinstance(args[1], str) else None
        counted[sql.split()[0].upper() if sql else fn.__name__] += 1
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(core.Connection, "_execute", counting)
    return counted


async def test_a_statement_is_one_trip_and_a_finished_transaction_is_not_rolled_back(
    database: Database, trips: Counter[str]
) -> None:
    async with database.engine.connect() as connection:  # connected before counting
        await connection.execute(text("SELECT 1"))
        await connection.commit()
    trips.clear()
    async with database.transaction() as session:
        await session.execute(text("INSERT INTO things (name) VALUES ('a'), ('b')"))
        rows = (await session.execute(text("SELECT name FROM things ORDER BY id"))).all()
    assert [row.name for row in rows] == ["a", "b"]
    # BEGIN, the two statements, COMMIT; the pool's rollback on taking the connection back
    # finds no transaction open and makes no trip.
    assert trips == Counter({"BEGIN": 1, "INSERT": 1, "SELECT": 1, "commit": 1})


async def test_rows_counts_and_ids_are_the_statements(database: Database) -> None:
    async with database.transaction() as session:
        inserted = await session.execute(
            text("INSERT INTO things (name) VALUES ('a'), ('b'), ('c') RETURNING id, name")
        )
        assert [tuple(row) for row in inserted] == [(1, "a"), (2, "b"), (3, "c")]
        alone = await session.execute(text("INSERT INTO things (name) VALUES ('d')"))
        assert alone.lastrowid == 4  # type: ignore[attr-defined]
        updated = await session.execute(text("UPDATE things SET name = name || '!' WHERE id < 3"))
        assert updated.rowcount == 2  # type: ignore[attr-defined]
        many = await session.execute(
            text("UPDATE things SET name = :name WHERE id = :id"),
            [{"name": "x", "id": 3}, {"name": "y", "id": 4}, {"name": "z", "id": 99}],
        )
        assert many.rowcount == 2  # type: ignore[attr-defined]
        none = await session.execute(text("SELECT id FROM things WHERE id > 99"))
        assert none.all() == [] and list(none.keys()) == ["id"]
        pages = await session.execute(text("SELECT id FROM things ORDER BY id"))
        assert [[row.id for row in page] for page in pages.partitions(3)] == [[1, 2, 3], [4]]


async def test_an_error_is_sqlites_and_its_transaction_is_rolled_back(database: Database) -> None:
    async with database.transaction() as session:
        await session.execute(text("INSERT INTO things (name) VALUES ('a')"))
    with pytest.raises(IntegrityError, match=r"UNIQUE constraint failed: things\.name"):
        async with database.transaction() as session:
            await session.execute(text("INSERT INTO things (name) VALUES ('b')"))
            await session.execute(text("INSERT INTO things (name) VALUES ('a')"))
    async with database.session() as session:
        names = (await session.execute(text("SELECT name FROM things"))).scalars().all()
    assert names == ["a"]  # 'b' went with the failed transaction


async def test_a_transaction_left_open_is_rolled_back(database: Database) -> None:
    """A rollback still makes its trip where a transaction is open (the driver says so)."""
    async with database.engine.connect() as connection:
        await connection.execute(text("INSERT INTO things (name) VALUES ('kept?')"))
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None and driver._connection.in_transaction
    async with database.session() as session:
        count = (await session.execute(text("SELECT count(*) FROM things"))).scalar_one()
    assert count == 0


async def test_a_commit_is_on_disk_before_it_returns(database: Database) -> None:
    """A webhook is answered once its job is committed, and Saleor never sends a delivery it
    got a 2xx for again: in WAL mode only `synchronous=FULL` (2) keeps such a commit through a
    power loss (sqlite.org/pragma.html#pragma_synchronous); NORMAL (1) may roll it back."""
    async with database.session() as session:
        assert (await session.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await session.execute(text("PRAGMA synchronous"))).scalar() == 2


async def test_only_a_throwaway_database_skips_the_flush(tmp_path: Path) -> None:
    """`SQLITE_SYNCHRONOUS`: FULL unless set (above), OFF when asked (the test suite's)."""
    assert Settings.model_fields["sqlite_synchronous"].default == "FULL"
    thrown = Database(f"sqlite+aiosqlite:///{tmp_path / 'thrown.db'}", sqlite_synchronous="OFF")
    try:
        async with thrown.session() as session:
            assert (await session.execute(text("PRAGMA synchronous"))).scalar() == 0
    finally:
        await thrown.dispose()
