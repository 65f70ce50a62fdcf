"""Connecting another Mailchimp account while work owed to the connected one still waits
(erasures, shoppers' unsubscribes: `addon/connection/reconnect.py`).

`mailchimp_connections.account_switched_at`: when another account was last connected in place
of the one before; work asked before then never runs against the new account (it ends saying
it was not done). Connections from before have never been switched as far as the app knows:
NULL. `oauth_states.drop_owed`: the admin confirmed the switch when starting the log-in (the
account is only known at the callback); states from before are 10 minutes old at most: false."""

import sqlalchemy as sa
from alembic import op

revision: str = "0048_account_switch"
down_revision: str | None = "0047_sent_merge_digests"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(
        "mailchimp_connections",
        sa.Column("account_switched_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "oauth_states",
        sa.Column("drop_owed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("oauth_states", "drop_owed")
    op.drop_column("mailchimp_connections", "account_switched_at")
