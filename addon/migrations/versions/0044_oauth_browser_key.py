"""The browser an OAuth log-in was started in: a SHA-256 of the key the dashboard frame hands its
Mailchimp window, which the window keeps in a cookie for the callback
(`addon/connection/oauth_flow.py`). States from before are 10 minutes old at most: NULL, which
no callback matches (their log-ins are started again)."""

import sqlalchemy as sa
from alembic import op

revision: str = "0044_oauth_browser_key"
down_revision: str | None = "0043_restored_reduced_lines"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column("oauth_states", sa.Column("browser_key_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("oauth_states", "browser_key_hash")
