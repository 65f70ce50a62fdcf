"""The Reports page's figures, as a marketer reads them. They were wrong: the engaged/unengaged
split counted member rows, so a customer who changed address counted twice (and could be both
engaged and not); the totals' open and click rates were the campaigns' rates weighted by
recipients, not Mailchimp's unique opens (clicks) over delivered e-mails; the revenue chart
ranked amounts of different currencies against each other (9,000 JPY above 500 USD)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from addon.clock import ManualClock
from addon.engagement import repository
from addon.engagement.models import EngagementMember
from addon.engagement.reports import campaign_read, top_revenue, totals
from addon.services import Services
from tests.engagement.seeding import campaign_row
from tests.factories import make_installation

NOW = datetime(2030, 3, 1, 12, tzinfo=UTC)


def _member(
    installation_id: int, h: str, user: str | None, last_open: datetime | None
) -> EngagementMember:
    return EngagementMember(
        installation_id=installation_id, email_hash=h * 32, saleor_user_id=user,
        campaigns_received=1, opens=1 if last_open else 0, clicks=0, last_open=last_open,
        tags={}, ratings={}, recent_campaigns=[], changed=False,
    )  # fmt: skip


async def test_engagement_split_counts_customers_not_member_rows(
    services: Services, clock: ManualClock
) -> None:
    """A customer who changed address has two members (docs/engagement.md: "A customer whose
    address is in two members (after an e-mail change) gets the two added up"); she opened with
    the new one: 1 engaged customer, none unengaged. Guests still count one per member."""
    clock.set(NOW)
    iid = await make_installation(services)
    async with services.db.transaction() as session:
        session.add_all(
            [
                _member(iid, "a", "VXNlcjox", NOW - timedelta(days=1)),  # new address, opened
                _member(iid, "b", "VXNlcjox", None),  # old address, nothing since
                _member(iid, "c", "VXNlcjoy", None),  # another customer, unengaged
                _member(iid, "d", None, NOW - timedelta(days=2)),  # guests
                _member(iid, "e", None, None),
            ]
        )
    async with services.db.session() as session:
        split = await repository.engagement_split(session, iid)
    assert (split.engaged_customers, split.unengaged_customers) == (1, 1)
    assert (split.engaged_guests, split.unengaged_guests) == (1, 1)


def test_total_rates_are_mailchimps_unique_opens_and_clicks_over_deliveries() -> None:
    """Mailchimp: open_rate is "the number of unique opens divided by the total number of
    successful deliveries". 1000 sent, 500 bounced, 250 unique opens (0.5); 1000 sent, none
    bounced, 100 unique opens (0.1): together 350 / 1500 deliveries, not (0.5 + 0.1) / 2."""
    rows = [
        campaign_row("a", recipients=1000, bounces=500, unique_opens=250, open_rate=0.5,
                     unique_clicks=50, click_rate=0.1),
        campaign_row("b", recipients=1000, bounces=0, unique_opens=100, open_rate=0.1,
                     unique_clicks=10, click_rate=0.01),
    ]  # fmt: skip
    assert totals(rows).open_rate == round(350 / 1500, 6)
    assert totals(rows).click_rate == round(60 / 1500, 6)
    # Nothing delivered: no rate.
    assert totals([campaign_row("c", recipients=5, bounces=5)]).open_rate is None


def test_revenue_chart_ranks_one_currency() -> None:
    """9,000 JPY (about 60 USD) was drawn as the top earner above 500 USD. The chart ranks the
    campaigns of one currency, that of the most orders (orders compare, amounts do not)."""
    campaigns = [
        campaign_read(campaign_row(c, revenue=Decimal(amount), orders=orders, currency=code))
        for c, amount, orders, code in [
            ("usd-500", "500", 3, "USD"),
            ("jpy", "9000", 1, "JPY"),
            ("usd-40", "40", 1, "USD"),
        ]
    ]
    bars = top_revenue(campaigns)
    assert [(b.campaign_id, b.currency) for b in bars] == [("usd-500", "USD"), ("usd-40", "USD")]
