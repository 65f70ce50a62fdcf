"""An uninstall first removes from Mailchimp what would go on acting for the store without the
app (the carts, whose abandoned-cart e-mails would carry restore links nobody can exchange any
more; the audiences' webhooks), then erases the installation
(`addon/installations/uninstall.py`). Until then the installation is marked uninstalled, and
its erasure record says what was removed."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0034_uninstall_farewell"
down_revision: str | None = "0033_order_numbers"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column("installations", columns.timestamp("uninstalled_at", nullable=True))
    op.add_column(
        "installations", sa.Column("uninstall_noticed_by", sa.String(length=20), nullable=True)
    )
    op.add_column(
        "installation_erasures", sa.Column("mailchimp_cleanup", sa.String(length=20), nullable=True)
    )
    for column in ("carts_deleted", "webhooks_deleted"):
        op.add_column("installation_erasures", sa.Column(column, sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("installation_erasures", "webhooks_deleted")
    op.drop_column("installation_erasures", "carts_deleted")
    op.drop_column("installation_erasures", "mailchimp_cleanup")
    op.drop_column("installations", "uninstall_noticed_by")
    op.drop_column("installations", "uninstalled_at")
