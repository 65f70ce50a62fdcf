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
    return InstallationRead.of(
        installation,
        refused_since=installation.token_refused_at,
        signing_key_ids=Jwks.model_validate(installation.jwks).key_ids,
        user_email=auth.claims.email,
        user_permissions=auth.claims.user_permissions,
    )
