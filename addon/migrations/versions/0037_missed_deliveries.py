"""What Saleor did not deliver while the app was deactivated (`addon/installations/missed.py`):
when the app last knew Saleor accepted its token, and since when deliveries may be missing.

An installation paused when this runs gets a start its pause implies: a pause the webhook told
of, its `issuedAt`; one noticed by a check, a refused call or the dashboard, two hours before it
was noticed (the default hourly check and its confirmation, with room to spare)."""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0037_missed_deliveries"
down_revision: str | None = "0036_initial_sync_handoffs"

NOTICED_LATE = timedelta(hours=2)


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column("installations", columns.timestamp("token_accepted_at", nullable=True))
    op.add_column("installations", columns.timestamp("missed_since", nullable=True))
    installations = sa.table(
        "installations",
        sa.column("id", sa.Integer()),
        sa.column("is_active", sa.Boolean()),
        sa.column("status_changed_at", sa.DateTime(timezone=True)),
        sa.column("status_noticed_by", sa.String()),
        sa.column("installed_at", sa.DateTime(timezone=True)),
        sa.column("checked_at", sa.DateTime(timezone=True)),
        sa.column("token_refused_at", sa.DateTime(timezone=True)),
        sa.column("token_accepted_at", sa.DateTime(timezone=True)),
        sa.column("missed_since", sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            installations.c.id,
            installations.c.is_active,
            installations.c.status_changed_at,
            installations.c.status_noticed_by,
            installations.c.installed_at,
            installations.c.checked_at,
            installations.c.token_refused_at,
        )
    ).all()
    for row in rows:
        values: dict[str, object] = {}
        if row.is_active:
            # A refusal not yet confirmed: the last accepted check came before it.
            refused = row.token_refused_at
            accepted = row.checked_at if refused is None else refused - NOTICED_LATE
            values["token_accepted_at"] = accepted or row.installed_at
        else:
            paused = row.status_changed_at or row.installed_at
            values["missed_since"] = (
                paused if row.status_noticed_by == "webhook" else paused - NOTICED_LATE
            )
        bind.execute(installations.update().where(installations.c.id == row.id).values(values))


def downgrade() -> None:
    # No earlier version handles these jobs (a replayed delivery is a webhook job like any).
    op.execute(
        "DELETE FROM jobs WHERE kind IN "
        "('installation.missed', 'installation.replay', 'installation.replay_deleted')"
    )
    op.drop_column("installations", "missed_since")
    op.drop_column("installations", "token_accepted_at")
