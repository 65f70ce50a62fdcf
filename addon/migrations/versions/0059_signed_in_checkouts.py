"""Checkouts whose consent their signed-in user gave (`signed_in_checkouts`): the order an app
places from one proves the user's address though its PLACED event names nobody."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0059_signed_in_checkouts"
down_revision: str | None = "0058_shown_groups_revision"

TABLE = "signed_in_checkouts"


def upgrade() -> None:
    columns.create_installation_table(
        TABLE,
        sa.Column("checkout_id", sa.String(length=100), nullable=False),
        sa.Column("saleor_user_id", sa.String(length=100), nullable=True),
        columns.timestamp("seen_at", nullable=False),
        unique=("checkout_id",),
    )
    op.create_index("ix_signed_in_checkouts_seen", TABLE, ["installation_id", "seen_at"])


def downgrade() -> None:
    op.drop_table(TABLE)
