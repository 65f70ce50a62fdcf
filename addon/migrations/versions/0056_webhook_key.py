"""A key of the installation's own that Saleor sends with its lifecycle webhooks' deliveries
(a custom header the webhook upkeep sets), and when a reading of the webhooks last showed it
in place: from then on an APP_DELETED or APP_STATUS_CHANGED without it is refused
(`addon/installations/delivery_key.py`)."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0056_webhook_key"
down_revision: str | None = "0055_product_type_names"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column("installations", sa.Column("webhook_key", sa.Text(), nullable=True))
    op.add_column("installations", columns.timestamp("webhook_key_confirmed_at", nullable=True))


def downgrade() -> None:
    op.drop_column("installations", "webhook_key_confirmed_at")
    op.drop_column("installations", "webhook_key")
