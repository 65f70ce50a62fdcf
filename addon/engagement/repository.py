"""Reads of collected engagement for the Reports page and the customer panel (the collector's
writes are in `store.py`).

Time bounds are inclusive (`sent_from <= sent_at <= sent_to`); "now" is the process's clock, so
"still collecting" and "engaged" move with it in tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypeVarTuple

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.engagement.models import (
    DEFAULT_INTERVAL_DAYS,
    DEFAULT_SCHEDULE_MINUTES,
    EngagementCampaign,
    EngagementDay,
    EngagementMember,
    EngagementMemberCampaign,
    EngagementOrder,
    EngagementSettings,
    RunState,
)
from addon.engagement.views import (
    AttributedOrder,
    CampaignRow,
    CustomerCampaign,
    CustomerEngagement,
    DailyActivity,
    EngagementRun,
    EngagementSplit,
    money,
)

__all__ = [
    "campaign_rows",
    "customer_engagement",
    "daily_activity",
    "engagement_split",
    "interval_days",
    "run_status",
]

LAST_CAMPAIGNS = 10
Columns = TypeVarTuple("Columns")


async def interval_days(session: AsyncSession, installation_id: int) -> int:
    settings = await session.get(EngagementSettings, installation_id)
    return settings.activity_interval_days if settings else DEFAULT_INTERVAL_DAYS


def _sent_between(
    statement: Select[*Columns], sent_from: datetime | None, sent_to: datetime | None
) -> Select[*Columns]:
    if sent_from is not None:
        statement = statement.where(EngagementCampaign.sent_at >= sent_from)
    if sent_to is not None:
        statement = statement.where(EngagementCampaign.sent_at <= sent_to)
    return statement


async def campaign_rows(
    session: AsyncSession,
    installation_id: int,
    *,
    sent_from: datetime | None,
    sent_to: datetime | None,
) -> list[CampaignRow]:
    """The campaigns sent in the range, newest first."""
    horizon = utcnow() - timedelta(days=await interval_days(session, installation_id))
    statement = _sent_between(
        EngagementCampaign.of_installation(installation_id), sent_from, sent_to
    ).order_by(EngagementCampaign.sent_at.desc(), EngagementCampaign.id.desc())
    return [
        CampaignRow(
            campaign_id=c.campaign_id,
            list_id=c.list_id,
            list_name=c.list_name,
            title=c.title,
            subject=c.subject,
            sent_at=c.sent_at,
            recipients=c.recipients,
            opens=c.opens,
            unique_opens=c.unique_opens,
            open_rate=c.open_rate,
            clicks=c.clicks,
            unique_clicks=c.unique_clicks,
            click_rate=c.click_rate,
            unsubscribes=c.unsubscribes,
            bounces=c.bounces,
            orders=c.orders,
            revenue=money(c.revenue_cents),
            currency=c.currency,
            collecting=c.sent_at > horizon,
        )
        for c in await session.scalars(statement)
    ]


async def daily_activity(
    session: AsyncSession,
    installation_id: int,
    *,
    sent_from: datetime | None,
    sent_to: datetime | None,
) -> list[DailyActivity]:
    """Opens and clicks per day (UTC) of the campaigns sent in the range, oldest day first."""
    statement = _sent_between(
        select(EngagementDay.day, func.sum(EngagementDay.opens), func.sum(EngagementDay.clicks))
        .join(
            EngagementCampaign,
            (EngagementCampaign.installation_id == EngagementDay.installation_id)
            & (EngagementCampaign.campaign_id == EngagementDay.campaign_id),
        )
        .where(EngagementDay.installation_id == installation_id),
        sent_from,
        sent_to,
    )
    statement = statement.group_by(EngagementDay.day).order_by(EngagementDay.day)
    return [
        DailyActivity(day=day, opens=int(opens or 0), clicks=int(clicks or 0))
        for day, opens, clicks in await session.execute(statement)
    ]


async def engagement_split(session: AsyncSession, installation_id: int) -> EngagementSplit:
    """Customers and guests who opened or clicked at least once in the activity interval, and
    those who did not. A customer counts once however many members (addresses) they have, as
    engaged if any of them is; a guest is one member."""
    horizon = utcnow() - timedelta(days=await interval_days(session, installation_id))
    member = EngagementMember
    engaged = (member.last_open >= horizon) | (member.last_click >= horizon)
    is_guest = member.saleor_user_id.is_(None)
    # COUNT(DISTINCT ...) skips NULLs: the customers, and those of them with an engaged member.
    statement = select(
        func.count(func.distinct(case((engaged, member.saleor_user_id)))),
        func.count(func.distinct(member.saleor_user_id)),
        func.count(case((is_guest & engaged, 1))),
        func.count(case((is_guest, 1))),
    ).where(member.installation_id == installation_id)
    engaged_customers, customers, engaged_guests, guests = (await session.execute(statement)).one()
    return EngagementSplit(
        engaged_customers=engaged_customers,
        unengaged_customers=customers - engaged_customers,
        engaged_guests=engaged_guests,
        unengaged_guests=guests - engaged_guests,
    )


def _latest(values: Sequence[datetime | None]) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


async def customer_engagement(
    session: AsyncSession, installation_id: int, saleor_user_id: str
) -> CustomerEngagement | None:
    """The customer's engagement (None if the app has collected none for them). A customer who
    changed address may have been two members: their figures add up."""
    members = list(
        await session.scalars(
            EngagementMember.of_installation(installation_id)
            .where(EngagementMember.saleor_user_id == saleor_user_id)
            .order_by(EngagementMember.id)
        )
    )
    if not members:
        return None
    ids = [m.id for m in members]
    tags: dict[str, list[str]] = {}
    for m in members:
        for list_id, names in (m.tags or {}).items():
            tags[list_id] = sorted(set(tags.get(list_id, [])) | set(names))
    ratings = [m.member_rating for m in members if m.member_rating is not None]
    received = {c for m in members for c in m.recent_campaigns or []}

    campaigns = {
        c.campaign_id: c
        for c in await session.scalars(
            EngagementCampaign.of_installation(installation_id).where(
                EngagementCampaign.campaign_id.in_(received)
            )
        )
    }
    activity: dict[str, tuple[bool, bool]] = {}
    rows = await session.execute(
        select(
            EngagementMemberCampaign.campaign_id,
            func.sum(EngagementMemberCampaign.opens),
            func.sum(EngagementMemberCampaign.clicks),
        )
        .where(
            EngagementMemberCampaign.installation_id == installation_id,
            EngagementMemberCampaign.member_id.in_(ids),
        )
        .group_by(EngagementMemberCampaign.campaign_id)
    )
    for campaign_id, opens, clicks in rows:
        activity[campaign_id] = (bool(opens), bool(clicks))
    last = sorted(campaigns.values(), key=lambda c: (c.sent_at, c.id), reverse=True)
    last_campaigns = [
        CustomerCampaign(
            campaign_id=c.campaign_id,
            title=c.title,
            sent_at=c.sent_at,
            opened=activity.get(c.campaign_id, (False, False))[0],
            clicked=activity.get(c.campaign_id, (False, False))[1],
        )
        for c in last[:LAST_CAMPAIGNS]
    ]

    orders = await session.execute(
        select(EngagementOrder, EngagementCampaign.title)
        .outerjoin(
            EngagementCampaign,
            (EngagementCampaign.installation_id == EngagementOrder.installation_id)
            & (EngagementCampaign.campaign_id == EngagementOrder.campaign_id),
        )
        .where(
            EngagementOrder.installation_id == installation_id,
            EngagementOrder.member_id.in_(ids),
        )
        .order_by(EngagementOrder.ordered_at.desc(), EngagementOrder.id.desc())
    )
    attributed = [
        AttributedOrder(
            order_id=order.order_id,
            campaign_id=order.campaign_id,
            campaign_title=title or "",
            total=money(order.total_cents),
            currency=order.currency,
            ordered_at=order.ordered_at,
        )
        for order, title in orders
    ]
    return CustomerEngagement(
        campaigns_received=sum(m.campaigns_received for m in members),
        opens=sum(m.opens for m in members),
        clicks=sum(m.clicks for m in members),
        last_open=_latest([m.last_open for m in members]),
        last_click=_latest([m.last_click for m in members]),
        member_rating=max(ratings) if ratings else None,
        tags=tags,
        last_campaigns=last_campaigns,
        attributed_orders=attributed,
    )


async def run_status(session: AsyncSession, installation_id: int) -> EngagementRun:
    """The settings and the collection's progress (defaults before anything was set or run)."""
    row = await session.get(EngagementSettings, installation_id)
    if row is None:
        return EngagementRun(
            activity_interval_days=DEFAULT_INTERVAL_DAYS,
            schedule_minutes=DEFAULT_SCHEDULE_MINUTES,
            state=RunState.NEVER.value,
            last_started_at=None,
            last_finished_at=None,
            next_run_at=None,
            campaigns_total=0,
            campaigns_done=0,
            members_seen=0,
            last_error=None,
        )
    return EngagementRun(
        activity_interval_days=row.activity_interval_days,
        schedule_minutes=row.schedule_minutes,
        state=row.state.value,
        last_started_at=row.last_started_at,
        last_finished_at=row.last_finished_at,
        next_run_at=row.next_run_at,
        campaigns_total=row.campaigns_total,
        campaigns_done=row.campaigns_done,
        members_seen=row.members_seen,
        last_error=row.last_error,
    )
