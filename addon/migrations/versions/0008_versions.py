"""Installations know their Saleor version and notice deactivation and uninstall without the
lifecycle webhooks (a periodic check per installation); erasures are recorded.
"""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0008_versions"
down_revision: str | None = "0007"

CHECK_KIND = "installation.check"  # addon.installations.lifecycle.CHECK_KIND


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    for column in (
        sa.Column("status_noticed_by", sa.String(length=20), nullable=True),
        sa.Column("saleor_version", sa.String(length=64), nullable=True),
        columns.timestamp("checked_at", nullable=True),
        columns.timestamp("token_refused_at", nullable=True),
        sa.Column("token_refused_noticed_by", sa.String(length=20), nullable=True),
        columns.timestamp("dashboard_checked_at", nullable=True),
    ):
        op.add_column("installations", column)
    op.create_table(
        "installation_erasures",
        columns.id_column(),
        sa.Column("saleor_api_url", sa.String(length=512), nullable=False),
        sa.Column("app_id", sa.String(length=255), nullable=False),
        sa.Column("noticed_by", sa.String(length=20), nullable=False),
        columns.timestamp("token_refused_at", nullable=True),
        columns.timestamp("erased_at", nullable=False),
        columns.primary_key("installation_erasures"),
    )
    op.create_index(
        op.f("ix_installation_erasures_saleor_api_url"),
        "installation_erasures",
        ["saleor_api_url"],
    )
    # Every existing installation gets its periodic check, due now: it learns its version.
    payload = "CAST(:payload AS JSON)"  # PostgreSQL; SQLite keeps JSON as text
    if op.get_bind().dialect.name == "sqlite":
        payload = ":payload"
    insert = (
        "INSERT INTO jobs (installation_id, kind, payload, status, coalesce_key, attempts, "
        "run_after, created_at, updated_at) "
        "SELECT id, CAST(:kind AS VARCHAR(100)), {payload}, 'pending', "
        "CAST(:kind AS VARCHAR(255)), 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
        "FROM installations"
    )
    op.execute(
        sa.text(insert.replace("{payload}", payload)).bindparams(
            kind=CHECK_KIND, payload='{"signal": "periodic_check"}'
        )
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM jobs WHERE kind = :kind").bindparams(kind=CHECK_KIND))
    op.drop_index(
        op.f("ix_installation_erasures_saleor_api_url"), table_name="installation_erasures"
    )
    op.drop_table("installation_erasures")
    for name in (
        "dashboard_checked_at",
        "token_refused_noticed_by",
        "token_refused_at",
        "checked_at",
        "saleor_version",
        "status_noticed_by",
    ):
        op.drop_column("installations", name)
