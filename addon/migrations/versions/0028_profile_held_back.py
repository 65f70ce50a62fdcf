"""A contact's customer update held back while a change from Mailchimp waited (two-way,
Mailchimp wins): the change's job sends it once applied, and only then."""

import sqlalchemy as sa
from alembic import op

revision: str = "0028_profile_held_back"
down_revision: str | None = "0027_engagement_run_holder"

TABLE = "contact_states"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(
        TABLE,
        sa.Column("profile_held_back", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # Contacts with a Mailchimp change pending now may have had an update held back already:
    # the change's job sends one (at most one needless update each).
    contacts = sa.table(
        TABLE,
        sa.column("profile_held_back", sa.Boolean()),
        sa.column("mailchimp_changed_at"),
        sa.column("synced_at"),
    )
    changed, synced = contacts.c.mailchimp_changed_at, contacts.c.synced_at
    pending = changed.is_not(None) & (synced.is_(None) | (changed > synced))
    op.execute(contacts.update().where(pending).values(profile_held_back=True))


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("profile_held_back")
