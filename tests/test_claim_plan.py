"""A claim reads the due jobs in their index's order and stops at its limit, whatever
PostgreSQL's statistics say (PostgreSQL only: SQLite keeps none unless asked).

A burst fills the jobs table within seconds, and autovacuum refreshes the planner's statistics
a minute or more later. Planned from statistics that have not seen the backlog (here: a table
never analysed, as after the migration that made it), PostgreSQL read every due job through
a bitmap scan and sorted them all to claim 18. The claim turns sorting off for its transaction
(`addon.jobs.statements.NO_SORT`), so the only plan left is the ordered index scan.

And the rows a claim or a burst's take-over updates are chosen and locked once
(`addon.jobs.statements.locked_once`), whatever plan runs the statement.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Update, insert, text, true
from sqlalchemy.dialects import postgresql

from addon.clock import Clock, ManualClock, use_clock
from addon.ecommerce.burst_queue import _TAKE_OVER, take_over
from addon.ecommerce.models import PUSH_JOB, EntityKind
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.jobs.statements import Lapsed, claim_statement
from tests.own_database import insert_installation, migrated, on_postgresql

WAITING = 10000
LIMIT = 18
TAKEN = 499
# Rows fetched through an index in this transaction.
FETCHED = text("SELECT idx_tup_fetch FROM pg_stat_xact_user_tables WHERE relname = 'jobs'")
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


@on_postgresql
async def test_a_claim_reads_only_as_far_as_its_limit_with_a_backlog_unseen_by_statistics() -> None:
    async with migrated("claim_plan", NOW) as (database, installation_id):
        rows = [
            {
                "installation_id": installation_id,
                "kind": "webhook.test",
                # About a webhook's size: the planner, with no statistics, guesses the number
                # of rows from the table's pages and their width.
                "payload": {"body": "x" * 600},
                "status": JobStatus.PENDING,
                "lane": f"lane:{n}",
                "attempts": 0,
                "run_after": NOW - timedelta(seconds=WAITING - n),
                "created_at": NOW,
                "updated_at": NOW,
            }
            for n in range(WAITING)
        ]
        async with database.transaction() as session:
            await session.execute(insert(Job), rows)
        async with database.transaction() as session:
            claimed = await JobRepository(session, ManualClock(NOW)).claim(
                "worker", LIMIT, timedelta(minutes=5), claimable=text("true")
            )
            read = await session.scalar(FETCHED)
    # The oldest, in order. Rows fetched through an index in this transaction: each claimed
    # job twice (read in order, then updated by id); a sort would have read all 10,000 first
    # (10,018 fetched without `NO_SORT`).
    assert len(claimed) == LIMIT
    assert [job.id for job in claimed] == sorted(job.id for job in claimed)
    assert claimed[0].id == 1 and claimed[-1].id == LIMIT
    assert read is not None and read <= 4 * LIMIT


def _pushes(installation_id: int, count: int, oldest: datetime) -> list[dict[str, Any]]:
    """Due push jobs of one channel's products, a second apart from `oldest` on."""
    rows = []
    for n in range(count):
        key = f"ledger:c:product:P{n}"
        rows.append(
            {
                "installation_id": installation_id,
                "kind": PUSH_JOB,
                "payload": {"channel": "c", "kind": "product", "saleor_id": f"P{n}"},
                "status": JobStatus.PENDING,
                "coalesce_key": key,
                "lane": key,
                "attempts": 0,
                "run_after": oldest + timedelta(seconds=n),
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
    return rows


@on_postgresql
@pytest.mark.parametrize("another_store", [False, True], ids=["one store", "two stores"])
async def test_a_take_over_reads_only_as_far_as_its_limit_with_a_backlog_unseen_by_statistics(
    another_store: bool,
) -> None:
    """A burst's take-over, like a claim, reads its installation's due pushes in their index's
    order up to its limit (`ix_jobs_pushes_due`). Planned without sorting off, with the burst
    benchmark's stale statistics, it read every waiting push of the installation (9,980
    through the coalescing key's index), checked each one's lane, and sorted them, to take
    499: 73 ms a take-over on average, a quarter of PostgreSQL's time in a one-worker drain
    (`pg_stat_statements`, auto_explain). Through the jobs' due index alone, another store's
    older backlog on the same server was read first."""
    async with migrated("take_over_plan", NOW) as (database, installation_id):
        rows = _pushes(installation_id, WAITING, NOW - timedelta(seconds=WAITING))
        async with database.transaction() as session:
            if another_store:
                other = await insert_installation(session, NOW, "other.example")
                rows = _pushes(other, WAITING, NOW - timedelta(seconds=3 * WAITING)) + rows
            await session.execute(insert(Job), rows)
        use_clock(ManualClock(NOW))  # `take_over` reads the app's clock
        try:
            async with database.transaction() as session:
                taken = await take_over(session, installation_id, "c", EntityKind.PRODUCT, TAKEN)
                read = await session.scalar(FETCHED)
        finally:
            use_clock(Clock())
    # The oldest. Rows fetched through an index: each taken job read in order, then updated by
    # id; every waiting push without `NO_SORT`, and another store's too without its own index.
    assert sorted(taken, key=lambda saleor_id: int(saleor_id[1:])) == [
        f"P{n}" for n in range(TAKEN)
    ]
    assert read is not None and read <= 4 * TAKEN


@pytest.mark.parametrize(
    "statement",
    [
        claim_statement(true(), False),
        claim_statement(true(), True),
        claim_statement(true(), False, Lapsed.FIRST),
        claim_statement(true(), False, Lapsed.AGAIN),
        _TAKE_OVER,
    ],
    ids=["claim", "claim together", "claim lapsed", "claim lapsed again", "burst take-over"],
)
def test_the_rows_a_claim_or_take_over_updates_are_chosen_once(statement: Update) -> None:
    """PostgreSQL may run a semi-join's subquery more than once, each run locking other rows
    (`locked_once`): the rows are chosen in a materialized CTE, which runs once."""
    sql = str(statement.compile(dialect=postgresql.dialect()))
    assert sql.startswith("WITH chosen AS MATERIALIZED")
    assert "FOR UPDATE OF jobs SKIP LOCKED)" in sql
    assert "WHERE jobs.id IN (SELECT chosen.id \nFROM chosen)" in sql
