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


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("profile_held_back")
