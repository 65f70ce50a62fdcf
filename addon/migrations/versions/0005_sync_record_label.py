"""A short human label on each e-commerce ledger row (product title, customer e-mail, order
number, checkout e-mail); also merges the audiences (0003) and e-commerce (0004) heads.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = ("0003", "0004")


def upgrade() -> None:
    with op.batch_alter_table("ecommerce_sync_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ecommerce_sync_records", schema=None) as batch_op:
        batch_op.drop_column("label")
