"""A digest of each mapped merge value the app last sent, per contact (`sent_merge_digests`,
{tag: digest}): a Mailchimp profile change carries every merge field, and a field still holding
what the app sent is not Mailchimp's change, so it is no longer written back over a newer value
the customer gave in Saleor (`profile_writeback`). Digests, not values: the app keeps no copy of
the customer's data. Contacts from before start with none: their fields are written back as
before until the app sends them again."""

import sqlalchemy as sa
from alembic import op

revision: str = "0047_sent_merge_digests"
down_revision: str | None = "0046_erased_addresses_by_saleor"

TABLE = "contact_states"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(
        TABLE,
        sa.Column("sent_merge_digests", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )


def downgrade() -> None:
    op.drop_column(TABLE, "sent_merge_digests")
