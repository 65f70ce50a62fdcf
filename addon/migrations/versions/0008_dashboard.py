"""Dashboard states: OAuth log-in attempts the page polls, and Mailchimp stores found missing.

Revision ID: 0008_dashboard
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_dashboard"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oauth_attempts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("continuity", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_oauth_attempts_installation_id_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_attempts")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_oauth_attempts_state_hash")),
    )
    op.create_index(
        op.f("ix_oauth_attempts_installation_id"), "oauth_attempts", ["installation_id"]
    )
    # Plain ALTER TABLE (no SQLite table rebuild, which would cascade through foreign keys).
    op.add_column(
        "mailchimp_stores",
        sa.Column("missing_since", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("mailchimp_stores", "missing_since")
    op.drop_index(op.f("ix_oauth_attempts_installation_id"), table_name="oauth_attempts")
    op.drop_table("oauth_attempts")
