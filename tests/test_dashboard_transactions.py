"""Dashboard calls that ask Mailchimp or Saleor hold no write (nor SQLite's write lock) while
they wait for the answer: a write from elsewhere (a webhook, the worker) completes meanwhile.

Each test holds one outbound request open at a gate in front of a sandbox, writes to the
installation's row in a transaction of its own, and only then lets the request go on. Before the
fix the write waited for the dashboard request: on SQLite for the process's write turn (given
back only when the request's transaction ended), on PostgreSQL for the row the dashboard check
had updated. A write that cannot complete fails the test (SQLite: the write turn's timeout;
PostgreSQL: the `lock_timeout` below) instead of hanging it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, text, update
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from addon.db.types import utcnow
from addon.installations.models import Installation
from addon.services import Services
from sandboxes.mailchimp import MailchimpSandbox
from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.saleor.versions import OLDEST_VERSION
from sandboxes.transport import HostRoutingTransport
from tests.conftest import SALEOR_API_URL, dashboard_headers


class Gate:
    """An ASGI app in front of a sandbox that holds the requests `matches` picks (by path and
    body) until `release` is set; `entered` is set when one arrives."""

    def __init__(self, app: ASGIApp, matches: Callable[[str, bytes], bool]) -> None:
        self.app = app
        self.matches = matches
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        while not messages or messages[-1].get("more_body", False):
            messages.append(await receive())
        body = b"".join(m.get("body", b"") for m in messages)
        if self.matches(scope["path"], body):
            self.entered.set()
            await self.release.wait()
        replay = iter(messages)

        async def again() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, again, send)


async def write_installation_row(services: Services) -> None:
    """What a webhook or the worker does to the installation (a row PostgreSQL locks)."""
    async with services.db.transaction() as session:
        if not services.db.is_sqlite:
            # Fail rather than hang when the row is held (SQLite's write turn times out).
            await session.execute(text("SET LOCAL lock_timeout = '30s'"))
        await session.execute(update(Installation).values(updated_at=utcnow()))


async def asked_out(gate: Gate, request: asyncio.Future[httpx.Response]) -> None:
    """Wait until the dashboard call's outbound request is held at the gate."""
    entered = asyncio.ensure_future(gate.entered.wait())
    await asyncio.wait({request, entered}, return_when=asyncio.FIRST_COMPLETED)
    assert gate.entered.is_set(), f"the call never asked out: {request.result().text}"


def gate_saleor(saleor: SaleorSandbox, network: HostRoutingTransport, marker: bytes) -> Gate:
    """A gate in front of the Saleor sandbox for the GraphQL requests naming `marker`."""
    gate = Gate(saleor.app, lambda _path, body: marker in body)
    network.add("saleor.test", gate)
    return gate


async def write_while_held(
    services: Services, gate: Gate, call: Awaitable[httpx.Response]
) -> httpx.Response:
    """Start the dashboard `call`, write while the gate holds its outbound request, then let
    it go on; answers the call's response."""
    request = asyncio.ensure_future(call)
    await asked_out(gate, request)
    write = asyncio.ensure_future(write_installation_row(services))
    done, _ = await asyncio.wait({request, write}, return_when=asyncio.FIRST_COMPLETED)
    try:
        assert write in done and request not in done
        write.result()  # the write completed while the dashboard call waited
    finally:
        gate.release.set()
    await write
    return await request


@pytest.fixture
def saleor(
    network: HostRoutingTransport, saleor_signing_key: Any, request: pytest.FixtureRequest
) -> SaleorSandbox:
    """The Saleor sandbox (a version a test names with `indirect` parametrisation)."""
    version = getattr(request, "param", None)
    options = {"version": version} if version else {}
    sandbox = SaleorSandbox(
        SALEOR_API_URL, transport=network, signing_key=saleor_signing_key, **options
    )
    network.add("saleor.test", sandbox.app)
    return sandbox


@pytest.mark.parametrize("saleor", [OLDEST_VERSION], indirect=True)
async def test_the_dashboard_check_writes_nothing_held_while_saleor_answers(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    app_client: httpx.AsyncClient,
    network: HostRoutingTransport,
) -> None:
    # Before 3.23.5 a dashboard load reads `app { isActive }` from Saleor (DashboardAuth).
    gate = gate_saleor(saleor, network, b"AppStatus")
    headers = dashboard_headers(saleor, installed_app)
    response = await write_while_held(
        services, gate, app_client.get("/api/installation", headers=headers)
    )
    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is True


@pytest.mark.parametrize("saleor", [OLDEST_VERSION], indirect=True)
async def test_an_installation_erased_while_saleor_answers_the_check_is_not_installed(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    app_client: httpx.AsyncClient,
    network: HostRoutingTransport,
) -> None:
    gate = gate_saleor(saleor, network, b"AppStatus")
    headers = dashboard_headers(saleor, installed_app)
    request = asyncio.ensure_future(app_client.get("/api/installation", headers=headers))
    await asked_out(gate, request)
    async with services.db.transaction() as session:  # uninstalled meanwhile
        await session.execute(delete(Installation))
    gate.release.set()
    response = await request
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "UNKNOWN_INSTALLATION"


async def test_checking_the_connection_holds_no_write_lock_while_mailchimp_answers(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    app_client: httpx.AsyncClient,
    network: HostRoutingTransport,
    mailchimp: MailchimpSandbox,
) -> None:
    account = mailchimp.create_account("Green Grocer", "owner@grocer.example", dc="us21")
    headers = dashboard_headers(saleor, installed_app)
    connected = await app_client.post(
        "/api/connection/api-key", json={"api_key": account.api_key}, headers=headers
    )
    assert connected.status_code == 200, connected.text
    gate = Gate(mailchimp.app, lambda path, _body: path.endswith("/3.0/ping"))
    network.add("mailchimp.test", gate)
    response = await write_while_held(
        services, gate, app_client.post("/api/connection/check", headers=headers)
    )
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True


async def test_saving_ecommerce_settings_holds_no_write_while_saleor_answers(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    app_client: httpx.AsyncClient,
    network: HostRoutingTransport,
) -> None:
    # Before the fix the settings were written, then Saleor asked for the page's channels.
    gate = gate_saleor(saleor, network, b"EcommerceChannels")
    headers = dashboard_headers(saleor, installed_app)
    response = await write_while_held(
        services,
        gate,
        app_client.patch(
            "/api/ecommerce/settings", json={"store_email": "shop@grocer.example"}, headers=headers
        ),
    )
    assert response.status_code == 200, response.text
    assert response.json()["settings"]["store_email"] == "shop@grocer.example"
