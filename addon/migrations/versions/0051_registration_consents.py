"""Registration consent: each one the app saw, applied only in part while the account was
unconfirmed or in full (`registration_consents`), so a confirmation Saleor reports as
CUSTOMER_UPDATED (staff, the catch-up) applies it in full, once."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0051_registration_consents"
down_revision: str | None = "0050_restore_claims"

TABLE = "registration_consents"


def upgrade() -> None:
    columns.create_installation_table(
        TABLE,
        sa.Column("saleor_user_id", sa.String(length=100), nullable=False),
        sa.Column("consent_digest", sa.String(length=64), nullable=False),
        columns.timestamp("applied_at", nullable=True),
        columns.timestamp("created_at", nullable=False),
        unique=("saleor_user_id", "consent_digest"),
    )


def downgrade() -> None:
    op.drop_table(TABLE)
