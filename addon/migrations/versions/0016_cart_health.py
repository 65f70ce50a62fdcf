"""Abandoned-cart health, cart restore and site scripts (issue 17)."""

revision: str = "0016_cart_health"
down_revision: str | None = "0015_promotions"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
