"""The initial-sync API of the E-commerce page (dashboard users with MANAGE_APPS)."""

from __future__ import annotations

from fastapi import APIRouter

from addon.dependencies import ServicesDep, SessionDep
from addon.errors import error_responses
from addon.initial_sync.schemas import InitialSyncRead, StartRequest
from addon.initial_sync.service import InitialSyncService
from addon.installations.dashboard_auth import DashboardAuth

router = APIRouter(prefix="/api/ecommerce/channels/{slug}/initial-sync")


@router.post("", status_code=202, responses=error_responses(404, 409))
async def start_initial_sync(
    slug: str,
    auth: DashboardAuth,
    session: SessionDep,
    services: ServicesDep,
    body: StartRequest | None = None,
) -> InitialSyncRead:
    """Send the channel's products, customers and orders to Mailchimp (409 while one runs)."""
    return await InitialSyncService(session, services).start(auth.installation, slug, body)


@router.get("", responses=error_responses(404))
async def read_initial_sync(
    slug: str, auth: DashboardAuth, session: SessionDep, services: ServicesDep
) -> InitialSyncRead:
    """The channel's latest initial sync with progress per kind."""
    return await InitialSyncService(session, services).read(auth.installation, slug)


@router.delete("", responses=error_responses(404))
async def cancel_initial_sync(
    slug: str, auth: DashboardAuth, session: SessionDep, services: ServicesDep
) -> InitialSyncRead:
    return await InitialSyncService(session, services).cancel(auth.installation, slug)
