"""Orders go to Mailchimp under their number (#1042), which Mailchimp shows in order
notifications and reports, not their Saleor UUID (`sale_payloads.order_id`). Orders a store may
already hold under their UUID keep it: those the ledger knows by their id, and those placed
before this migration, which an earlier version may have sent (a previous installation's, say):
every existing store is marked so as of now (`uuid_orders_before`)."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0033_order_numbers"
down_revision: str | None = "0032_store_resend"

TABLE = "mailchimp_stores"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(TABLE, columns.timestamp("uuid_orders_before", nullable=True))
    op.execute(sa.text("UPDATE mailchimp_stores SET uuid_orders_before = CURRENT_TIMESTAMP"))


def downgrade() -> None:
    op.drop_column(TABLE, "uuid_orders_before")
