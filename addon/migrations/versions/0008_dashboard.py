"""Dashboard states: OAuth log-in attempts the page polls, and Mailchimp stores found missing."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0008_dashboard"
down_revision: str | None = "0007"


def upgrade() -> None:
    op.create_table(
        "oauth_attempts",
        sa.Column("id", sa.String(length=32), nullable=False),
        columns.installation_id(),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        columns.status(),
        sa.Column("code", sa.String(length=50), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("continuity", sa.String(length=20), nullable=True),
        columns.timestamp("created_at", nullable=False),
        columns.timestamp("expires_at", nullable=False),
        columns.timestamp("finished_at", nullable=True),
        columns.installation_fk("oauth_attempts"),
        columns.primary_key("oauth_attempts"),
        sa.UniqueConstraint("state_hash", name=op.f("uq_oauth_attempts_state_hash")),
    )
    columns.create_installation_index("oauth_attempts")
    # Plain ALTER TABLE (no SQLite table rebuild, which would cascade through foreign keys).
    op.add_column(
        "mailchimp_stores",
        columns.timestamp("missing_since", nullable=True),
    )


def downgrade() -> None:
    op.drop_column("mailchimp_stores", "missing_since")
    columns.drop_installation_index("oauth_attempts")
    op.drop_table("oauth_attempts")
