"""Indexes a claim can rely on whatever the planner's statistics say (issue 15).

A burst fills the jobs table within seconds, long before PostgreSQL's statistics see it: with
the old `(status, run_after)` index, planning from them, a claim read and sorted every due job
to take twenty (46 ms each with 10,000 waiting, in the burst benchmark; in a reproduction, a
lane check planned through that index as well took 7 s), and a lookup of 500 ledger records by
id scanned every record of the channel and kind through `ix_ecommerce_sync_records_counts`
(the unique key starts with the same columns, so it was never needed).

Now each state a job waits in has a partial index in the order it is taken: pending jobs by
`(run_after, id)` (the claim's order, read until the limit), running jobs by `locked_until`
(lapsed leases), done jobs by `finished_at` (pruning). A job is in one of them at a time, so
an update of its state writes no more index entries than before; a lease renewal, which
changes `locked_until`, now writes its row's index entries anew (a running job's, every ten
seconds or so). The index alone does not settle the claim's plan: see `NO_SORT`
(`addon/jobs/statements.py`).
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0019_queue_indexes"
down_revision: str | None = "0018_restored_checkouts"

# Index name -> (columns, the state its rows are in).
PARTIAL = {
    "ix_jobs_due": (["run_after", "id"], "pending"),
    "ix_jobs_lapsed": (["locked_until"], "running"),
    "ix_jobs_finished": (["finished_at"], "done"),
}


def upgrade() -> None:
    op.drop_index("ix_ecommerce_sync_records_counts", table_name="ecommerce_sync_records")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_claim")
        for name, (keys, status) in PARTIAL.items():
            where = sa.text(f"status = '{status}'")
            batch_op.create_index(name, keys, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        for name in PARTIAL:
            batch_op.drop_index(name)
        batch_op.create_index("ix_jobs_claim", ["status", "run_after"], unique=False)
    op.create_index(
        "ix_ecommerce_sync_records_counts",
        "ecommerce_sync_records",
        ["installation_id", "channel_slug", "kind"],
        unique=False,
    )
