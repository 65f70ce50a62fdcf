"""What a channel's product prices depend on of Saleor's tax settings, as the daily product sweep
last read them (`MailchimpStore.tax_digest`): a change re-prices the channel
(`addon/ecommerce/tax_settings.py`)."""

import sqlalchemy as sa
from alembic import op

revision: str = "0060_store_tax_digest"
down_revision: str | None = "0059_signed_in_checkouts"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column("mailchimp_stores", sa.Column("tax_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("mailchimp_stores", "tax_digest")
