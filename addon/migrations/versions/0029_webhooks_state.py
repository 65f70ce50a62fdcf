"""What the app last saw of an installation's webhooks in Saleor (`webhook_upkeep`, run at every
lifecycle check): when, and which of them a staff member paused (their events reach nobody; the
Activity page says so and can turn them back on)."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0029_webhooks_state"
down_revision: str | None = "0028_profile_held_back"

TABLE = "installations"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(TABLE, columns.timestamp("webhooks_checked_at", nullable=True))
    op.add_column(TABLE, sa.Column("webhooks_paused", sa.JSON(), nullable=True))


def downgrade() -> None:
    # The versions before have no handler for the upkeep's jobs.
    op.execute(sa.text("DELETE FROM jobs WHERE kind = 'installation.webhooks'"))
    # Plain DROP COLUMN too: a batch rebuild of `installations` would delete what references it.
    op.drop_column(TABLE, "webhooks_paused")
    op.drop_column(TABLE, "webhooks_checked_at")
