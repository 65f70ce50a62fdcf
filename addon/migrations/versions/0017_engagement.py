"""Campaign engagement collected back from Mailchimp (issue 19)."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0017_engagement"
down_revision: str | None = "0016_cart_health"

_ROWS = (
    "engagement_campaigns",
    "engagement_days",
    "engagement_members",
    "engagement_member_campaigns",
    "engagement_orders",
    "engagement_customers",
)


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False)


def upgrade() -> None:
    columns.create_installation_table(
        "engagement_settings",
        _count("activity_interval_days"),
        _count("schedule_minutes"),
        sa.Column("state", sa.String(length=20), nullable=False),
        columns.timestamp("last_started_at", nullable=True),
        columns.timestamp("last_finished_at", nullable=True),
        columns.timestamp("next_run_at", nullable=True),
        _count("campaigns_total"),
        _count("campaigns_done"),
        _count("members_seen"),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("list_cursors", sa.JSON(), nullable=False),
        columns.timestamp("customers_scanned_at", nullable=True),
        columns.updated_at(),
        keyed_by_installation=True,
    )
    columns.create_installation_table(
        "engagement_campaigns",
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        columns.list_id(),
        sa.Column("list_name", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        columns.timestamp("sent_at", nullable=False),
        _count("recipients"),
        _count("opens"),
        _count("unique_opens"),
        sa.Column("open_rate", sa.Float(), nullable=False),
        _count("clicks"),
        _count("unique_clicks"),
        sa.Column("click_rate", sa.Float(), nullable=False),
        _count("unsubscribes"),
        _count("bounces"),
        _count("orders"),
        sa.Column("revenue_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        columns.timestamp("activity_until", nullable=True),
        columns.timestamp("pass_until", nullable=True),
        _count("pass_offset"),
        _count("orders_offset"),
        columns.timestamp("report_at", nullable=True),
        columns.updated_at(),
        unique=("campaign_id",),
    )
    columns.create_installation_table(
        "engagement_days",
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        _count("opens"),
        _count("clicks"),
        unique=("campaign_id", "day"),
    )
    columns.create_installation_table(
        "engagement_members",
        sa.Column("email_hash", sa.String(length=32), nullable=False),
        sa.Column("saleor_user_id", sa.String(length=100), nullable=True),
        _count("campaigns_received"),
        _count("opens"),
        _count("clicks"),
        columns.timestamp("last_open", nullable=True),
        columns.timestamp("last_click", nullable=True),
        sa.Column("member_rating", sa.Integer(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("recent_campaigns", sa.JSON(), nullable=False),
        sa.Column("changed", sa.Boolean(), nullable=False),
        sa.Column("written_fingerprint", sa.String(length=64), nullable=True),
        columns.updated_at(),
        unique=("email_hash",),
    )
    op.create_index(
        "ix_engagement_members_customer",
        "engagement_members",
        ["installation_id", "saleor_user_id"],
        unique=False,
    )
    op.create_index(
        "ix_engagement_members_changed",
        "engagement_members",
        ["installation_id", "changed"],
        unique=False,
    )
    columns.create_installation_table(
        "engagement_member_campaigns",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        _count("opens"),
        _count("clicks"),
        columns.timestamp("last_open", nullable=True),
        columns.timestamp("last_click", nullable=True),
        columns.timestamp("counted_until", nullable=True),
        parent=("member_id", "engagement_members"),
        unique=("member_id", "campaign_id"),
    )
    columns.create_installation_table(
        "engagement_orders",
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        columns.timestamp("ordered_at", nullable=True),
        parent=("member_id", "engagement_members"),
        unique=("store_id", "order_id"),
    )
    op.create_index("ix_engagement_orders_member", "engagement_orders", ["member_id"], unique=False)
    columns.create_installation_table(
        "engagement_customers",
        sa.Column("saleor_user_id", sa.String(length=100), nullable=False),
        sa.Column("email_hash", sa.String(length=32), nullable=False),
        unique=("saleor_user_id",),
    )
    op.create_index(
        "ix_engagement_customers_hash",
        "engagement_customers",
        ["installation_id", "email_hash"],
        unique=False,
    )
    for table in _ROWS:
        columns.create_installation_index(table)


def downgrade() -> None:
    for table in reversed(_ROWS):
        columns.drop_installation_index(table)
    op.drop_index("ix_engagement_customers_hash", table_name="engagement_customers")
    op.drop_table("engagement_customers")
    op.drop_index("ix_engagement_orders_member", table_name="engagement_orders")
    op.drop_table("engagement_orders")
    op.drop_table("engagement_member_campaigns")
    op.drop_index("ix_engagement_members_changed", table_name="engagement_members")
    op.drop_index("ix_engagement_members_customer", table_name="engagement_members")
    op.drop_table("engagement_members")
    op.drop_table("engagement_days")
    op.drop_table("engagement_campaigns")
    op.drop_table("engagement_settings")
