"""Initial sync of a channel's history: the sync runs and their Mailchimp batches.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "initial_syncs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("channel_slug", sa.String(length=255), nullable=False),
        sa.Column("active_channel", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("phase_read", sa.Boolean(), nullable=False),
        sa.Column("orders_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("store_flagged", sa.Boolean(), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_progress_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_initial_syncs_installation_id_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initial_syncs")),
        sa.UniqueConstraint("installation_id", "active_channel", name="uq_initial_syncs_active"),
    )
    with op.batch_alter_table("initial_syncs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_initial_syncs_channel", ["installation_id", "channel_slug"], unique=False
        )
    op.create_table(
        "initial_sync_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("sync_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("mailchimp_batch_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("operations", sa.JSON(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_initial_sync_batches_installation_id_installations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sync_id"],
            ["initial_syncs.id"],
            name=op.f("fk_initial_sync_batches_sync_id_initial_syncs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initial_sync_batches")),
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
