"""Promo rules and codes sent for Saleor vouchers (issue 17): the admin's choice of vouchers and
the redemption link, and the orders counted for each code's usage."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0015_promotions"
down_revision: str | None = "0014_customer_addresses"


def upgrade() -> None:
    columns.create_installation_table(
        "ecommerce_promo_settings",
        sa.Column("offer", sa.String(length=20), nullable=False),
        sa.Column("flag_key", sa.String(length=255), nullable=False),
        sa.Column("redemption_url_template", sa.String(length=1024), nullable=True),
        columns.updated_at(),
        keyed_by_installation=True,
    )
    columns.create_installation_table(
        "ecommerce_promo_usages",
        columns.channel_slug(),
        sa.Column("code", sa.String(length=255), nullable=False),
        sa.Column("order_id", sa.String(length=255), nullable=False),
        columns.timestamp("created_at", nullable=False),
        unique=("channel_slug", "code", "order_id"),
    )
    columns.create_installation_index("ecommerce_promo_usages")


def downgrade() -> None:
    columns.drop_installation_index("ecommerce_promo_usages")
    op.drop_table("ecommerce_promo_usages")
    op.drop_table("ecommerce_promo_settings")
