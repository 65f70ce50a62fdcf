"""The E-commerce page's abandoned-cart health panel and its site-script check (MANAGE_APPS)."""

from __future__ import annotations

from fastapi import APIRouter

from addon.dependencies import ServicesDep, SessionDep
from addon.ecommerce import store_checks
from addon.ecommerce.cart_health import CartHealth, health_of
from addon.ecommerce.channel_state import LATEST_INITIAL_SYNC
from addon.errors import error_responses
from addon.installations.dashboard_auth import DashboardAuth

router = APIRouter(prefix="/api/ecommerce")


@router.get("/health")
async def read_health(
    auth: DashboardAuth, session: SessionDep, services: ServicesDep
) -> CartHealth:
    """Per tracked channel: can abandoned-cart e-mails fire (from the last check of Mailchimp)?"""
    return await health_of(session, auth.installation.id, services.ports[LATEST_INITIAL_SYNC])


@router.post("/health/check", responses=error_responses(409))
async def check_health(
    auth: DashboardAuth, session: SessionDep, services: ServicesDep
) -> CartHealth:
    """Ask Mailchimp about each created store (automation, syncing, site script), then answer
    like GET /api/ecommerce/health."""
    await store_checks.refresh(session, services, auth.installation.id)
    return await health_of(session, auth.installation.id, services.ports[LATEST_INITIAL_SYNC])


@router.post("/channels/{slug}/site-script/verify", responses=error_responses(400, 404, 409, 502))
async def verify_site_script(
    slug: str, auth: DashboardAuth, session: SessionDep, services: ServicesDep
) -> CartHealth:
    """Ask Mailchimp to find the channel's site script on the storefront; answers the health
    with `script_verified_at` set, or 400 SITE_SCRIPT_NOT_FOUND saying what to do."""
    await store_checks.verify_script(session, services, auth.installation.id, slug)
    return await health_of(session, auth.installation.id, services.ports[LATEST_INITIAL_SYNC])
