"""Promo rules and codes sent for Saleor vouchers (issue 17)."""

revision: str = "0015_promotions"
down_revision: str | None = "0014_customer_addresses"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
