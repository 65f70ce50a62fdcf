"""E-commerce settings, tracked-channel columns on Mailchimp stores, and the sync ledger."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0004"
down_revision: str | None = "0002"


def upgrade() -> None:
    columns.create_installation_table(
        "ecommerce_settings",
        sa.Column("tracking_enabled", sa.Boolean(), nullable=False),
        sa.Column("abandoned_carts_enabled", sa.Boolean(), nullable=False),
        sa.Column("product_url_template", sa.String(length=1024), nullable=True),
        sa.Column("checkout_url_template", sa.String(length=1024), nullable=True),
        sa.Column("store_email", sa.String(length=255), nullable=True),
        columns.updated_at(),
        keyed_by_installation=True,
    )
    with op.batch_alter_table("mailchimp_stores", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tracked", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("name", sa.String(length=255), nullable=False, server_default="")
        )
    columns.create_installation_table(
        "ecommerce_sync_records",
        columns.channel_slug(),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("saleor_id", sa.String(length=255), nullable=False),
        sa.Column("mailchimp_id", sa.String(length=64), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("children", sa.JSON(), nullable=False),
        columns.status(),
        sa.Column("attempts", sa.Integer(), nullable=False),
        columns.timestamp("next_attempt_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        columns.timestamp("pushed_at", nullable=True),
        columns.updated_at(),
        unique=(
            "channel_slug",
            "kind",
            "saleor_id",
        ),
        unique_name="uq_ecommerce_sync_entity",
    )
    op.create_index(
        "ix_ecommerce_sync_records_counts",
        "ecommerce_sync_records",
        ["installation_id", "channel_slug", "kind"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_ecommerce_sync_records_counts", table_name="ecommerce_sync_records")
    op.drop_table("ecommerce_sync_records")
    with op.batch_alter_table("mailchimp_stores", schema=None) as batch_op:
        batch_op.drop_column("name")
        batch_op.drop_column("tracked")
    op.drop_table("ecommerce_settings")
