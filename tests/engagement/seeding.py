"""Engagement put in the app's database directly, as a collection writes it: the one way the
tests that read it (the repository's, the API's and the Reports page's in Chromium) seed it.

A test says only its own figures: each campaign what differs from `CAMPAIGN_DEFAULTS`, each
day's opens and clicks, the members (the first is the one who bought) and the purchase."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from addon.engagement.models import (
    EngagementCampaign,
    EngagementDay,
    EngagementMember,
    EngagementMemberCampaign,
    EngagementOrder,
    EngagementSettings,
)
from addon.engagement.views import CampaignRow

# Every engagement table, each before those its rows refer to (the order to delete them in).
MODELS = (
    EngagementOrder,
    EngagementMemberCampaign,
    EngagementMember,
    EngagementDay,
    EngagementCampaign,
    EngagementSettings,
)

# A campaign's report as Mailchimp gives it, for the values a test does not set itself.
CAMPAIGN_DEFAULTS: dict[str, Any] = {
    "list_id": "L1",
    "list_name": "Newsletter",
    "subject": "Hello",
    "recipients": 100,
    "opens": 50,
    "unique_opens": 40,
    "open_rate": 0.4,
    "clicks": 10,
    "unique_clicks": 8,
    "click_rate": 0.08,
    "unsubscribes": 1,
    "bounces": 2,
    "orders": 3,
    "revenue_cents": 12345,
    "currency": "USD",
}

# One day of a campaign's activity: its campaign, the day, opens, clicks.
Day = tuple[str, date, int, int]


@dataclass(frozen=True)
class Purchase:
    """The first member's opens and clicks of one campaign, and the order Mailchimp attributes
    to that campaign."""

    campaign_id: str
    opens: int
    clicks: int
    store_id: str
    order_id: str
    total_cents: int
    currency: str
    ordered_at: datetime


async def seed(
    session: AsyncSession,
    installation_id: int,
    *,
    campaigns: Iterable[dict[str, Any]],
    days: Iterable[Day],
    members: Sequence[dict[str, Any]],
    purchase: Purchase,
    settings: dict[str, Any] | None = None,
) -> None:
    """Adds the rows in `session` (a campaign needs at least `campaign_id` and `sent_at`; its
    title is "Campaign <id>" unless given), the members flushed first for their ids."""
    if settings is not None:
        session.add(EngagementSettings(installation_id=installation_id, **settings))
    session.add_all(
        EngagementCampaign(
            installation_id=installation_id,
            **{**CAMPAIGN_DEFAULTS, "title": f"Campaign {values['campaign_id']}", **values},
        )
        for values in campaigns
    )
    session.add_all(
        EngagementDay(
            installation_id=installation_id, campaign_id=campaign_id, day=day, opens=o, clicks=c
        )
        for campaign_id, day, o, c in days
    )
    rows = [EngagementMember(installation_id=installation_id, **values) for values in members]
    session.add_all(rows)
    await session.flush()
    buyer = rows[0]
    session.add_all(
        [
            EngagementMemberCampaign(
                installation_id=installation_id,
                member_id=buyer.id,
                campaign_id=purchase.campaign_id,
                opens=purchase.opens,
                clicks=purchase.clicks,
            ),
            EngagementOrder(
                installation_id=installation_id,
                store_id=purchase.store_id,
                order_id=purchase.order_id,
                campaign_id=purchase.campaign_id,
                member_id=buyer.id,
                total_cents=purchase.total_cents,
                currency=purchase.currency,
                ordered_at=purchase.ordered_at,
            ),
        ]
    )


def campaign_row(campaign_id: str, **kw: Any) -> CampaignRow:
    """A campaign as the repository reads it, for the Reports page's shaping rules: ten
    recipients and nothing else unless `kw` says so."""
    values: dict[str, Any] = {
        "campaign_id": campaign_id,
        "list_id": "L1",
        "list_name": "News",
        "title": campaign_id,
        "subject": "",
        "sent_at": datetime(2030, 1, 1, tzinfo=UTC),
        "recipients": 10,
        "opens": 0,
        "unique_opens": 0,
        "open_rate": 0.0,
        "clicks": 0,
        "unique_clicks": 0,
        "click_rate": 0.0,
        "unsubscribes": 0,
        "bounces": 0,
        "orders": 0,
        "revenue": Decimal("0.00"),
        "currency": None,
        "collecting": False,
        **kw,
    }
    return CampaignRow(**values)
