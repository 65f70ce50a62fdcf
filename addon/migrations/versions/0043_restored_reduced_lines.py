"""How many lines of a restored cart its copy holds fewer of than the cart did (stock sold or a
quantity limit lowered since it was e-mailed, `addon/ecommerce/restore_lines.py`). Copies made
before this migration were made whole or not at all: 0."""

import sqlalchemy as sa
from alembic import op

revision: str = "0043_restored_reduced_lines"
down_revision: str | None = "0042_contact_withdrawn_at"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(
        "restored_checkouts",
        sa.Column("reduced_lines", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    op.drop_column("restored_checkouts", "reduced_lines")
