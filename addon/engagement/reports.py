"""The Reports page's numbers shaped from the repository's rows: revenue per recipient, any
column's sort order, the totals of a date range and the series its charts draw. Pure functions
(no session, no clock), so each rule is tested on its own."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from addon.engagement.schemas import (
    ActivityPoint,
    CampaignRead,
    CampaignSort,
    CampaignTotals,
    CurrencyAmount,
    RevenueBar,
    SortDirection,
)

CENT = Decimal("0.01")
HUNDREDTH_CENT = Decimal("0.0001")
TOP_REVENUE = 10  # bars in the revenue chart: more would not be read, the table has them all
LONGEST_FILL = 800  # days: a longer activity series keeps only its days with activity


class CampaignFacts(Protocol):
    """What the repository tells of a campaign (its CampaignRow)."""

    @property
    def campaign_id(self) -> str: ...
    @property
    def list_id(self) -> str: ...
    @property
    def list_name(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def sent_at(self) -> datetime | None: ...
    @property
    def recipients(self) -> int: ...
    @property
    def opens(self) -> int: ...
    @property
    def unique_opens(self) -> int: ...
    @property
    def open_rate(self) -> float: ...
    @property
    def clicks(self) -> int: ...
    @property
    def unique_clicks(self) -> int: ...
    @property
    def click_rate(self) -> float: ...
    @property
    def unsubscribes(self) -> int: ...
    @property
    def bounces(self) -> int: ...
    @property
    def orders(self) -> int: ...
    @property
    def revenue(self) -> Decimal: ...
    @property
    def currency(self) -> str | None: ...
    @property
    def collecting(self) -> bool: ...


class DayFacts(Protocol):
    @property
    def day(self) -> date: ...
    @property
    def opens(self) -> int: ...
    @property
    def clicks(self) -> int: ...


def day_bounds(
    sent_from: date | None, sent_to: date | None
) -> tuple[datetime | None, datetime | None]:
    """A range of whole days (UTC, both ends included) as the instants the repository takes:
    the first moment of `sent_from`, the last of `sent_to` (never past the calendar's end)."""
    start = datetime.combine(sent_from, time.min, UTC) if sent_from else None
    end = datetime.combine(sent_to, time.max, UTC) if sent_to else None
    return start, end


def per_recipient(revenue: Decimal, recipients: int) -> Decimal | None:
    if recipients <= 0:
        return None
    return (Decimal(revenue) / recipients).quantize(HUNDREDTH_CENT, ROUND_HALF_UP)


def campaign_read(row: CampaignFacts) -> CampaignRead:
    revenue = Decimal(row.revenue)
    rpr = per_recipient(revenue, row.recipients)
    return CampaignRead(
        campaign_id=row.campaign_id,
        list_id=row.list_id,
        list_name=row.list_name,
        title=row.title,
        subject=row.subject,
        sent_at=row.sent_at,
        recipients=row.recipients,
        opens=row.opens,
        unique_opens=row.unique_opens,
        open_rate=row.open_rate,
        clicks=row.clicks,
        unique_clicks=row.unique_clicks,
        click_rate=row.click_rate,
        unsubscribes=row.unsubscribes,
        bounces=row.bounces,
        orders=row.orders,
        revenue=float(revenue.quantize(CENT, ROUND_HALF_UP)),
        currency=row.currency,
        revenue_per_recipient=None if rpr is None else float(rpr),
        collecting=row.collecting,
    )


def _newest_first(campaign: CampaignRead) -> tuple[float, str]:
    sent = campaign.sent_at.timestamp() if campaign.sent_at else float("-inf")
    return (-sent, campaign.campaign_id)


# Amounts of money: only comparable within a currency.
MONEY_COLUMNS = frozenset({CampaignSort.REVENUE, CampaignSort.REVENUE_PER_RECIPIENT})


def sort_campaigns(
    campaigns: Iterable[CampaignRead], sort: CampaignSort, direction: SortDirection
) -> list[CampaignRead]:
    """Sorted by one column; campaigns without a value there (no recipients, not sent) come
    last either way, and equal values keep the newest send first (a stable, repeatable
    order). Text sorts without regard to case. Money sorts by currency first (90 USD and 80 EUR
    have no order without an exchange rate), then by amount: ascending, the campaigns without
    a currency (no revenue) first, then each currency's in the order of its code; descending,
    the reverse."""
    ordered = sorted(campaigns, key=_newest_first)  # the tie-break, kept by the stable sorts
    present = [c for c in ordered if getattr(c, sort.value) is not None]
    missing = [c for c in ordered if getattr(c, sort.value) is None]

    def key(campaign: CampaignRead) -> float | str | tuple[bool, str, float]:
        value = getattr(campaign, sort.value)
        if isinstance(value, str):
            return value.casefold()
        if isinstance(value, datetime):
            return value.timestamp()
        if sort in MONEY_COLUMNS:
            return (campaign.currency is not None, campaign.currency or "", float(value))
        return float(value)

    present.sort(key=key, reverse=direction is SortDirection.DESC)
    return present + missing


def _amounts(sums: dict[str | None, Decimal], quantum: Decimal) -> list[CurrencyAmount]:
    ranked = sorted(sums.items(), key=lambda item: (-item[1], item[0] or ""))
    return [
        CurrencyAmount(currency=currency, amount=float(amount.quantize(quantum, ROUND_HALF_UP)))
        for currency, amount in ranked
    ]


def totals(rows: Sequence[CampaignFacts]) -> CampaignTotals:
    """The range's sums. Rates as Mailchimp defines a campaign's ("the number of unique opens
    divided by the total number of successful deliveries"; clicks likewise): the campaigns'
    unique opens (clicks) over their deliveries, recipients less bounces. Revenue stays per
    currency, and so does revenue per recipient: a currency's revenue over the recipients of
    that currency's campaigns (those of a store selling in another currency bought nothing in
    this one)."""
    recipients = sum(r.recipients for r in rows)
    delivered = sum(max(r.recipients - r.bounces, 0) for r in rows)
    revenue: dict[str | None, Decimal] = defaultdict(Decimal)
    audience: dict[str | None, int] = defaultdict(int)  # recipients per currency
    for row in rows:
        audience[row.currency] += row.recipients
        if row.revenue or row.orders:
            revenue[row.currency] += Decimal(row.revenue)

    def per_delivery(unique: int) -> float | None:
        return round(unique / delivered, 6) if delivered > 0 else None

    unique_opens = sum(r.unique_opens for r in rows)
    unique_clicks = sum(r.unique_clicks for r in rows)

    return CampaignTotals(
        campaigns=len(rows),
        recipients=recipients,
        opens=sum(r.opens for r in rows),
        unique_opens=unique_opens,
        clicks=sum(r.clicks for r in rows),
        unique_clicks=unique_clicks,
        open_rate=per_delivery(unique_opens),
        click_rate=per_delivery(unique_clicks),
        unsubscribes=sum(r.unsubscribes for r in rows),
        bounces=sum(r.bounces for r in rows),
        orders=sum(r.orders for r in rows),
        revenue=_amounts(revenue, CENT),
        revenue_per_recipient=_amounts(
            {c: a / audience[c] for c, a in revenue.items() if audience[c] > 0}, HUNDREDTH_CENT
        ),
    )


def chart_currency(campaigns: Iterable[CampaignRead]) -> str | None:
    """The currency the revenue chart ranks in: the one of the most orders among the campaigns
    that brought revenue (orders compare across currencies, amounts do not), then of the most
    such campaigns, then the first code. None when no campaign brought revenue."""
    orders: dict[str | None, int] = defaultdict(int)
    earning: dict[str | None, int] = defaultdict(int)
    for c in campaigns:
        if c.revenue > 0:
            orders[c.currency] += c.orders
            earning[c.currency] += 1
    if not earning:
        return None
    return min(earning, key=lambda code: (-orders[code], -earning[code], code or ""))


def top_revenue(campaigns: Iterable[CampaignRead], limit: int = TOP_REVENUE) -> list[RevenueBar]:
    """The campaigns that brought revenue, most first (ties: newest send first), in one
    currency (`chart_currency`): 9,000 JPY is not more than 500 USD, and without exchange rates
    bars of two currencies have no order. The table has the others' campaigns."""
    campaigns = list(campaigns)
    currency = chart_currency(campaigns)
    earning = [
        c for c in sorted(campaigns, key=_newest_first) if c.revenue > 0 and c.currency == currency
    ]
    earning.sort(key=lambda c: c.revenue, reverse=True)
    return [
        RevenueBar(campaign_id=c.campaign_id, title=c.title, revenue=c.revenue, currency=c.currency)
        for c in earning[:limit]
    ]


def activity_series(days: Iterable[DayFacts]) -> list[ActivityPoint]:
    """Opens and clicks per day from the first day with activity to the last, the quiet days
    between as zeros, so a line chart's spacing is time (a span longer than LONGEST_FILL days
    keeps only its days with activity)."""
    merged: dict[date, list[int]] = {}
    for point in days:
        counts = merged.setdefault(point.day, [0, 0])
        counts[0] += point.opens
        counts[1] += point.clicks
    if not merged:
        return []
    first, last = min(merged), max(merged)
    span = (last - first).days + 1
    if span > LONGEST_FILL:
        wanted = sorted(merged)
    else:
        wanted = [first + timedelta(days=n) for n in range(span)]
    return [
        ActivityPoint(day=day, opens=merged.get(day, [0, 0])[0], clicks=merged.get(day, [0, 0])[1])
        for day in wanted
    ]
