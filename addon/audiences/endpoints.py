"""The dashboard's audience settings API (MANAGE_APPS)."""

from __future__ import annotations

from fastapi import APIRouter

from addon.audiences.schemas import (
    AudiencesRead,
    NewsletterSettingsPatch,
    NewsletterSettingsUpdate,
    RefreshQueued,
)
from addon.audiences.service import AudienceService
from addon.dependencies import ServicesDep, SessionDep
from addon.errors import error_responses
from addon.installations.dashboard_auth import DashboardAuth

router = APIRouter(prefix="/api/audiences")


@router.get("")
async def read_audiences(
    auth: DashboardAuth, session: SessionDep, services: ServicesDep
) -> AudiencesRead:
    return await AudienceService(session, services).read(auth.installation.id)


@router.post("/refresh", status_code=202)
async def refresh_audiences(
    auth: DashboardAuth, session: SessionDep, services: ServicesDep
) -> RefreshQueued:
    return await AudienceService(session, services).refresh(auth.installation.id)


@router.put("/settings", responses=error_responses(400))
async def update_settings(
    body: NewsletterSettingsUpdate, auth: DashboardAuth, session: SessionDep, services: ServicesDep
) -> AudiencesRead:
    """Replace every newsletter setting (omitted fields take their defaults)."""
    return await AudienceService(session, services).update(auth.installation.id, body)


@router.patch("/settings", responses=error_responses(400))
async def patch_settings(
    body: NewsletterSettingsPatch, auth: DashboardAuth, session: SessionDep, services: ServicesDep
) -> AudiencesRead:
    """Change only the given newsletter settings; the others keep their value."""
    return await AudienceService(session, services).patch(auth.installation.id, body)
