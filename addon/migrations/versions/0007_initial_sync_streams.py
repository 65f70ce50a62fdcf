"""Initial sync: one reading stream per kind; batches know when to poll next, keep their
operations (to resend failed ones) and count their sends.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("initial_syncs") as batch:
        batch.add_column(
            sa.Column("streams", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch.drop_column("cursor")
        batch.drop_column("phase_read")
    with op.batch_alter_table("initial_sync_batches") as batch:
        batch.add_column(sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("bodies", sa.LargeBinary(), nullable=True))
        batch.add_column(
            sa.Column("attempt", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )


def downgrade() -> None:
    with op.batch_alter_table("initial_sync_batches") as batch:
        batch.drop_column("attempt")
        batch.drop_column("bodies")
        batch.drop_column("next_poll_at")
    with op.batch_alter_table("initial_syncs") as batch:
        batch.add_column(
            sa.Column("phase_read", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("cursor", sa.Text(), nullable=True))
        batch.drop_column("streams")
