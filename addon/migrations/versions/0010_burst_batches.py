"""Live sync's bursts: records pushed as one Mailchimp batch, until its results are applied."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0010_burst_batches"
down_revision: str | None = "0009_merge"


def upgrade() -> None:
    columns.create_installation_table(
        "ecommerce_burst_batches",
        columns.channel_slug(),
        sa.Column("kind", sa.String(length=20), nullable=False),
        columns.status(),
        sa.Column(
            "leader_job_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("mailchimp_batch_id", sa.String(length=64), nullable=True),
        sa.Column("records", sa.JSON(), nullable=False),
        columns.timestamp("read_at", nullable=False),
        columns.timestamp("submitted_at", nullable=True),
        sa.Column("polls", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_ecommerce_burst_batches_status",
        "ecommerce_burst_batches",
        ["installation_id", "status"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_ecommerce_burst_batches_status", table_name="ecommerce_burst_batches")
    op.drop_table("ecommerce_burst_batches")
