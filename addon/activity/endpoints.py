"""The Activity page's API: recent events and jobs, and Retry for quarantined items."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from addon.activity.schemas import ActivityList, RetryResult
from addon.activity.service import ActivityService
from addon.db.ids import BigDbId
from addon.dependencies import ServicesDep, SessionDep
from addon.ecommerce.channel_state import LATEST_INITIAL_SYNC
from addon.errors import error_responses
from addon.installations.dashboard_auth import DashboardAuth
from addon.installations.schemas import key_blocked_problem, paused_webhooks
from addon.jobs.models import JobStatus

router = APIRouter(prefix="/api/activity")


@router.get("")
async def list_activity(
    auth: DashboardAuth,
    session: SessionDep,
    services: ServicesDep,
    status: Annotated[JobStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ActivityList:
    overview = await ActivityService(session).overview(
        auth.installation.id,
        status=status,
        limit=limit,
        latest_initial_sync=services.ports[LATEST_INITIAL_SYNC],
    )
    overview.paused_webhooks = paused_webhooks(auth.installation.webhooks_paused)
    overview.delivery_key_problem = key_blocked_problem(auth.installation.webhooks_key_blocked)
    return overview


@router.post("/jobs/{job_id}/retry", responses=error_responses(404, 409))
async def retry_job(job_id: BigDbId, auth: DashboardAuth, session: SessionDep) -> RetryResult:
    return await ActivityService(session).retry(auth.installation.id, job_id)
