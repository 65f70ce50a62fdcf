"""Installations (the auth persistence layer) and jobs (the durable inbox and work queue)."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0001"
down_revision: str | None = None


def upgrade() -> None:
    op.create_table(
        "installations",
        columns.id_column(),
        sa.Column("saleor_api_url", sa.String(length=512), nullable=False),
        sa.Column("saleor_domain", sa.String(length=255), nullable=False),
        sa.Column("app_id", sa.String(length=255), nullable=False),
        sa.Column("app_token", sa.Text(), nullable=False),
        sa.Column("jwks", sa.JSON(), nullable=False),
        columns.timestamp("jwks_fetched_at", nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        columns.timestamp("status_changed_at", nullable=True),
        columns.timestamp("installed_at", nullable=False),
        columns.updated_at(),
        columns.primary_key("installations"),
        sa.UniqueConstraint("saleor_api_url", name=op.f("uq_installations_saleor_api_url")),
    )
    op.create_table(
        "jobs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        columns.installation_id(),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        columns.status(),
        sa.Column("dedupe_key", sa.String(length=128), nullable=True),
        sa.Column("coalesce_key", sa.String(length=255), nullable=True),
        sa.Column("lane", sa.String(length=255), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        columns.timestamp("run_after", nullable=False),
        sa.Column("locked_by", sa.String(length=100), nullable=True),
        columns.timestamp("locked_until", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        columns.timestamp("created_at", nullable=False),
        columns.updated_at(),
        columns.timestamp("finished_at", nullable=True),
        columns.installation_fk("jobs"),
        columns.primary_key("jobs"),
        sa.UniqueConstraint(
            "installation_id", "dedupe_key", name=op.f("uq_jobs_installation_id_dedupe_key")
        ),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_claim", ["status", "run_after"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_jobs_installation_id"), ["installation_id"], unique=False
        )
        batch_op.create_index("ix_jobs_lane", ["installation_id", "lane", "id"], unique=False)
        batch_op.create_index(
            "uq_jobs_pending_coalesce_key",
            ["installation_id", "coalesce_key"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_jobs_pending_coalesce_key",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index("ix_jobs_lane")
        batch_op.drop_index(batch_op.f("ix_jobs_installation_id"))
        batch_op.drop_index("ix_jobs_claim")

    op.drop_table("jobs")
    op.drop_table("installations")
