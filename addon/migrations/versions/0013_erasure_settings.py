"""Erasure: whether erasing a customer deletes their orders in Mailchimp too."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0013_erasure_settings"
down_revision: str | None = "0012_marketing_fields"


def upgrade() -> None:
    columns.create_installation_table(
        "erasure_settings",
        sa.Column("delete_orders", sa.Boolean(), nullable=False),
        columns.updated_at(),
        keyed_by_installation=True,
    )


def downgrade() -> None:
    op.drop_table("erasure_settings")
