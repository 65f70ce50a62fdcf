"""The merge fields the app last sent a value for, per contact (`sent_merge_tags`): a value the
customer then removes in Saleor is cleared in Mailchimp (sent as ""), where before it stayed
there for good; a field the app never filled (a value typed in Mailchimp) is left alone.
Contacts from before start with none: their values are cleared once sent again."""

import sqlalchemy as sa
from alembic import op

revision: str = "0031_sent_merge_tags"
down_revision: str | None = "0030_webhooks_digest"

TABLE = "contact_states"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(
        TABLE,
        sa.Column("sent_merge_tags", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade() -> None:
    op.drop_column(TABLE, "sent_merge_tags")
