"""Which version's products each Mailchimp store holds (`addon/ecommerce/catalog_revision.py`):
the existing stores' products were sent before revisions were counted (0), and are sent again
at the next start."""

import sqlalchemy as sa
from alembic import op

revision: str = "0039_catalog_revision"
down_revision: str | None = "0038_webhook_receiver"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(
        "mailchimp_stores",
        sa.Column("catalog_revision", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("mailchimp_stores", "catalog_revision")
