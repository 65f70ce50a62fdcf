"""A re-created Mailchimp store is sent the channel's records again under `is_syncing`, which
pauses the store's automations, until the last of them has gone (`addon/ecommerce/resend.py`):
before, every old order reached the new store as new, where order notifications and other
automations could e-mail shoppers about purchases long past."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0032_store_resend"
down_revision: str | None = "0031_sent_merge_tags"

TABLE = "mailchimp_stores"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(TABLE, columns.timestamp("resend_started_at", nullable=True))
    op.add_column(TABLE, sa.Column("resend_up_to", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column(TABLE, "resend_up_to")
    op.drop_column(TABLE, "resend_started_at")
