"""Security: when Saleor's signing keys were last refetched (an attempt, successful or not), and
the storefront's rate limits, shared by every process of the app.

Revision ID: 0008_security
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_security"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(
        "installations",
        sa.Column("jwks_attempted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("installation_id", sa.Integer(), nullable=True),
        sa.Column("hits", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_rate_limits_installation_id_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limits")),
    )
    op.create_index(op.f("ix_rate_limits_expires_at"), "rate_limits", ["expires_at"])
    op.create_index(op.f("ix_rate_limits_installation_id"), "rate_limits", ["installation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limits_installation_id"), table_name="rate_limits")
    op.drop_index(op.f("ix_rate_limits_expires_at"), table_name="rate_limits")
    op.drop_table("rate_limits")
    op.drop_column("installations", "jwks_attempted_at")
