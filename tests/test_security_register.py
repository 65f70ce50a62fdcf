"""`/api/register` takes this app's token only. Saleor hands the token over unsigned
(saleor/app/installation_utils.py `send_app_token`) and answers `app` for any app's token, so
another app of the store (a third party's) posting its own token must not take over the
installation: its dashboard, its Mailchimp connection, its Saleor calls. A registration of this
app replaces an installation of another only once Saleor refuses that one's token."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from addon.clock import ManualClock
from addon.installations.models import Installation
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.saleor.manifest_errors import InstallationFailed
from sandboxes.saleor.versions import OLDEST_VERSION
from sandboxes.transport import HostRoutingTransport
from tests.conftest import dashboard_headers
from tests.test_registrations_at_once import serve_manifest_variant


async def _rogue(
    app_client: httpx.AsyncClient, saleor: SaleorSandbox, network: HostRoutingTransport
) -> tuple[SandboxApp, str]:
    """Another vendor's app installed in the same Saleor, and the token Saleor gave it."""
    ours = (await app_client.get("/api/manifest")).json()
    manifest = {
        **ours,
        "id": "vendor.widget",
        "name": "Widget",
        "tokenTargetUrl": "http://widget.test/register",
        "appUrl": "http://widget.test/",
        "webhooks": [],
        "extensions": [],
        "permissions": [],
    }
    captured: dict[str, str] = {}

    async def serve(_: Request) -> JSONResponse:
        return JSONResponse(manifest)

    async def register(request: Request) -> JSONResponse:
        captured["token"] = json.loads(await request.body())["auth_token"]
        return JSONResponse({"success": True})

    routes = [Route("/manifest", serve), Route("/register", register, methods=["POST"])]
    network.add("widget.test", Starlette(routes=routes))
    app = await saleor.install_app("http://widget.test/manifest", permissions=[])
    return app, captured["token"]


async def _register(
    app_client: httpx.AsyncClient, saleor: SaleorSandbox, token: str
) -> httpx.Response:
    return await app_client.post(
        "/api/register",
        content=json.dumps({"auth_token": token}),
        headers={
            "Content-Type": "application/json",
            "Saleor-Api-Url": saleor.api_url,
            "Saleor-Domain": saleor.domain,
        },
    )


async def _installation(services: Services) -> Installation:
    async with services.db.session() as session:
        return (await session.scalars(select(Installation))).one()


async def test_another_apps_token_is_refused_and_changes_nothing(
    app_client: httpx.AsyncClient,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    network: HostRoutingTransport,
    services: Services,
    clock: ManualClock,
) -> None:
    rogue, token = await _rogue(app_client, saleor, network)
    clock.advance(120)  # long after this app's own registration
    answer = await _register(app_client, saleor, token)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "ANOTHER_APPS_TOKEN"
    installation = await _installation(services)
    assert installation.app_id == installed_app.global_id
    assert installation.app_token.get_secret_value() == installed_app.auth_token
    ours = await app_client.get(
        "/api/installation", headers=dashboard_headers(saleor, installed_app)
    )
    assert ours.status_code == 200
    theirs = await app_client.get("/api/connection", headers=dashboard_headers(saleor, rogue))
    assert theirs.status_code == 401


# 3.20: the first app's deletion sends it no APP_DELETED, so only Saleor refusing its token
# tells the second registration that it may replace it.
@pytest.mark.parametrize("saleor", [OLDEST_VERSION], indirect=True)
async def test_a_second_app_of_this_identifier_does_not_replace_an_active_one(
    app_client: httpx.AsyncClient,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    network: HostRoutingTransport,
    services: Services,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Saleor before 3.20.1 installed an identifier twice (here a variant of the manifest,
    taken for this app's): while the first is installed and active, Saleor still accepts its
    token, and the second's handover is refused (so Saleor does not install it). Once the first
    is deleted (its APP_DELETED lost, say), an app installed again replaces it."""
    variant = serve_manifest_variant(network, "saleor.app.mailchimp.b")
    ours = {installed_app.identifier, "saleor.app.mailchimp.b"}
    monkeypatch.setattr("addon.installations.service.is_this_app", lambda found: found in ours)
    clock.advance(120)
    with pytest.raises(InstallationFailed) as refused:
        await saleor.install_app(variant)
    assert (refused.value.status_code, refused.value.code) == (409, "INSTALLATION_IN_USE")
    assert (await _installation(services)).app_id == installed_app.global_id

    await saleor.uninstall_app(installed_app)
    again = await saleor.install_app(variant)
    installation = await _installation(services)
    assert (installation.app_id, installation.uninstalled_at) == (again.global_id, None)
