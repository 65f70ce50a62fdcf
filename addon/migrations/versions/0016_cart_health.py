"""Abandoned-cart health, cart restore and site scripts (issue 17): each installation's key for
cart restore links, and what Mailchimp last reported about each tracked channel's store."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0016_cart_health"
down_revision: str | None = "0015_promotions"


def upgrade() -> None:
    columns.create_installation_table(
        "cart_restore_keys",
        sa.Column("key_encrypted", sa.Text(), nullable=False),
        columns.timestamp("created_at", nullable=False),
        keyed_by_installation=True,
    )
    columns.create_installation_table(
        "mailchimp_store_checks",
        columns.channel_slug(),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("is_syncing", sa.Boolean(), nullable=False),
        sa.Column("cart_automation_supported", sa.Boolean(), nullable=False),
        sa.Column("cart_automation_id", sa.String(length=64), nullable=True),
        sa.Column("cart_automation_status", sa.String(length=20), nullable=True),
        sa.Column("site_foreign_id", sa.String(length=255), nullable=True),
        sa.Column("script_url", sa.String(length=1024), nullable=True),
        sa.Column("script_fragment", sa.Text(), nullable=True),
        columns.timestamp("script_verified_at", nullable=True),
        columns.timestamp("checked_at", nullable=False),
        unique=("channel_slug",),
    )
    columns.create_installation_index("mailchimp_store_checks")


def downgrade() -> None:
    columns.drop_installation_index("mailchimp_store_checks")
    op.drop_table("mailchimp_store_checks")
    op.drop_table("cart_restore_keys")
