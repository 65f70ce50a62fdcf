"""Which version's groups keys the customers' public metadata holds (`NewsletterSettings.
shown_groups_revision`): installations from before hidden groups left the public key start at 0,
so the next audience import writes their customers' keys again (`addon/audiences/service.py`)."""

import sqlalchemy as sa
from alembic import op

revision: str = "0058_shown_groups_revision"
down_revision: str | None = "0057_webhook_key_room"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(
        "newsletter_settings",
        sa.Column("shown_groups_revision", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("newsletter_settings", "shown_groups_revision")
