"""The web processes' heartbeat (`addon/installations/outage.py`): a receiver down longer than
Saleor retries a delivery has what Saleor changed meanwhile replayed."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0038_webhook_receiver"
down_revision: str | None = "0037_missed_deliveries"


def upgrade() -> None:
    op.create_table(
        "webhook_receiver",
        columns.id_column(),
        columns.timestamp("alive_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_receiver")),
    )


def downgrade() -> None:
    op.drop_table("webhook_receiver")
