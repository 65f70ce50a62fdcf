"""The fingerprint of the webhooks an installation should have, stored when the app last made its
webhooks so (`addon.installations.webhook_upkeep`). None for every installation made before: the
next lifecycle check brings their webhooks to the app's current documents, once."""

import sqlalchemy as sa
from alembic import op

revision: str = "0029_webhooks_fingerprint"
down_revision: str | None = "0028_profile_held_back"

TABLE = "installations"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(TABLE, sa.Column("webhooks_fingerprint", sa.String(64), nullable=True))


def downgrade() -> None:
    # The versions before have no handler for the upkeep's jobs.
    op.execute(sa.text("DELETE FROM jobs WHERE kind = 'installation.webhooks'"))
    # Plain DROP COLUMN too: a batch rebuild of `installations` would delete what references it.
    op.drop_column(TABLE, "webhooks_fingerprint")
