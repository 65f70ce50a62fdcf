"""A dashboard write is committed before its answer is sent.

FastAPI ends a dependency with `yield` after the response has been sent unless it is declared
`scope="function"`; the request's session (`addon.dependencies.SessionDep`) commits there. Sent
first, the answer let the dashboard's next request run before the commit: in the scale-out test
a PUT then tried to create the e-commerce settings its PATCH had just created (a unique
violation, a 500), and a commit that failed would have followed a 200.

The test looks at the database from a session of its own at the moment the answer starts (an
ASGI wrapper around the app sees `http.response.start`), with no timing involved.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from sqlalchemy import select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from addon.app import create_app
from addon.ecommerce.models import EcommerceSettings
from addon.services import Services
from sandboxes.saleor import SaleorSandbox
from sandboxes.transport import HostRoutingTransport
from tests.conftest import APP_URL, dashboard_headers


class AtAnswer:
    """Runs `look` when the app starts answering a request to `path`; keeps what it saw."""

    def __init__(self, app: ASGIApp, path: str, look: Callable[[], Awaitable[object]]) -> None:
        self.app, self.path, self.look = app, path, look
        self.seen: list[object] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.seen.append(await self.look())
            await send(message)

        await self.app(scope, receive, watched)


@pytest.fixture
async def watched_app(
    services: Services, network: HostRoutingTransport
) -> AsyncIterator[tuple[httpx.AsyncClient, AtAnswer]]:
    async def carts_setting() -> bool | None:
        async with services.db.session() as session:  # its own: sees only what is committed
            found = await session.scalar(select(EcommerceSettings.abandoned_carts_enabled))
            return found

    app = create_app(services, run_worker=False)
    watcher = AtAnswer(app, "/api/ecommerce/settings", carts_setting)
    network.add("app.test", watcher)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=network, base_url=APP_URL) as client,
    ):
        yield client, watcher


async def test_a_dashboard_write_is_committed_when_its_answer_starts(
    watched_app: tuple[httpx.AsyncClient, AtAnswer], saleor: SaleorSandbox
) -> None:
    client, watcher = watched_app
    installed = await saleor.install_app(f"{APP_URL}/api/manifest")

    answer = await client.patch(
        "/api/ecommerce/settings",
        json={"abandoned_carts_enabled": False},  # the row is created by this request
        headers=dashboard_headers(saleor, installed),
    )

    assert answer.status_code == 200, answer.text
    assert watcher.seen == [False]  # committed: another session reads the new row
