"""The dashboard's audience settings API (MANAGE_APPS)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from addon.audiences.mapping import MappingRead, MappingService, MappingUpdate, NewMergeField
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
Mapping = Annotated[MappingService, service_dependency(MappingService)]


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


@router.get("/{list_id}/mapping", responses=error_responses(400, 404))
async def read_mapping(list_id: str, auth: DashboardAuth, mapping: Mapping) -> MappingRead:
    """The audience's merge fields and what fills each of them."""
    return await mapping.read(auth.installation.id, list_id)


@router.put("/{list_id}/mapping", responses=error_responses(400, 404))
async def update_mapping(
    list_id: str, body: MappingUpdate, auth: DashboardAuth, mapping: Mapping
) -> MappingRead:
    """Replace the audience's mapping (merge fields left out are no longer filled)."""
    return await mapping.update(auth.installation.id, list_id, body)


@router.post("/{list_id}/merge-fields", status_code=201, responses=error_responses(400, 404, 502))
async def create_merge_field(
    list_id: str, body: NewMergeField, auth: DashboardAuth, mapping: Mapping
) -> MappingRead:
    """Create a merge field in Mailchimp (e.g. one the mapping needs and the audience lacks)."""
    return await mapping.create_merge_field(auth.installation.id, list_id, body)
