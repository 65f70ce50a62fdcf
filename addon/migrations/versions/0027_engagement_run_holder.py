"""The job that holds an installation's engagement collection: two collection jobs claimed
together (the periodic one and one asked for now) each saw the other running and both put
themselves off, again and again."""

import sqlalchemy as sa
from alembic import op

revision: str = "0027_engagement_run_holder"
down_revision: str | None = "0026_held_contacts"

TABLE = "engagement_settings"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes). No foreign
    # key: finished jobs are purged, and a holder that is no running job holds nothing.
    op.add_column(
        TABLE,
        sa.Column(
            "run_job_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("run_job_id")
