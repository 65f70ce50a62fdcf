"""Initial sync of a channel's history: the sync runs and their Mailchimp batches."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0006"
down_revision: str | None = "0005"


def upgrade() -> None:
    columns.create_installation_table(
        "initial_syncs",
        columns.channel_slug(),
        sa.Column("active_channel", sa.String(length=255), nullable=True),
        columns.status(),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("phase_read", sa.Boolean(), nullable=False),
        columns.timestamp("orders_since", nullable=True),
        sa.Column("store_flagged", sa.Boolean(), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        columns.timestamp("started_at", nullable=False),
        columns.timestamp("last_progress_at", nullable=False),
        columns.timestamp("finished_at", nullable=True),
        unique=("active_channel",),
        unique_name="uq_initial_syncs_active",
    )
    op.create_index(
        "ix_initial_syncs_channel",
        "initial_syncs",
        ["installation_id", "channel_slug"],
        unique=False,
    )
    columns.create_installation_table(
        "initial_sync_batches",
        sa.Column("sync_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("mailchimp_batch_id", sa.String(length=64), nullable=False),
        columns.status(),
        sa.Column("operations", sa.JSON(), nullable=False),
        columns.timestamp("read_at", nullable=False),
        columns.timestamp("submitted_at", nullable=False),
        sa.Column("polls", sa.Integer(), nullable=False),
        columns.timestamp("applied_at", nullable=True),
        parent=("sync_id", "initial_syncs"),
    )
    op.create_index(
        "ix_initial_sync_batches_sync", "initial_sync_batches", ["sync_id", "status"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_initial_sync_batches_sync", table_name="initial_sync_batches")
    op.drop_table("initial_sync_batches")
    op.drop_index("ix_initial_syncs_channel", table_name="initial_syncs")
    op.drop_table("initial_syncs")
