"""The dashboard's audience settings API (MANAGE_APPS)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from addon.audiences.schemas import (
    AudiencesRead,
    NewsletterSettingsPatch,
    NewsletterSettingsUpdate,
    RefreshQueued,
)
from addon.audiences.service import AudienceService
from addon.dependencies import service_dependency
from addon.errors import error_responses
from addon.installations.dashboard_auth import DashboardAuth

router = APIRouter(prefix="/api/audiences")


Service = Annotated[AudienceService, service_dependency(AudienceService)]


@router.get("")
async def read_audiences(auth: DashboardAuth, service: Service) -> AudiencesRead:
    return await service.read(auth.installation.id)


@router.post("/refresh", status_code=202)
async def refresh_audiences(auth: DashboardAuth, service: Service) -> RefreshQueued:
    return await service.refresh(auth.installation.id)


@router.put("/settings", responses=error_responses(400))
async def update_settings(
    body: NewsletterSettingsUpdate, auth: DashboardAuth, service: Service
) -> AudiencesRead:
    """Replace every newsletter setting (omitted fields take their defaults)."""
    return await service.update(auth.installation.id, body)


@router.patch("/settings", responses=error_responses(400))
async def patch_settings(
    body: NewsletterSettingsPatch, auth: DashboardAuth, service: Service
) -> AudiencesRead:
    """Change only the given newsletter settings; the others keep their value."""
    return await service.patch(auth.installation.id, body)
