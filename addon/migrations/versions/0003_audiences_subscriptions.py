"""Audiences, groups, newsletter settings and contact states.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _installation_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["installation_id"],
        ["installations.id"],
        name=op.f(f"fk_{table}_installation_id_installations"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "audiences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("double_optin", sa.Boolean(), nullable=False),
        sa.Column("marketing_permissions_enabled", sa.Boolean(), nullable=False),
        sa.Column("marketing_permissions", sa.JSON(), nullable=False),
        sa.Column("merge_fields", sa.JSON(), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("webhook_id", sa.String(length=64), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        _installation_fk("audiences"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audiences")),
        sa.UniqueConstraint(
            "installation_id", "list_id", name=op.f("uq_audiences_installation_id_list_id")
        ),
    )
    op.create_index(
        op.f("ix_audiences_installation_id"), "audiences", ["installation_id"], unique=False
    )
    op.create_table(
        "audience_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.String(length=64), nullable=False),
        sa.Column("category_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("display_order", sa.Integer(), nullable=False),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("offered", sa.Boolean(), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        _installation_fk("audience_groups"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audience_groups")),
        sa.UniqueConstraint(
            "installation_id",
            "list_id",
            "category_id",
            name=op.f("uq_audience_groups_installation_id_list_id_category_id"),
        ),
    )
    op.create_index(
        op.f("ix_audience_groups_installation_id"),
        "audience_groups",
        ["installation_id"],
        unique=False,
    )
    op.create_table(
        "newsletter_settings",
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("default_list_id", sa.String(length=64), nullable=True),
        sa.Column("allow_multiple", sa.Boolean(), nullable=False),
        sa.Column("double_optin", sa.String(length=20), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("allowed_origins", sa.JSON(), nullable=False),
        sa.Column("two_way", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("webhook_secret", sa.Text(), nullable=True),
        sa.Column("last_import_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_import_error", sa.String(length=1000), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _installation_fk("newsletter_settings"),
        sa.PrimaryKeyConstraint("installation_id", name=op.f("pk_newsletter_settings")),
    )
    op.create_table(
        "contact_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("saleor_user_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("marketing_permissions", sa.JSON(), nullable=False),
        sa.Column("store_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mailchimp_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_change_source", sa.String(length=30), nullable=True),
        sa.Column("last_change_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_problem", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _installation_fk("contact_states"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_states")),
        sa.UniqueConstraint(
            "installation_id",
            "list_id",
            "email",
            name=op.f("uq_contact_states_installation_id_list_id_email"),
        ),
    )
    op.create_index(
        op.f("ix_contact_states_installation_id"),
        "contact_states",
        ["installation_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_contact_states_installation_id"), table_name="contact_states")
    op.drop_table("contact_states")
    op.drop_table("newsletter_settings")
    op.drop_index(op.f("ix_audience_groups_installation_id"), table_name="audience_groups")
    op.drop_table("audience_groups")
    op.drop_index(op.f("ix_audiences_installation_id"), table_name="audiences")
    op.drop_table("audiences")
