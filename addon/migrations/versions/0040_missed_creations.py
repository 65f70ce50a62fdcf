"""The creations delivered before a pause (`addon/installations/missed_queue.py`): a catch-up
replays them as changes, never as new, so no consent is applied twice. Its own revision: 0037 and
0038 had been applied where this column came later."""

import sqlalchemy as sa
from alembic import op

revision: str = "0040_missed_creations"
down_revision: str | None = "0039_catalog_revision"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column("installations", sa.Column("missed_creations", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("installations", "missed_creations")
