"""A tracked channel's state as Saleor's channel list last showed it (`addon/ecommerce/
channel_presence.py` `note_activity`): since when it is deactivated, so that its deactivation,
and its activation again, re-push its products (hidden while it sells nothing)."""

from alembic import op

from addon.migrations import columns

revision: str = "0053_channel_inactive"
down_revision: str | None = "0052_customer_past_addresses"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column("mailchimp_stores", columns.timestamp("channel_inactive_since", nullable=True))


def downgrade() -> None:
    op.drop_column("mailchimp_stores", "channel_inactive_since")
