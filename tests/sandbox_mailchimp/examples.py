"""Example traffic against the sandbox, exercising most endpoints the app uses.

Used by the contract test (every request must satisfy the official spec) and handy as a tour.
"""

from __future__ import annotations

import httpx

from addon.sandbox.mailchimp import MailchimpSandbox


async def run_example_traffic(sandbox: MailchimpSandbox, client: httpx.AsyncClient) -> None:
    """Issue a realistic sequence of requests; asserts they all succeed."""

    async def ok(response: httpx.Response) -> httpx.Response:
        assert response.status_code < 300, (response.request.url, response.text)
        return response

    await ok(await client.get("/ping"))
    await ok(await client.get("/", params={"fields": "account_id,account_name"}))
    batch = await ok(
        await client.post(
            "/batches",
            json={"operations": [{"method": "GET", "path": "/ping", "operation_id": "p"}]},
        )
    )
    await sandbox.drain_batches()
    await ok(await client.get(f"/batches/{batch.json()['id']}"))
    await ok(await client.get("/batches", params={"count": "10", "offset": "0"}))
