"""When an engagement run wrote customers' metadata: the next customer scan skips that window
(since Saleor 3.23 a metadata write sets the customer's `updatedAt`)."""

from alembic import op

from addon.migrations import columns

revision: str = "0025_engagement_write_window"
down_revision: str | None = "0024_erased_addresses"

TABLE = "engagement_settings"
COLUMNS = ("customers_written_from", "customers_written_until")


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    for name in COLUMNS:
        op.add_column(TABLE, columns.timestamp(name, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        for name in COLUMNS:
            batch.drop_column(name)
