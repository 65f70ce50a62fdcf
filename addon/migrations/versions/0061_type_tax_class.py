"""A product type's tax class as the daily product sweep last read it (`ProductTypeName.
tax_class_id`): another one changes its products' prices and sends them no event
(`addon/ecommerce/product_type_names.py`). None until the next read."""

import sqlalchemy as sa
from alembic import op

revision: str = "0061_type_tax_class"
down_revision: str | None = "0060_store_tax_digest"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(
        "product_type_names", sa.Column("tax_class_id", sa.String(length=255), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("product_type_names", "tax_class_id")
