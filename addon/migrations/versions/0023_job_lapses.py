"""Runs of a job that ended without an outcome, in a row (`jobs.lapses`).

A job whose worker died while running it (out of memory, say) is claimed again once its lease
lapses; a job that kills every worker running it was claimed again for ever, one worker after
another. The count lets the worker quarantine it after `WORKER_MAX_LAPSES` such runs.
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0023_job_lapses"
down_revision: str | None = "0022_pushes_due"


def upgrade() -> None:
    op.add_column(
        "jobs", sa.Column("lapses", sa.Integer(), nullable=False, server_default=sa.text("0"))
    )


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("lapses")
