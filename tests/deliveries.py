"""A body Saleor signed, posted to one of the app's webhooks as any event: the signature covers
the body alone, not the `Saleor-Event` header nor the endpoint (tests of what the app trusts)."""

from __future__ import annotations

import httpx

from sandboxes.saleor import SaleorSandbox


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
