"""Saleor's product type names as the daily product sweep last read them, so a rename (which
sends products no event) re-pushes the type's products (`addon/ecommerce/product_type_names.py`)."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0055_product_type_names"
down_revision: str | None = "0054_restored_voucher"

TABLE = "product_type_names"


def upgrade() -> None:
    columns.create_installation_table(
        TABLE,
        sa.Column("type_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        unique=("type_id",),
    )


def downgrade() -> None:
    op.drop_table(TABLE)
