"""Security: when Saleor's signing keys were last refetched (an attempt, successful or not), and
the storefront's rate limits, shared by every process of the app.
"""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0008_security"
down_revision: str | None = "0007"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(
        "installations",
        columns.timestamp("jwks_attempted_at", nullable=True),
    )
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=64), nullable=False),
        columns.installation_id(nullable=True),
        sa.Column("hits", sa.JSON(), nullable=False),
        columns.timestamp("expires_at", nullable=False),
        columns.installation_fk("rate_limits"),
        columns.primary_key("rate_limits", "key"),
    )
    op.create_index(op.f("ix_rate_limits_expires_at"), "rate_limits", ["expires_at"])
    columns.create_installation_index("rate_limits")


def downgrade() -> None:
    columns.drop_installation_index("rate_limits")
    op.drop_index(op.f("ix_rate_limits_expires_at"), table_name="rate_limits")
    op.drop_table("rate_limits")
    op.drop_column("installations", "jwks_attempted_at")
