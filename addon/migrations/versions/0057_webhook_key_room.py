"""The lifecycle webhooks with no room for the installation's delivery key (a staff member gave
them as many custom headers as Saleor allows), as the webhook upkeep last read them: the Activity
page says which, and that the admin must remove a header (`addon/installations/delivery_key.py`)."""

import sqlalchemy as sa
from alembic import op

revision: str = "0057_webhook_key_room"
down_revision: str | None = "0056_webhook_key"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column("installations", sa.Column("webhooks_key_blocked", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("installations", "webhooks_key_blocked")
