"""What the engagement repository answers the Reports page and the customer panel with
(read-only values; the endpoints shape them into their schemas)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

RunStateName = Literal["idle", "queued", "running", "failed", "never"]


def money(cents: int) -> Decimal:
    """An amount stored in cents, as a Decimal with two places."""
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def cents(amount: float | Decimal | str) -> int:
    """An amount to the cent, half a cent up, as the Reports page rounds (`reports.py`)."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass(frozen=True)
class CampaignRow:
    campaign_id: str
    list_id: str
    list_name: str
    title: str
    subject: str
    sent_at: datetime
    recipients: int
    opens: int
    unique_opens: int
    open_rate: float  # 0..1
    clicks: int
    unique_clicks: int
    click_rate: float  # 0..1
    unsubscribes: int
    bounces: int
    orders: int
    revenue: Decimal
    currency: str | None
    collecting: bool  # still inside the activity update interval


@dataclass(frozen=True)
class DailyActivity:
    day: date
    opens: int
    clicks: int


@dataclass(frozen=True)
class EngagementSplit:
    engaged_customers: int
    unengaged_customers: int
    engaged_guests: int
    unengaged_guests: int


@dataclass(frozen=True)
class CustomerCampaign:
    campaign_id: str
    title: str
    sent_at: datetime
    opened: bool
    clicked: bool


@dataclass(frozen=True)
class AttributedOrder:
    order_id: str
    campaign_id: str
    campaign_title: str
    total: Decimal
    currency: str
    ordered_at: datetime | None


@dataclass(frozen=True)
class CustomerEngagement:
    campaigns_received: int
    opens: int
    clicks: int
    last_open: datetime | None
    last_click: datetime | None
    member_rating: int | None
    tags: dict[str, list[str]] = field(default_factory=dict)
    last_campaigns: list[CustomerCampaign] = field(default_factory=list)  # newest first, ≤10
    attributed_orders: list[AttributedOrder] = field(default_factory=list)


@dataclass(frozen=True)
class EngagementRun:
    activity_interval_days: int
    schedule_minutes: int
    state: RunStateName
    last_started_at: datetime | None
    last_finished_at: datetime | None
    next_run_at: datetime | None
    campaigns_total: int
    campaigns_done: int
    members_seen: int
    last_error: str | None
