"""Webhook order of checks and the request body cap (issue 11, item 6)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp, SigningKey
from tests.conftest import SALEOR_API_URL, RecordingTransport, webhook_headers

CHUNK = 64 * 1024


EVENT = "app_status_changed"


class Stream:
    """A request body sent in chunks; counts how many chunks the server pulled."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        while sent < self.total:
            self.pulled += 1
            chunk = b"x" * min(CHUNK, self.total - sent)
            sent += len(chunk)
            yield chunk


# --- signature first ---------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"not json at all", b"\xff\xfe\x00", b""])
async def test_an_unsigned_non_json_body_is_refused_as_unauthenticated(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    stranger_key: SigningKey,
    body: bytes,
) -> None:
    for signature in ("", "not-a-signature", stranger_key.sign_detached(body)):
        headers = webhook_headers(saleor, signature, EVENT)
        if not signature:
            del headers["Saleor-Signature"]  # not signed at all
        response = await app_client.post(
            "/api/webhooks/app-status-changed", content=body, headers=headers
        )
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "INVALID_SIGNATURE"


async def test_a_signed_non_json_body_is_a_bad_request(
    installed_app: SandboxApp, saleor: SaleorSandbox, app_client: httpx.AsyncClient
) -> None:
    body = b"{not json"
    response = await app_client.post(
        "/api/webhooks/app-status-changed",
        content=body,
        headers=webhook_headers(saleor, saleor.sign(body), EVENT),
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "INVALID_BODY")


# --- body cap ----------------------------------------------------------------------------


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "bytes" in body["error"]["message"]


async def test_an_oversized_webhook_is_refused_before_anything_else(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    services: Services,
    app_client: httpx.AsyncClient,
    outbound: RecordingTransport,
) -> None:
    limit = services.settings.max_request_body_bytes
    payload = {"issuedAt": "2026-01-01T00:00:00+00:00", "app": {"id": installed_app.global_id}}
    body = json.dumps({**payload, "padding": "x" * limit}).encode()
    before = len(outbound.requests)
    response = await app_client.post(
        "/api/webhooks/app-status-changed",
        content=body,
        headers=webhook_headers(saleor, saleor.sign(body), EVENT),  # even a signed one
    )
    assert_too_large(response)
    assert len(outbound.requests) == before


async def test_a_declared_oversized_body_is_not_read_at_all(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    services: Services,
    app_client: httpx.AsyncClient,
) -> None:
    total = services.settings.max_request_body_bytes * 4
    stream = Stream(total)
    response = await app_client.post(
        "/api/webhooks/app-status-changed",
        content=stream,
        headers={**webhook_headers(saleor, "x", EVENT), "Content-Length": str(total)},
    )
    assert_too_large(response)
    assert stream.pulled == 0


async def test_a_chunked_oversized_body_is_read_only_up_to_the_cap(
    services: Services, app_client: httpx.AsyncClient
) -> None:
    limit = services.settings.max_request_body_bytes
    stream = Stream(limit * 4)
    response = await app_client.post(
        "/api/storefront/subscribe",
        params={"saleor_api_url": SALEOR_API_URL},
        content=stream,
        headers={"Content-Type": "application/json"},
    )
    assert_too_large(response)
    assert stream.pulled * CHUNK <= limit + CHUNK  # stopped at the cap, not at 4x


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/register"),
        ("PUT", "/api/audiences/settings"),
        ("POST", "/api/storefront/subscribe"),
        ("POST", "/api/subscriptions/mailchimp-webhook/1/secret"),
        ("POST", "/api/no-such-route"),
    ],
)
async def test_every_route_caps_its_body(
    services: Services, app_client: httpx.AsyncClient, method: str, path: str
) -> None:
    body = b"{" + b" " * services.settings.max_request_body_bytes + b"}"
    response = await app_client.request(method, path, content=body)
    assert_too_large(response)


async def test_a_body_at_the_cap_gets_through(
    services: Services, app_client: httpx.AsyncClient
) -> None:
    limit = services.settings.max_request_body_bytes
    body = b'{"auth_token": ""' + b" " * (limit - 18) + b"}"
    assert len(body) == limit
    response = await app_client.post(
        "/api/register", content=body, headers={"Saleor-Api-Url": SALEOR_API_URL}
    )
    assert response.status_code == 400  # read and judged by the route: an empty token
    assert response.json()["error"]["code"] == "INVALID_BODY"
