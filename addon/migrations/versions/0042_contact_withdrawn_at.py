"""When a contact last left an audience (unsubscribed, cleaned, archived): a consent given before
does not bring them back (`addon/subscriptions/consent.py`). Contacts that left before this
migration take their row's last update, the latest it can have been."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0042_contact_withdrawn_at"
down_revision: str | None = "0041_store_channel"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column("contact_states", columns.timestamp("withdrawn_at", nullable=True))
    contacts = sa.table(
        "contact_states", sa.column("status"), sa.column("updated_at"), sa.column("withdrawn_at")
    )
    op.execute(
        contacts.update()
        .where(contacts.c.status.in_(["unsubscribed", "cleaned", "archived"]))
        .values(withdrawn_at=contacts.c.updated_at)
    )


def downgrade() -> None:
    op.drop_column("contact_states", "withdrawn_at")
