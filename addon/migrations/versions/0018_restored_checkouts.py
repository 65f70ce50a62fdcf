"""Cart restore (issue 17): the checkout each restore link was exchanged for, so a second
exchange of the link returns the same checkout while it is still there."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0018_restored_checkouts"
down_revision: str | None = "0017_engagement"


def upgrade() -> None:
    columns.create_installation_table(
        "restored_checkouts",
        sa.Column("checkout_id", sa.String(length=255), nullable=False),
        sa.Column("restored_token_encrypted", sa.Text(), nullable=False),
        columns.channel_slug(),
        sa.Column("dropped_lines", sa.Integer(), nullable=False),
        columns.timestamp("created_at", nullable=False),
        unique=("checkout_id",),
    )
    columns.create_installation_index("restored_checkouts")


def downgrade() -> None:
    columns.drop_installation_index("restored_checkouts")
    op.drop_table("restored_checkouts")
