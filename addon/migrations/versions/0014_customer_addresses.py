"""The address each Saleor customer had when the app last heard of them (e-mail changes)."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0014_customer_addresses"
down_revision: str | None = "0013_erasure_settings"


def upgrade() -> None:
    columns.create_installation_table(
        "customer_addresses",
        sa.Column("saleor_user_id", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        columns.updated_at(),
        unique=("saleor_user_id",),
    )
    columns.create_installation_index("customer_addresses")


def downgrade() -> None:
    columns.drop_installation_index("customer_addresses")
    op.drop_table("customer_addresses")
