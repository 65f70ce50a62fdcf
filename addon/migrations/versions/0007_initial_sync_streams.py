"""Initial sync: one reading stream per kind; batches know when to poll next, keep their
operations (to resend failed ones) and count their sends.
"""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0007"
down_revision: str | None = "0006"


KINDS = (("products", "product"), ("customers", "customer"), ("orders", "order"))


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+), never a table rebuild: on SQLite a rebuild drops the old
    # table, and with foreign keys on that deletes every batch of the syncs through the cascade.
    op.add_column(
        "initial_syncs",
        sa.Column("streams", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )
    syncs = sa.table(
        "initial_syncs",
        sa.column("id", sa.Integer()),
        sa.column("phase", sa.String()),
        sa.column("cursor", sa.Text()),
        sa.column("phase_read", sa.Boolean()),
        sa.column("streams", sa.JSON()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(syncs.c.id, syncs.c.phase, syncs.c.cursor, syncs.c.phase_read))
    for sync_id, phase, cursor, phase_read in rows.all():
        # Kinds before the phase were read completely; the phase's kind is where it stopped.
        phases = [name for name, _ in KINDS]
        current = phases.index(phase) if phase in phases else len(phases)
        streams = {
            kind: {"cursor": cursor, "done": bool(phase_read)}
            if index == current
            else {"cursor": None, "done": index < current}
            for index, (_, kind) in enumerate(KINDS)
        }
        bind.execute(sa.update(syncs).where(syncs.c.id == sync_id).values(streams=streams))
    op.drop_column("initial_syncs", "cursor")
    op.drop_column("initial_syncs", "phase_read")
    op.add_column("initial_sync_batches", columns.timestamp("next_poll_at", nullable=True))
    op.add_column("initial_sync_batches", sa.Column("bodies", sa.LargeBinary(), nullable=True))
    op.add_column(
        "initial_sync_batches",
        sa.Column("attempt", sa.Integer(), nullable=False, server_default=sa.text("1")),
    )


def downgrade() -> None:
    # Queued resends have no Mailchimp batch: 0006 knows nothing of them.
    op.execute("DELETE FROM initial_sync_batches WHERE status = 'queued'")
    op.drop_column("initial_sync_batches", "attempt")
    op.drop_column("initial_sync_batches", "bodies")
    op.drop_column("initial_sync_batches", "next_poll_at")
    op.add_column(
        "initial_syncs",
        sa.Column("phase_read", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("initial_syncs", sa.Column("cursor", sa.Text(), nullable=True))
    op.drop_column("initial_syncs", "streams")
