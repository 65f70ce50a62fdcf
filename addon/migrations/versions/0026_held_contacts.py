"""A contact held at its old address: Mailchimp refused the customer's new one, so the contact
stays where it was until the customer's address moves it (`held_for` names that address)."""

import sqlalchemy as sa
from alembic import op

revision: str = "0026_held_contacts"
down_revision: str | None = "0025_engagement_write_window"

TABLE = "contact_states"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(TABLE, sa.Column("held_for", sa.String(length=320), nullable=True))
    op.create_index("ix_contact_states_held_for", TABLE, ["installation_id", "held_for"])


def downgrade() -> None:
    op.drop_index("ix_contact_states_held_for", table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("held_for")
