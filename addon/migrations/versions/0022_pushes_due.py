"""The due pushes of each installation in the order a burst takes them over (issue 15).

A burst's take-over reads an installation's due `ecommerce.push` jobs oldest first, up to its
limit, with sorting off (as a claim). Through the jobs' due index, which holds every
installation's due jobs in that order, it read each older due job of every other installation
first: on a server several stores share, one store's flash sale made the other's take-overs
read its whole backlog. This partial index holds pending pushes only, by installation.
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0022_pushes_due"
down_revision: str | None = "0021_ledger_fillfactor"

PUSHES_DUE = sa.text("status = 'pending' AND kind = 'ecommerce.push'")


def upgrade() -> None:
    op.create_index(
        "ix_jobs_pushes_due",
        "jobs",
        ["installation_id", "run_after", "id"],
        sqlite_where=PUSHES_DUE,
        postgresql_where=PUSHES_DUE,
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_pushes_due", table_name="jobs")
