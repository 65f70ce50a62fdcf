"""Fixtures: a Saleor sandbox wired to a tiny in-test app through the host-routing transport."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from sandboxes.saleor import SaleorSandbox, SigningKey
from sandboxes.saleor.documents import APP_LIFECYCLE_SUBSCRIPTION, ORDER_CREATED_SUBSCRIPTION
from sandboxes.saleor.models import ProductVariant
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.transport import HostRoutingTransport

SALEOR_HOST = "saleor.test"
API_URL = f"http://{SALEOR_HOST}/graphql/"
APP_HOST = "app.test"


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    """One RSA key for the whole session: generating 2048-bit keys is slow-ish."""
    return SigningKey.generate()


@dataclass
class FakeApp:
    """A minimal Saleor app: a manifest, a register endpoint and a webhook receiver."""

    manifest: dict[str, Any]
    register_status: int = 200
    register_error: dict[str, str] | None = None
    registrations: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    app_id_seen_during_register: Any = None
    webhooks: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    webhook_status: int = 200
    saleor_client: httpx.AsyncClient | None = None

    def asgi(self) -> FastAPI:
        api = FastAPI()

        @api.get("/api/manifest")
        async def manifest() -> dict[str, Any]:
            return self.manifest

        @api.get("/api/manifest/{variant}")
        async def manifest_variant(variant: str) -> dict[str, Any]:
            # Another app (an `id` of its own) behind the same endpoints: Saleor refuses a
            # second app of an installed identifier (since 3.20.1), two apps need two.
            return {**self.manifest, "id": f"{self.manifest['id']}.{variant}"}

        @api.post("/api/register")
        async def register(request: Request) -> Response:
            body = await request.json()
            self.registrations.append((dict(request.headers), body))
            if self.register_status >= 300:
                payload = {"success": False, "error": self.register_error or {}}
                return Response(json.dumps(payload), self.register_status)
            if self.saleor_client is not None:
                # What saleor-app-sdk does: ask Saleor who we are with the fresh token.
                response = await self.saleor_client.post(
                    request.headers["saleor-api-url"],
                    json={"query": "{ app { id } }"},
                    headers={"Authorization": f"Bearer {body['auth_token']}"},
                )
                self.app_id_seen_during_register = response.json()
            return Response(json.dumps({"success": True}), 200)

        @api.post("/api/webhooks/{name}")
        async def webhook(name: str, request: Request) -> Response:
            self.webhooks.append((dict(request.headers), await request.body()))
            return Response("{}", self.webhook_status)

        return api


def default_manifest() -> dict[str, Any]:
    return {
        "id": "test.mailchimp",
        "name": "Test App",
        "version": "1.0.0",
        "about": "A test app",
        "permissions": ["MANAGE_USERS", "MANAGE_ORDERS", "MANAGE_CHECKOUTS", "MANAGE_PRODUCTS"],
        "appUrl": f"http://{APP_HOST}/",
        "tokenTargetUrl": f"http://{APP_HOST}/api/register",
        "webhooks": [
            {
                "name": "Lifecycle",
                "asyncEvents": ["APP_STATUS_CHANGED", "APP_DELETED"],
                "query": APP_LIFECYCLE_SUBSCRIPTION,
                "targetUrl": f"http://{APP_HOST}/api/webhooks/lifecycle",
                "isActive": True,
            },
            {
                "name": "Order created",
                "asyncEvents": ["ORDER_CREATED"],
                "query": ORDER_CREATED_SUBSCRIPTION,
                "targetUrl": f"http://{APP_HOST}/api/webhooks/order-created",
                "isActive": True,
            },
        ],
    }


@pytest.fixture
def network() -> HostRoutingTransport:
    return HostRoutingTransport()


@pytest.fixture
def fake_app(network: HostRoutingTransport) -> FakeApp:
    app = FakeApp(manifest=default_manifest())
    network.add(APP_HOST, app.asgi())
    return app


@pytest.fixture
def sandbox(network: HostRoutingTransport, signing_key: SigningKey) -> SaleorSandbox:
    saleor = SaleorSandbox(api_url=API_URL, transport=network, signing_key=signing_key)
    network.add(SALEOR_HOST, saleor.app)
    return saleor


@pytest.fixture
async def client(network: HostRoutingTransport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=network) as http:
        yield http


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        API_URL, json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def emitted(sandbox: SaleorSandbox) -> list[str]:
    """The event types the sandbox emits from now on, whether or not an app receives them."""
    seen: list[str] = []
    emit = sandbox.emit

    async def recorded(event_type: str, root: Any, **kwargs: Any) -> Any:
        seen.append(event_type)
        return await emit(event_type, root, **kwargs)

    sandbox.emit = recorded  # type: ignore[method-assign]
    return seen


def stocked_variant(
    sandbox: SaleorSandbox, sku: str, quantity: int, **fields: Any
) -> ProductVariant:
    """A product of one variant named `sku` with `quantity` in stock (`fields` set on it, no
    event)."""
    spec = VariantSpec(sku=sku, price=Decimal("5"), quantity=quantity)
    variant = sandbox.store.create_product(sku, [spec]).variants[0]
    for key, value in fields.items():
        setattr(variant, key, value)
    return variant
