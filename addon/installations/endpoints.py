"""The dashboard's view of its installation."""

from __future__ import annotations

from fastapi import APIRouter

from addon.installations.dashboard_auth import DashboardAuth
from addon.installations.schemas import InstallationRead
from addon.saleor.schemas import Jwks

router = APIRouter(prefix="/api")


@router.get("/installation")
async def read_installation(auth: DashboardAuth) -> InstallationRead:
    """The installation, with how its state changes were noticed and its Saleor version."""
    installation = auth.installation
    return InstallationRead(
        saleor_api_url=installation.saleor_api_url,
        saleor_domain=installation.saleor_domain,
        saleor_version=installation.saleor_version,
        app_id=installation.app_id,
        is_active=installation.is_active,
        status_noticed_by=installation.status_noticed_by,
        refused_since=installation.token_refused_at,
        checked_at=installation.checked_at,
        installed_at=installation.installed_at,
        updated_at=installation.updated_at,
        signing_key_ids=Jwks.model_validate(installation.jwks).key_ids,
        user_email=auth.claims.email,
        user_permissions=auth.claims.user_permissions,
    )
