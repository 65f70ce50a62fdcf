"""A body Saleor signed, posted to one of the app's webhooks as any event: the signature covers
the body alone, not the `Saleor-Event` header nor the endpoint (tests of what the app trusts).
And an APP_STATUS_CHANGED body with its delivery's headers, any of them overridden or left out
(tests/test_webhook_verification.py, test_lifecycle_webhooks.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx

from sandboxes.saleor import SaleorSandbox, SandboxApp


async def post_signed(
    client: httpx.AsyncClient, saleor: SaleorSandbox, slug: str, event: str, body: bytes
) -> httpx.Response:
    return await client.post(
        f"/api/webhooks/{slug}",
        content=body,
        headers={
            "Content-Type": "application/json",
            "Saleor-Event": event,
            "Saleor-Domain": saleor.domain,
            "Saleor-Api-Url": saleor.api_url,
            "Saleor-Signature": saleor.sign(body),
        },
    )


async def _post(
    client: httpx.AsyncClient,
    body: bytes,
    headers: dict[str, str],
    slug: str = "app-status-changed",
) -> httpx.Response:
    return await client.post(f"/api/webhooks/{slug}", content=body, headers=headers)


def _status_body(app: SandboxApp, active: bool, when: datetime | None = None) -> bytes:
    issued = (when or datetime.now(UTC)).isoformat()
    return json.dumps(
        {"issuedAt": issued, "app": {"id": app.global_id, "isActive": active}}
    ).encode()


def _headers(saleor: SaleorSandbox, body: bytes, **overrides: str) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "Saleor-Event": "app_status_changed",
        "Saleor-Domain": saleor.domain,
        "Saleor-Api-Url": saleor.api_url,
        "Saleor-Signature": saleor.sign(body),
    }
    headers.update(overrides)
    return {k: v for k, v in headers.items() if v}
