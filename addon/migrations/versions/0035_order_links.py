"""Orders carry a link to their page on the storefront (`order_url`, Mailchimp's "The URL for
the order", which its order notifications can point shoppers to), made from a template the
admin sets, like the product and checkout links."""

import sqlalchemy as sa
from alembic import op

revision: str = "0035_order_links"
down_revision: str | None = "0034_uninstall_farewell"


def upgrade() -> None:
    # Plain ALTER TABLE (never a SQLite table rebuild, which would cascade deletes).
    op.add_column(
        "ecommerce_settings", sa.Column("order_url_template", sa.String(length=1024), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("ecommerce_settings", "order_url_template")
