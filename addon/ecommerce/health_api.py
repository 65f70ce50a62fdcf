"""The E-commerce page's abandoned-cart health panel and its site-script check (MANAGE_APPS).

The routes that ask Mailchimp open no transaction of the request's (on SQLite one holds the
database's write lock, on PostgreSQL a pooled connection, for as long as Mailchimp takes to
answer): `store_checks` reads and writes in short sessions of its own, and the answer is read
afresh in a short transaction.
"""

from __future__ import annotations

from fastapi import APIRouter

from addon.dependencies import ServicesDep, SessionDep
from addon.ecommerce import store_checks
from addon.ecommerce.cart_health import CartHealth, health_of
from addon.ecommerce.channel_state import LATEST_INITIAL_SYNC
from addon.errors import error_responses
from addon.installations.dashboard_auth import DashboardAuth
from addon.services import Services

router = APIRouter(prefix="/api/ecommerce")


async def _health(services: Services, installation_id: int) -> CartHealth:
    # A transaction: the health may create the installation's e-commerce settings row.
    async with services.db.transaction() as session:
        return await health_of(session, installation_id, services.ports[LATEST_INITIAL_SYNC])


@router.get("/health")
async def read_health(
    auth: DashboardAuth, session: SessionDep, services: ServicesDep
) -> CartHealth:
    """Per tracked channel: can abandoned-cart e-mails fire (from the last check of Mailchimp)?"""
    return await health_of(session, auth.installation.id, services.ports[LATEST_INITIAL_SYNC])


@router.post("/health/check", responses=error_responses(409))
async def check_health(auth: DashboardAuth, services: ServicesDep) -> CartHealth:
    """Ask Mailchimp about each created store (automation, syncing, site script), then answer
    like GET /api/ecommerce/health."""
    await store_checks.refresh(services, auth.installation.id)
    return await _health(services, auth.installation.id)


@router.post("/channels/{slug}/site-script/verify", responses=error_responses(400, 404, 409, 502))
async def verify_site_script(slug: str, auth: DashboardAuth, services: ServicesDep) -> CartHealth:
    """Ask Mailchimp to find the channel's site script on the storefront; answers the health
    with `script_verified_at` set, or 400 SITE_SCRIPT_NOT_FOUND saying what to do."""
    await store_checks.verify_script(services, auth.installation.id, slug)
    return await _health(services, auth.installation.id)
