"""The voucher code Saleor refused on a restored cart's copy, with its reason (`addon/ecommerce/
restore.py`): every exchange of the cart's links names it while the copy has no code, not only
the first."""

import sqlalchemy as sa
from alembic import op

revision: str = "0054_restored_voucher"
down_revision: str | None = "0053_channel_inactive"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(
        "restored_checkouts", sa.Column("dropped_voucher_code", sa.String(255), nullable=True)
    )
    op.add_column(
        "restored_checkouts", sa.Column("dropped_voucher_reason", sa.String(64), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("restored_checkouts", "dropped_voucher_reason")
    op.drop_column("restored_checkouts", "dropped_voucher_code")
