"""Erased addresses (their subscriber hash) and when: orders placed at one before its erasure
never go to Mailchimp again (`addon.ecommerce.erased`)."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0024_erased_addresses"
down_revision: str | None = "0023_job_lapses"

TABLE = "ecommerce_erased_addresses"


def upgrade() -> None:
    columns.create_installation_table(
        TABLE,
        sa.Column("email_hash", sa.String(length=32), nullable=False),
        columns.timestamp("erased_at", nullable=False),
        unique=("email_hash",),
    )


def downgrade() -> None:
    op.drop_table(TABLE)
