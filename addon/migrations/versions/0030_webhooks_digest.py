"""The documents and APP_URL an installation's webhooks were last brought up to (a fingerprint,
`webhooks_digest`): a process that starts with others queues the upkeep at once, so an upgrade
of the app reaches Saleor then, not at the next lifecycle check. Installations made before have
none, so the first start of this version brings each one's webhooks up to date."""

import sqlalchemy as sa
from alembic import op

revision: str = "0030_webhooks_digest"
down_revision: str | None = "0029_webhooks_state"

TABLE = "installations"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(TABLE, sa.Column("webhooks_digest", sa.String(length=64), nullable=True))
    # The old kind's upkeep ran in no lane, so beside a new one it could create a webhook
    # twice. A pending one goes (the start that follows this migration queues the upkeep
    # anyway); one running (its lease may lapse) or quarantined (an admin may retry it) joins
    # the lane, where it runs before the new ones.
    op.execute(
        sa.text(
            "DELETE FROM jobs WHERE kind = 'installation.saleor_version_known'"
            " AND status = 'pending'"
        )
    )
    op.execute(
        sa.text(
            "UPDATE jobs SET lane = 'installation.webhooks'"
            " WHERE kind = 'installation.saleor_version_known'"
        )
    )


def downgrade() -> None:
    # Plain DROP COLUMN too: a batch rebuild of `installations` would delete what references it.
    op.drop_column(TABLE, "webhooks_digest")
