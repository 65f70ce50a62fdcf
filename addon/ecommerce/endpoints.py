"""The E-commerce page's API (dashboard users with MANAGE_APPS)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from addon.db.ids import DbId
from addon.dependencies import service_dependency
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.page_schemas import (
    ActionResult,
    ChannelTracking,
    EcommerceRead,
    RecordRead,
    ResyncRequest,
)
from addon.ecommerce.service import EcommerceService
from addon.ecommerce.settings_api import (
    SettingsCheck,
    SettingsDraft,
    SettingsUpdate,
    setting_problems,
)
from addon.errors import error_responses
from addon.installations.dashboard_auth import DashboardAuth

router = APIRouter(prefix="/api/ecommerce")


Service = Annotated[EcommerceService, service_dependency(EcommerceService)]


@router.get("", responses=error_responses(502))
async def read_ecommerce(auth: DashboardAuth, service: Service) -> EcommerceRead:
    """Settings, channels with their Mailchimp stores, and sync counts per entity kind."""
    return await service.read(auth.installation)


@router.patch("/settings", responses=error_responses(502))
async def update_settings(
    body: SettingsUpdate, auth: DashboardAuth, service: Service
) -> EcommerceRead:
    # Saleor is asked before the transaction begins (see EcommerceService.read).
    channels = await service.saleor_channels(auth.installation)
    await service.update_settings(auth.installation, body)
    return await service.read(auth.installation, channels)


@router.post("/settings/check")
async def check_settings(body: SettingsDraft, auth: DashboardAuth) -> SettingsCheck:
    """What saving these link templates and tracking rules would refuse, per field, in the
    save's own words; nothing is saved. The page checks with this before it saves."""
    return SettingsCheck(problems=setting_problems(body))


@router.put("/channels/{slug}", responses=error_responses(400, 404, 502))
async def track_channel(
    slug: str,
    body: ChannelTracking,
    auth: DashboardAuth,
    service: Service,
) -> EcommerceRead:
    """Track a channel in the chosen audience's store (a new audience means a new store)."""
    channels = await service.saleor_channels(auth.installation)  # before the transaction
    await service.track_channel(auth.installation, slug, body, channels)
    return await service.read(auth.installation, channels)


@router.post("/channels/{slug}/follow", responses=error_responses(404, 409, 502))
async def follow_channel(slug: str, auth: DashboardAuth, service: Service) -> ActionResult:
    """Follow a tracked channel to the slug Saleor lists it under now (its slug was changed):
    the same Mailchimp store goes on under the new slug."""
    channels = await service.saleor_channels(auth.installation)  # before the transaction
    return await service.follow_channel(auth.installation, slug, channels)


@router.post("/channels/{slug}/resync", responses=error_responses(404, 409))
async def resync_channel(
    slug: str,
    auth: DashboardAuth,
    service: Service,
    body: ResyncRequest | None = None,
) -> ActionResult:
    kind = body.kind if body else None
    return await service.resync(auth.installation, slug, kind)


@router.post("/stores/check", responses=error_responses(502))
async def check_stores(auth: DashboardAuth, service: Service) -> EcommerceRead:
    """Ask Mailchimp whether each tracked channel's store still exists (once per page load);
    answers like GET /api/ecommerce, with deleted stores as `missing`."""
    return await service.check_stores(auth.installation)


@router.post("/channels/{slug}/store/recreate", responses=error_responses(404, 409, 502))
async def recreate_store(slug: str, auth: DashboardAuth, service: Service) -> ActionResult:
    """Re-create a store deleted in Mailchimp and send the channel's data to it again."""
    return await service.recreate_store(auth.installation, slug)


@router.get("/records")
async def list_records(
    auth: DashboardAuth,
    service: Service,
    channel: str | None = None,
    kind: EntityKind | None = None,
    status: SyncStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RecordRead]:
    return await service.records(
        auth.installation, channel=channel, kind=kind, status=status, limit=limit
    )


@router.post("/records/{record_id}/retry", responses=error_responses(404, 409))
async def retry_record(record_id: DbId, auth: DashboardAuth, service: Service) -> ActionResult:
    return await service.retry(auth.installation, record_id)
