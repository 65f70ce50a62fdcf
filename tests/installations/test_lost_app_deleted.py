"""An APP_DELETED lost after a deactivation Saleor told by webhook (Saleor 3.23.5+).

The token of a deactivated app is refused exactly as a deleted one's, so once APP_STATUS_CHANGED
said "deactivated" the lifecycle check takes a refusal for that deactivation and never erases:
a deletion is expected to come as APP_DELETED. That holds only while the app could receive it.
Saleor retries a delivery for about five minutes, then drops it; a web outage longer than that
(`outage.py` sees it) may have lost it, and from then on a refusal that lasts the grace period
is taken for the uninstall, as where Saleor sends no lifecycle webhooks at all.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from addon.clock import ManualClock
from addon.installations.models import InstallationErasure, LifecycleSignal
from addon.installations.outage import beat
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.saleor.versions import CURRENT_VERSION
from sandboxes.transport import HostRoutingTransport
from tests.conftest import dashboard_headers
from tests.test_saleor_versions import (
    CONFIRM,
    GRACE,
    INTERVAL,
    lifecycle_settings,
    pass_time,
    saleor,
    stored,
)

__all__ = ["lifecycle_settings", "saleor"]  # the fixtures, imported

OUTAGE = 240.0

pytestmark = pytest.mark.parametrize("saleor", [CURRENT_VERSION], indirect=True)


async def _beat(services: Services) -> None:
    """A web process's heartbeat (`outage.beat`), watching for outages of `OUTAGE`: called by
    the test alone, as the clock's jumps over days would be outages to the processes' own."""
    settings = services.settings
    services.settings = settings.model_copy(update={"webhook_outage_seconds": OUTAGE})
    try:
        await beat(services)
    finally:
        services.settings = settings


async def _paused_by_webhook(
    saleor: SaleorSandbox, app: SandboxApp, services: Services, clock: ManualClock
) -> None:
    [delivery] = await saleor.set_app_active(app, False)  # APP_STATUS_CHANGED: paused at once
    assert delivery.ok
    installation = await stored(services)
    assert installation is not None and not installation.is_active
    assert installation.status_noticed_by is LifecycleSignal.WEBHOOK
    await pass_time(services, clock, INTERVAL)  # checks: the refusal is the deactivation's
    await _beat(services)  # the web process up, from here on


async def _outage(
    services: Services, clock: ManualClock, network: HostRoutingTransport, during: Awaitable[object]
) -> None:
    """Every web process down while `during` happens in Saleor, up again after Saleor gave up."""
    app = network.remove("app.test")
    await during
    network.add("app.test", app)
    clock.advance(OUTAGE + 60)
    await _beat(services)


async def test_an_app_deleted_lost_in_an_outage_still_erases_after_the_grace(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    clock: ManualClock,
    network: HostRoutingTransport,
) -> None:
    await _paused_by_webhook(saleor, installed_app, services, clock)
    await _outage(services, clock, network, saleor.uninstall_app(installed_app))
    assert [d.ok for d in saleor.deliveries if d.event_type == "APP_DELETED"] == [False]
    await pass_time(services, clock, INTERVAL)
    await pass_time(services, clock, CONFIRM)
    assert await stored(services) is not None  # not before the grace period
    await pass_time(services, clock, GRACE)
    await pass_time(services, clock, INTERVAL)
    assert await stored(services) is None
    async with services.db.session() as session:
        [erasure] = (await session.execute(select(InstallationErasure))).scalars()
    assert erasure.noticed_by is LifecycleSignal.WEBHOOK_LOST


async def test_without_an_outage_a_long_deactivation_is_kept(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    clock: ManualClock,
) -> None:
    await _paused_by_webhook(saleor, installed_app, services, clock)
    for _ in range(3):
        clock.advance(OUTAGE - 60)
        await _beat(services)  # heartbeats on time: every lifecycle delivery could arrive
    await pass_time(services, clock, GRACE)
    await pass_time(services, clock, INTERVAL)
    installation = await stored(services)
    assert installation is not None and not installation.is_active


async def test_an_activation_after_the_outage_forgets_it(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    clock: ManualClock,
    network: HostRoutingTransport,
) -> None:
    await _paused_by_webhook(saleor, installed_app, services, clock)
    await _outage(services, clock, network, pass_time(services, clock, 0))
    [delivery] = await saleor.set_app_active(installed_app, True)  # resumed by the webhook
    assert delivery.ok
    [delivery] = await saleor.set_app_active(installed_app, False)  # a new deactivation
    assert delivery.ok
    await pass_time(services, clock, GRACE)
    await pass_time(services, clock, INTERVAL)
    installation = await stored(services)
    assert installation is not None and not installation.is_active  # kept: told, no outage since


async def test_a_dashboard_load_seeing_the_app_deactivated_ends_the_doubt(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    clock: ManualClock,
    network: HostRoutingTransport,
    app_client: httpx.AsyncClient,
) -> None:
    await _paused_by_webhook(saleor, installed_app, services, clock)
    await _outage(services, clock, network, pass_time(services, clock, 0))
    installation = await stored(services)
    assert installation is not None
    assert installation.token_refused_noticed_by is LifecycleSignal.WEBHOOK_LOST
    response = await app_client.get(
        "/api/installation", headers=dashboard_headers(saleor, installed_app)
    )
    assert response.status_code == 200, response.text  # Saleor shows the app: not deleted
    await pass_time(services, clock, GRACE)
    await pass_time(services, clock, INTERVAL)
    installation = await stored(services)
    assert installation is not None and not installation.is_active


async def test_an_app_deleted_that_arrives_while_paused_erases_at_once(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    clock: ManualClock,
) -> None:
    await _paused_by_webhook(saleor, installed_app, services, clock)
    [delivery] = await saleor.uninstall_app(installed_app)
    assert json.loads(delivery.response_body)["outcome"] == "uninstalled"
    await pass_time(services, clock, 0)  # its last job: Mailchimp cleaned up, then erased
    assert await stored(services) is None
    async with services.db.session() as session:
        [erasure] = (await session.execute(select(InstallationErasure))).scalars()
    assert erasure.noticed_by is LifecycleSignal.WEBHOOK


def _api_unavailable(saleor: SaleorSandbox) -> Starlette:
    """Saleor's GraphQL API failing (503), its signing keys still served."""

    async def graphql(_: Request) -> Response:
        return Response("Service Unavailable", status_code=503)

    async def jwks(_: Request) -> Response:
        return JSONResponse(saleor.jwks())

    return Starlette(
        routes=[
            Route("/graphql/", graphql, methods=["POST"]),
            Route("/.well-known/jwks.json", jwks),
        ]
    )


async def test_an_app_deleted_saleor_could_not_confirm_still_erases_after_the_grace(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    clock: ManualClock,
    network: HostRoutingTransport,
) -> None:
    """The app up, but Saleor's API out of its reach while APP_DELETED comes: the app answers
    a 5xx to have it again, and Saleor may give up on it (the sandbox sends it once)."""
    await _paused_by_webhook(saleor, installed_app, services, clock)
    network.add("saleor.test", _api_unavailable(saleor))
    [delivery] = await saleor.uninstall_app(installed_app)
    assert delivery.status_code == 502  # a 5xx: Saleor retries it, for five minutes
    network.add("saleor.test", saleor.app)
    await pass_time(services, clock, INTERVAL)
    assert await stored(services) is not None  # not before the grace period
    await pass_time(services, clock, GRACE)
    await pass_time(services, clock, INTERVAL)
    assert await stored(services) is None
