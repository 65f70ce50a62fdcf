"""An initial sync waits for the pushes it handed to live sync before it clears the store's
`is_syncing` (`addon/initial_sync/handoff.py`): since when it has been waiting."""

from alembic import op

from addon.migrations import columns

revision: str = "0036_initial_sync_handoffs"
down_revision: str | None = "0035_order_links"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column("initial_syncs", columns.timestamp("draining_since", nullable=True))


def downgrade() -> None:
    op.drop_column("initial_syncs", "draining_since")
