"""A ledger lookup by a list of ids searches the unique index by each id, whatever PostgreSQL's
statistics say (PostgreSQL only: SQLite keeps none unless asked).

An initial sync writes thousands of ledger records a minute; autovacuum analyses the table a
minute or more later. A prepared statement's generic plan, made from statistics that have not
seen the records (here: a table never analysed), read every record of the scope through the
index's first three columns and compared each with every id of the array (0.2-0.4 s a lookup
of 1,000 ids among 12,000 records). `lookups.by_ids` has such a lookup planned for the ids at
hand, where a filter goes through a hash of them (10 ms). And an initial sync has PostgreSQL
take the ledger's statistics again whenever it has grown by a quarter
(`Database.analyze_if_grown`), so that lookups search the index by each id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy import insert, text

from addon.db.engine import Database
from addon.ecommerce.models import EntityKind, SyncRecord, SyncStatus
from addon.ecommerce.repository import LedgerRepository
from tests.own_database import migrated as own_migrated
from tests.own_database import on_postgresql

RECORDS = 5000
IDS = 500
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
CHANNEL = "default-channel"


@asynccontextmanager
async def migrated(purpose: str) -> AsyncIterator[tuple[Database, int]]:
    """A database of the test's own, migrated, with one installation (and its id)."""
    async with own_migrated(purpose, NOW) as (database, installation_id):
        async with database.transaction() as session:
            # Only the app analyses it here (autovacuum would, past a tenth more rows).
            await session.execute(
                text("ALTER TABLE ecommerce_sync_records SET (autovacuum_enabled = false)")
            )
        yield database, installation_id


async def add_records(database: Database, installation_id: int, numbers: range) -> list[str]:
    """Product records numbered `numbers`; their Saleor ids."""
    rows = [
        {
            "installation_id": installation_id,
            "channel_slug": CHANNEL,
            "kind": EntityKind.PRODUCT,
            "saleor_id": f"UHJvZHVjdDo{n:06d}",
            "children": {},
            "status": SyncStatus.SYNCED,
            "attempts": 0,
            "updated_at": NOW,
        }
        for n in numbers
    ]
    async with database.transaction() as session:
        await session.execute(insert(SyncRecord), rows)
    return [str(row["saleor_id"]) for row in rows]


@on_postgresql
async def test_a_lookup_by_ids_is_planned_for_the_ids_at_hand() -> None:
    async with migrated("lookup_plan") as (database, installation_id):
        ids = await add_records(database, installation_id, range(RECORDS))
        async with database.transaction() as session:
            ledger = LedgerRepository(session)
            scope = (installation_id, CHANNEL, EntityKind.PRODUCT)
            setting = text("SELECT current_setting('plan_cache_mode')")
            mode = await session.scalar(setting)

            # PostgreSQL may choose a generic plan from a prepared statement's sixth run.
            for start in range(0, 8 * IDS, IDS):
                wanted = ids[start : start + IDS]
                assert len(await ledger.held_by_saleor_ids(*scope, wanted)) == IDS
            plans = (
                await session.execute(
                    text(
                        "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                        " WHERE statement LIKE 'SELECT ecommerce_sync_records.saleor_id,%'"
                    )
                )
            ).one()
            mode_after = await session.scalar(setting)
        # Each run planned for its ids (without `by_ids`: generic from the sixth), and the
        # setting as it was for the rest of the transaction.
        assert tuple(plans) == (0, 8)
        assert mode_after == mode


@on_postgresql
async def test_the_ledgers_statistics_are_taken_again_once_it_has_grown_by_a_quarter() -> None:
    async with migrated("ledger_growth") as (database, installation_id):

        async def analysed_rows() -> float:
            async with database.session() as session:
                return float(
                    await session.scalar(
                        text(
                            "SELECT reltuples FROM pg_class"
                            " WHERE relname = 'ecommerce_sync_records'"
                        )
                    )
                    or 0
                )

        async def grown_to(count: int) -> float:
            await add_records(database, installation_id, range(len(added), count))
            added.extend(range(len(added), count))
            await database.analyze_if_grown("ecommerce_sync_records")
            return await analysed_rows()

        added: list[int] = []
        assert await grown_to(20) == -1  # too small to matter: never analysed
        assert await grown_to(5000) == 5000
        assert await grown_to(5900) == 5000  # a sixth more: as it was
        assert await grown_to(6500) == 6500  # a third more
