"""Initial sync of a channel's history: the sync runs and their Mailchimp batches."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0006"
down_revision: str | None = "0005"


def upgrade() -> None:
    columns.create_installation_table(
        "initial_syncs",
        sa.Column("channel_slug", sa.String(length=255), nullable=False),
        sa.Column("active_channel", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
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
    with op.batch_alter_table("initial_syncs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_initial_syncs_channel", ["installation_id", "channel_slug"], unique=False
        )
    columns.create_installation_table(
        "initial_sync_batches",
        sa.Column("sync_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("mailchimp_batch_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("operations", sa.JSON(), nullable=False),
        columns.timestamp("read_at", nullable=False),
        columns.timestamp("submitted_at", nullable=False),
        sa.Column("polls", sa.Integer(), nullable=False),
        columns.timestamp("applied_at", nullable=True),
        parent=("sync_id", "initial_syncs"),
    )
    with op.batch_alter_table("initial_sync_batches", schema=None) as batch_op:
        batch_op.create_index("ix_initial_sync_batches_sync", ["sync_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("initial_sync_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_initial_sync_batches_sync")
    op.drop_table("initial_sync_batches")
    with op.batch_alter_table("initial_syncs", schema=None) as batch_op:
        batch_op.drop_index("ix_initial_syncs_channel")
    op.drop_table("initial_syncs")
