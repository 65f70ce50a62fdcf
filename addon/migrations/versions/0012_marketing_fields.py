"""The fields marketers segment on: what becomes a product's vendor and type, the carrier and
tracking link per shipping method, and a store's default language and time zone."""

import sqlalchemy as sa
from alembic import op

revision: str = "0012_marketing_fields"
down_revision: str | None = "0011_merge_field_mapping"


def upgrade() -> None:
    with op.batch_alter_table("ecommerce_settings") as batch:
        # Existing installations keep what the app did before: vendor from the public
        # metadata key "vendor", type from the product type.
        batch.add_column(
            sa.Column(
                "product_vendor",
                sa.JSON(),
                nullable=False,
                server_default=sa.text('\'{"source": "metadata", "key": "vendor"}\''),
            )
        )
        batch.add_column(
            sa.Column(
                "product_type",
                sa.JSON(),
                nullable=False,
                server_default=sa.text('\'{"source": "product_type", "key": null}\''),
            )
        )
        batch.add_column(
            sa.Column("tracking_rules", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(sa.Column("default_locale", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("default_timezone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ecommerce_settings") as batch:
        for name in (
            "default_timezone",
            "default_locale",
            "tracking_rules",
            "product_type",
            "product_vendor",
        ):
            batch.drop_column(name)
