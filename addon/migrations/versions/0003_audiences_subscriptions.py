"""Audiences, groups, newsletter settings and contact states."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0003"
down_revision: str | None = "0002"


def upgrade() -> None:
    columns.create_installation_table(
        "audiences",
        columns.list_id(),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("double_optin", sa.Boolean(), nullable=False),
        sa.Column("marketing_permissions_enabled", sa.Boolean(), nullable=False),
        sa.Column("marketing_permissions", sa.JSON(), nullable=False),
        sa.Column("merge_fields", sa.JSON(), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        columns.timestamp("removed_at", nullable=True),
        sa.Column("webhook_id", sa.String(length=64), nullable=True),
        columns.timestamp("imported_at", nullable=False),
        unique=("list_id",),
    )
    columns.create_installation_index("audiences")
    columns.create_installation_table(
        "audience_groups",
        columns.list_id(),
        sa.Column("category_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("display_order", sa.Integer(), nullable=False),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("offered", sa.Boolean(), nullable=False),
        columns.timestamp("removed_at", nullable=True),
        unique=(
            "list_id",
            "category_id",
        ),
    )
    columns.create_installation_index("audience_groups")
    columns.create_installation_table(
        "newsletter_settings",
        sa.Column("default_list_id", sa.String(length=64), nullable=True),
        sa.Column("allow_multiple", sa.Boolean(), nullable=False),
        sa.Column("double_optin", sa.String(length=20), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("allowed_origins", sa.JSON(), nullable=False),
        sa.Column("two_way", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("webhook_secret", sa.Text(), nullable=True),
        columns.timestamp("last_import_at", nullable=True),
        sa.Column("last_import_error", sa.String(length=1000), nullable=True),
        columns.updated_at(),
        keyed_by_installation=True,
    )
    columns.create_installation_table(
        "contact_states",
        columns.list_id(),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("saleor_user_id", sa.String(length=100), nullable=True),
        columns.status(),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("marketing_permissions", sa.JSON(), nullable=False),
        columns.timestamp("store_changed_at", nullable=True),
        columns.timestamp("mailchimp_changed_at", nullable=True),
        columns.timestamp("synced_at", nullable=True),
        sa.Column("last_change_source", sa.String(length=30), nullable=True),
        columns.timestamp("last_change_at", nullable=True),
        sa.Column("last_problem", sa.Text(), nullable=True),
        columns.updated_at(),
        unique=(
            "list_id",
            "email",
        ),
    )
    columns.create_installation_index("contact_states")


def downgrade() -> None:
    columns.drop_installation_index("contact_states")
    op.drop_table("contact_states")
    op.drop_table("newsletter_settings")
    columns.drop_installation_index("audience_groups")
    op.drop_table("audience_groups")
    columns.drop_installation_index("audiences")
    op.drop_table("audiences")
