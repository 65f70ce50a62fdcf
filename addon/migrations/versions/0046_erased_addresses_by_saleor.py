"""Erased addresses are kept by the Saleor's URL, not the installation: they outlive an uninstall,
so an installation of the same Saleor later sends none of them to Mailchimp again
(`addon/privacy/erased.py`). Each row takes its installation's URL; going down, rows of a Saleor
no longer installed are dropped (the schema before kept none)."""

import sqlalchemy as sa
from alembic import op

from addon.migrations import columns

revision: str = "0046_erased_addresses_by_saleor"
down_revision: str | None = "0045_engagement_ratings"

TABLE = "ecommerce_erased_addresses"
BY_INSTALLATION = f"uq_{TABLE}_installation_id_email_hash"
BY_SALEOR = f"uq_{TABLE}_saleor_api_url_email_hash"
FK = f"fk_{TABLE}_installation_id_installations"

erased = sa.table(
    TABLE,
    sa.column("installation_id", sa.Integer()),
    sa.column("saleor_api_url", sa.String(512)),
)
installations = sa.table(
    "installations", sa.column("id", sa.Integer()), sa.column("saleor_api_url", sa.String(512))
)


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("saleor_api_url", sa.String(length=512), nullable=True))
    url = (
        sa.select(installations.c.saleor_api_url)
        .where(installations.c.id == erased.c.installation_id)
        .scalar_subquery()
    )
    op.execute(erased.update().values(saleor_api_url=url))
    # A rebuild on SQLite: no table refers to this one, so it cascades nothing.
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(op.f(BY_INSTALLATION), type_="unique")
        batch.drop_constraint(op.f(FK), type_="foreignkey")
        batch.drop_column("installation_id")
        batch.alter_column("saleor_api_url", existing_type=sa.String(length=512), nullable=False)
        batch.create_unique_constraint(op.f(BY_SALEOR), ["saleor_api_url", "email_hash"])


def downgrade() -> None:
    op.add_column(TABLE, columns.installation_id(nullable=True))
    installation = (
        sa.select(installations.c.id)
        .where(installations.c.saleor_api_url == erased.c.saleor_api_url)
        .scalar_subquery()
    )
    op.execute(erased.update().values(installation_id=installation))
    op.execute(erased.delete().where(erased.c.installation_id.is_(None)))
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(op.f(BY_SALEOR), type_="unique")
        batch.drop_column("saleor_api_url")
        batch.alter_column("installation_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            op.f(FK), "installations", ["installation_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_unique_constraint(op.f(BY_INSTALLATION), ["installation_id", "email_hash"])
