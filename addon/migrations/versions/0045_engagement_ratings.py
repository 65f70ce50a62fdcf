"""A member's Mailchimp rating in each audience (`engagement_members.ratings`, {list_id: stars}):
an address in two audiences is rated in each, and the highest is written to Saleor, where before
the audience read last won (`addon/engagement/store.py`). Members from before start with none:
the next read of each audience fills them in (every audience's members are read in full once a
day), `member_rating` meanwhile the highest of those read."""

import sqlalchemy as sa
from alembic import op

revision: str = "0045_engagement_ratings"
down_revision: str | None = "0044_oauth_browser_key"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(
        "engagement_members",
        sa.Column("ratings", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )


def downgrade() -> None:
    op.drop_column("engagement_members", "ratings")
