"""HTTP: the Reports page (campaigns, charts, the collection's progress and settings; dashboard
users with MANAGE_APPS) and a customer's engagement for the customer panel (MANAGE_USERS)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from addon.dependencies import SessionDep
from addon.engagement import reports, repository, service
from addon.engagement.schemas import (
    CampaignReport,
    CampaignSort,
    CustomerEngagementRead,
    EngagementRunRead,
    EngagementSettingsUpdate,
    EngagementSplitRead,
    SortDirection,
)
from addon.errors import ErrorCode, NotFound, Unprocessable, error_responses
from addon.installations.dashboard_auth import DashboardAuth, DashboardContext, require_dashboard

router = APIRouter(prefix="/api/engagement")

# The customer panel's staff may manage customers; their engagement is part of that.
UsersAdmin = Annotated[DashboardContext, Depends(require_dashboard("MANAGE_USERS"))]
Day = Annotated[date | None, Query(description="A day (YYYY-MM-DD, UTC), included.")]


@router.get("/campaigns", responses=error_responses(422))
async def read_campaigns(
    auth: DashboardAuth,
    session: SessionDep,
    sent_from: Day = None,
    sent_to: Day = None,
    sort: CampaignSort = CampaignSort.SENT_AT,
    direction: SortDirection = SortDirection.DESC,
) -> CampaignReport:
    """The campaigns sent in the range with their results and totals, the charts' series, the
    customers' engagement and the collection's progress."""
    if sent_from and sent_to and sent_from > sent_to:
        raise Unprocessable("The start date is after the end date; swap them.")
    start, end = reports.day_bounds(sent_from, sent_to)
    installation_id = auth.installation.id
    rows = await repository.campaign_rows(session, installation_id, sent_from=start, sent_to=end)
    days = await repository.daily_activity(session, installation_id, sent_from=start, sent_to=end)
    campaigns = [reports.campaign_read(row) for row in rows]
    return CampaignReport(
        sent_from=sent_from,
        sent_to=sent_to,
        sort=sort,
        direction=direction,
        campaigns=reports.sort_campaigns(campaigns, sort, direction),
        totals=reports.totals(rows),
        top_revenue=reports.top_revenue(campaigns),
        activity=reports.activity_series(days),
        split=EngagementSplitRead.model_validate(
            await repository.engagement_split(session, installation_id)
        ),
        run=EngagementRunRead.model_validate(await repository.run_status(session, installation_id)),
    )


@router.post("/sync", status_code=202)
async def sync_now(auth: DashboardAuth, session: SessionDep) -> EngagementRunRead:
    """Collect engagement now (queued; asking again while it is queued or running changes
    nothing)."""
    run = await service.request_sync(session, auth.installation.id)
    return EngagementRunRead.model_validate(run)


@router.get("/settings")
async def read_settings(auth: DashboardAuth, session: SessionDep) -> EngagementRunRead:
    """The activity update interval and the schedule, with the collection's progress."""
    return EngagementRunRead.model_validate(
        await repository.run_status(session, auth.installation.id)
    )


@router.put("/settings", responses=error_responses(422))
async def update_settings(
    body: EngagementSettingsUpdate, auth: DashboardAuth, session: SessionDep
) -> EngagementRunRead:
    run = await service.update_settings(
        session,
        auth.installation.id,
        activity_interval_days=body.activity_interval_days,
        schedule_minutes=body.schedule_minutes,
    )
    return EngagementRunRead.model_validate(run)


@router.get("/customers/{customer_id}", responses=error_responses(404))
async def read_customer(
    customer_id: Annotated[str, Path(min_length=1, max_length=200)],
    auth: UsersAdmin,
    session: SessionDep,
) -> CustomerEngagementRead:
    """The customer's engagement: campaigns received, opens, clicks, rating, last campaigns and
    attributed orders (404 while Mailchimp has told nothing of them)."""
    found = await repository.customer_engagement(session, auth.installation.id, customer_id)
    if found is None:
        raise NotFound(
            "Mailchimp has reported no campaign activity for this customer yet.",
            code=ErrorCode.NOT_FOUND,
        )
    return CustomerEngagementRead.model_validate(found)
