"""A tracked channel Saleor no longer has (`addon/ecommerce/channel_presence.py`): the channel's
Saleor id, to find it under a new slug, and since when its slug is missing from Saleor."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0041_store_channel"
down_revision: str | None = "0040_missed_creations"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column("mailchimp_stores", sa.Column("channel_id", sa.String(255), nullable=True))
    op.add_column("mailchimp_stores", columns.timestamp("channel_missing_since", nullable=True))


def downgrade() -> None:
    op.drop_column("mailchimp_stores", "channel_missing_since")
    op.drop_column("mailchimp_stores", "channel_id")
