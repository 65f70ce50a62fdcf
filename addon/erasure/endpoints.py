"""HTTP: erasing a customer from the customer panel (staff with MANAGE_USERS), and the erasure
setting (app settings, MANAGE_APPS)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from addon.dependencies import service_dependency
from addon.erasure.schemas import (
    EraseAddress,
    ErasureAccepted,
    ErasurePreview,
    ErasureSettingsRead,
    ErasureSettingsUpdate,
)
from addon.erasure.service import ErasureService
from addon.errors import error_responses
from addon.installations.dashboard_auth import (
    DashboardAuth,
    DashboardContext,
    require_dashboard,
)

router = APIRouter(prefix="/api/erasure")

# The customer panel's staff may manage customers; erasing one is part of that.
UsersAdmin = Annotated[DashboardContext, Depends(require_dashboard("MANAGE_USERS"))]
Service = Annotated[ErasureService, service_dependency(ErasureService)]


@router.get("/customers/{customer_id}", responses=error_responses(404, 502))
async def preview_erasure(customer_id: str, auth: UsersAdmin, service: Service) -> ErasurePreview:
    """What erasing the customer would erase (the confirmation names it)."""
    return await service.preview(auth.installation, customer_id)


@router.post("/customers/{customer_id}", status_code=202, responses=error_responses(404, 502))
async def erase_customer(customer_id: str, auth: UsersAdmin, service: Service) -> ErasureAccepted:
    """Erase the customer from Mailchimp and from the app's records (queued)."""
    return await service.erase(auth.installation, customer_id)


@router.post("/addresses", status_code=202, responses=error_responses(422))
async def erase_address(body: EraseAddress, auth: UsersAdmin, service: Service) -> ErasureAccepted:
    """Erase an e-mail address from Mailchimp and from the app's records (queued), whoever it
    belongs to: a guest shopper, a customer deleted in Saleor, a request Mailchimp forwards."""
    return await service.erase_address(auth.installation, body.email)


@router.get("/settings")
async def read_settings(auth: DashboardAuth, service: Service) -> ErasureSettingsRead:
    return await service.settings(auth.installation.id)


@router.put("/settings")
async def update_settings(
    body: ErasureSettingsUpdate, auth: DashboardAuth, service: Service
) -> ErasureSettingsRead:
    return await service.update_settings(auth.installation.id, body)
