"""Cart restore: the exchanges of a restore link under way (`cart_restore_claims`), so two
exchanges of one link at the same moment make one copy of the cart, not two (each a cart, and a
series of abandoned-cart e-mails, in Mailchimp)."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0050_restore_claims"
down_revision: str | None = "0049_forgotten_account"

TABLE = "cart_restore_claims"


def upgrade() -> None:
    columns.create_installation_table(
        TABLE,
        sa.Column("checkout_id", sa.String(length=255), nullable=False),
        columns.timestamp("claimed_at", nullable=False),
        unique=("checkout_id",),
    )


def downgrade() -> None:
    op.drop_table(TABLE)
