"""Mailchimp connections, OAuth states and Mailchimp stores."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0002"
down_revision: str | None = "0001"


def upgrade() -> None:
    columns.create_installation_table(
        "mailchimp_connections",
        columns.status(),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("credential", sa.Text(), nullable=True),
        sa.Column("dc", sa.String(length=20), nullable=True),
        sa.Column("account_id", sa.String(length=64), nullable=True),
        sa.Column("account_name", sa.String(length=255), nullable=True),
        sa.Column("login_email", sa.String(length=255), nullable=True),
        sa.Column("role", sa.String(length=50), nullable=True),
        columns.timestamp("connected_at", nullable=True),
        columns.timestamp("last_checked_at", nullable=True),
        sa.Column("last_check_ok", sa.Boolean(), nullable=True),
        sa.Column("last_check_message", sa.Text(), nullable=True),
        columns.updated_at(),
        keyed_by_installation=True,
    )
    columns.create_installation_table(
        "mailchimp_stores",
        columns.channel_slug(),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        columns.list_id(),
        sa.Column("currency_code", sa.String(length=3), nullable=False),
        columns.timestamp("created_at", nullable=False),
        unique=("channel_slug",),
    )
    columns.create_installation_index("mailchimp_stores")

    op.create_table(
        "oauth_states",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        columns.installation_id(),
        sa.Column("method", sa.String(length=20), nullable=False),
        columns.timestamp("created_at", nullable=False),
        columns.timestamp("expires_at", nullable=False),
        columns.timestamp("used_at", nullable=True),
        columns.installation_fk("oauth_states"),
        columns.primary_key("oauth_states", "state_hash"),
    )
    columns.create_installation_index("oauth_states")


def downgrade() -> None:
    columns.drop_installation_index("oauth_states")

    op.drop_table("oauth_states")
    columns.drop_installation_index("mailchimp_stores")

    op.drop_table("mailchimp_stores")
    op.drop_table("mailchimp_connections")
