"""Campaign engagement collected back from Mailchimp (issue 19)."""

revision: str = "0017_engagement"
down_revision: str | None = "0016_cart_health"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
