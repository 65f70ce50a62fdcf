"""The addresses each Saleor customer moved away from (e-mail changes), so an erasure of the
customer reaches the contact Mailchimp kept at each."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0052_customer_past_addresses"
down_revision: str | None = "0051_registration_consents"

TABLE = "customer_past_addresses"


def upgrade() -> None:
    columns.create_installation_table(
        TABLE,
        sa.Column("saleor_user_id", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        columns.timestamp("recorded_at", nullable=False),
        unique=("saleor_user_id", "email"),
    )


def downgrade() -> None:
    op.drop_table(TABLE)
