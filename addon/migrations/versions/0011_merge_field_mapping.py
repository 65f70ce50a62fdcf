"""Merge-field mapping: what fills each merge field of an audience (or its tags), and the tags a
contact was given from customer data (so a changed value removes the tags it no longer holds).
"""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0011_merge_field_mapping"
down_revision: str | None = "0010_burst_batches"


def upgrade() -> None:
    columns.create_installation_table(
        "audience_field_mappings",
        columns.list_id(),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("merge_tag", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        unique=("list_id", "target", "merge_tag"),
    )
    columns.create_installation_index("audience_field_mappings")
    # Plain ALTER TABLE (no SQLite table rebuild, which would cascade-delete through the FKs).
    op.add_column(
        "contact_states",
        sa.Column("data_tags", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )
    op.add_column("contact_states", sa.Column("profile_digest", sa.String(length=64)))


def downgrade() -> None:
    op.drop_column("contact_states", "profile_digest")
    op.drop_column("contact_states", "data_tags")
    columns.drop_installation_index("audience_field_mappings")
    op.drop_table("audience_field_mappings")
