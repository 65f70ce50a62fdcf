"""The dashboard's view of its installation."""

from __future__ import annotations

from fastapi import APIRouter

from addon.db.types import utcnow
from addon.dependencies import ServicesDep
from addon.errors import error_responses
from addon.installations.dashboard_auth import DashboardAuth
from addon.installations.schemas import InstallationRead, PausedWebhooks, paused_webhooks
from addon.installations.webhook_upkeep import resume_paused
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


@router.post("/installation/webhooks/resume", responses=error_responses(502))
async def resume_webhooks(auth: DashboardAuth, services: ServicesDep) -> PausedWebhooks:
    """Turn the app's webhooks a staff member paused in Saleor back on (the Activity page's
    notice); answers those paused still."""
    paused = await resume_paused(services, auth.installation.id)
    return PausedWebhooks(paused=paused_webhooks(paused), checked_at=utcnow())
