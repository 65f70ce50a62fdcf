"""The ledger's pages half free on PostgreSQL, so that updating a record writes no index entry
(issue 15).

A record is updated at every push, and three times for each change a burst carries (marked
pending, relabelled, settled). With full pages (PostgreSQL's default fillfactor, 100) each new
version went to another page, with an entry in both of the table's indexes (the unique key is
four columns wide), and the table grew with every drain until a vacuum. With half of each page
free, the new version fits beside the old one: a heap-only (HOT) update, as no column an
update changes is indexed. Measured on a copy of the burst benchmark's 10,000 records, three
drains' worth of those updates: 630 to 990 ms a drain at fillfactor 100 and the table grown to
3,545 pages; 290 to 466 ms at 50, the table staying at 1,044 pages.

Only pages filled from now on follow it (no rewrite, which would lock the table): an existing
store's pages gain the room as their records are updated and vacuumed. SQLite has no such
setting.
"""

from alembic import op

revision: str = "0021_ledger_fillfactor"
down_revision: str | None = "0020_redundant_indexes"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE ecommerce_sync_records SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE ecommerce_sync_records RESET (fillfactor)")
