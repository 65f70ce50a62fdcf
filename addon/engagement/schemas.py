"""What the Reports page's API takes and answers (/api/engagement).

Money leaves as a number in the currency's units, rounded to cents (per recipient: to a
hundredth of a cent); the sums stay per currency, since audiences may sell in several.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

# The limits the settings take (the service checks them again, with its own words).
INTERVAL_DAYS = (1, 365)
SCHEDULE_MINUTES = (15, 1440)


class CampaignSort(StrEnum):
    """The campaign table's columns, each one sortable."""

    SENT_AT = "sent_at"
    TITLE = "title"
    LIST_NAME = "list_name"
    RECIPIENTS = "recipients"
    OPENS = "opens"
    OPEN_RATE = "open_rate"
    CLICKS = "clicks"
    CLICK_RATE = "click_rate"
    UNSUBSCRIBES = "unsubscribes"
    BOUNCES = "bounces"
    ORDERS = "orders"
    REVENUE = "revenue"
    REVENUE_PER_RECIPIENT = "revenue_per_recipient"


class SortDirection(StrEnum):
    ASC = "asc"
    DESC = "desc"


class _Read(BaseModel):
    # Built from the repository's views (dataclasses) by attribute.
    model_config = ConfigDict(from_attributes=True)


class CampaignRead(_Read):
    campaign_id: str
    list_id: str
    list_name: str
    title: str
    subject: str | None
    sent_at: datetime | None
    recipients: int
    opens: int
    unique_opens: int
    open_rate: float = Field(description="Unique opens per delivered e-mail, 0 to 1.")
    clicks: int
    unique_clicks: int
    click_rate: float = Field(description="Unique clicks per delivered e-mail, 0 to 1.")
    unsubscribes: int
    bounces: int
    orders: int
    revenue: float
    currency: str | None
    revenue_per_recipient: float | None = Field(
        description="Revenue divided by recipients (none without recipients)."
    )
    collecting: bool = Field(description="Still inside the activity update interval.")


class CurrencyAmount(BaseModel):
    currency: str | None
    amount: float


class CampaignTotals(BaseModel):
    campaigns: int
    recipients: int
    opens: int
    unique_opens: int
    clicks: int
    unique_clicks: int
    open_rate: float | None = Field(
        description="The campaigns' unique opens per delivered e-mail (recipients less bounces)."
    )
    click_rate: float | None = Field(
        description="The campaigns' unique clicks per delivered e-mail (recipients less bounces)."
    )
    unsubscribes: int
    bounces: int
    orders: int
    revenue: list[CurrencyAmount] = Field(description="Per currency, largest first.")
    revenue_per_recipient: list[CurrencyAmount] = Field(
        description=(
            "Each currency's revenue divided by the recipients of the range's campaigns in that "
            "currency."
        )
    )


class ActivityPoint(_Read):
    day: date
    opens: int
    clicks: int


class RevenueBar(BaseModel):
    campaign_id: str
    title: str
    revenue: float
    currency: str | None


class EngagementSplitRead(_Read):
    engaged_customers: int
    unengaged_customers: int
    engaged_guests: int
    unengaged_guests: int


RunState = Literal["idle", "queued", "running", "failed", "never"]


class EngagementRunRead(_Read):
    """The collection's settings and progress."""

    activity_interval_days: int
    schedule_minutes: int
    state: RunState
    last_started_at: datetime | None
    last_finished_at: datetime | None
    next_run_at: datetime | None
    campaigns_total: int
    campaigns_done: int
    members_seen: int
    last_error: str | None = Field(description="What went wrong last time, in plain words.")


class CampaignReport(BaseModel):
    """Everything the Reports page shows, for one date range and sort order."""

    sent_from: date | None
    sent_to: date | None
    sort: CampaignSort
    direction: SortDirection
    campaigns: list[CampaignRead]
    totals: CampaignTotals
    top_revenue: list[RevenueBar] = Field(
        description=(
            "The campaigns with the most revenue, most first (the revenue chart), all in one"
            " currency: that of the most orders."
        )
    )
    activity: list[ActivityPoint] = Field(
        description="Opens and clicks per day, days without any included as zeros."
    )
    split: EngagementSplitRead
    run: EngagementRunRead


class EngagementSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    activity_interval_days: StrictInt = Field(
        ge=INTERVAL_DAYS[0],
        le=INTERVAL_DAYS[1],
        description="How many days after its send a campaign's activity is still collected.",
    )
    schedule_minutes: StrictInt = Field(
        ge=SCHEDULE_MINUTES[0],
        le=SCHEDULE_MINUTES[1],
        description="How often the collection runs on its own.",
    )


class CustomerCampaignRead(_Read):
    campaign_id: str
    title: str
    sent_at: datetime | None
    opened: bool
    clicked: bool


class AttributedOrderRead(_Read):
    order_id: str
    campaign_id: str
    campaign_title: str | None
    total: float
    currency: str | None
    ordered_at: datetime | None


class CustomerEngagementRead(_Read):
    """One customer's engagement, for the customer panel."""

    campaigns_received: int
    opens: int
    clicks: int
    last_open: datetime | None
    last_click: datetime | None
    member_rating: int | None = Field(description="Mailchimp's star rating, 1 to 5.")
    tags: dict[str, list[str]] = Field(description="Mailchimp tags per audience id.")
    last_campaigns: list[CustomerCampaignRead] = Field(description="Newest first, at most 10.")
    attributed_orders: list[AttributedOrderRead]
