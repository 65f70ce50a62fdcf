"""A reset that forgot the account's data still knows which account it was, while work owed to
that account waits (erasures, shoppers' unsubscribes: `addon/connection/reconnect.py`).

`mailchimp_connections.forgotten_account_id`: the account whose data a reset forgot; connecting
another one is then a switch (refused while owed work waits, unless the admin confirms), and
connecting it again lets that work run there. Cleared by the next connection.
`account_forgotten_at`: when a reset last forgot the account's data; an erasure asked before then
knows none of the audiences it must erase from, and waits for them to be read again. Connections
from before forgot nothing the app can tell: NULL."""

import sqlalchemy as sa
from alembic import op

revision: str = "0049_forgotten_account"
down_revision: str | None = "0048_account_switch"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(
        "mailchimp_connections",
        sa.Column("forgotten_account_id", sa.String(64), nullable=True),
    )
    op.add_column(
        "mailchimp_connections",
        sa.Column("account_forgotten_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("mailchimp_connections", "account_forgotten_at")
    op.drop_column("mailchimp_connections", "forgotten_account_id")
