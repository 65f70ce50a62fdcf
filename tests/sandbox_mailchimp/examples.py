"""Example traffic against the sandbox, exercising most endpoints the app uses.

Used by the contract test (every request must satisfy the official spec) and handy as a tour.
"""

from __future__ import annotations

import json

import httpx

from sandboxes.mailchimp import MailchimpSandbox, subscriber_hash

from .helpers import list_body, order_body, product_body


async def run_example_traffic(sandbox: MailchimpSandbox, client: httpx.AsyncClient) -> None:
    """Issue a realistic sequence of requests; asserts they all succeed."""

    async def ok(response: httpx.Response) -> httpx.Response:
        assert response.status_code < 300, (response.request.url, response.text)
        return response

    await ok(await client.get("/ping"))
    await ok(await client.get("/", params={"fields": "account_id,account_name"}))

    list_id = (await ok(await client.post("/lists", json=list_body()))).json()["id"]
    await ok(await client.get("/lists", params={"count": "100", "fields": "lists.id,lists.name"}))
    await ok(await client.get(f"/lists/{list_id}", params={"exclude_fields": "_links"}))
    await ok(await client.get(f"/lists/{list_id}/merge-fields", params={"count": "50"}))
    await ok(
        await client.post(f"/lists/{list_id}/merge-fields", json={"name": "Source", "type": "text"})
    )
    category = (
        await ok(
            await client.post(
                f"/lists/{list_id}/interest-categories",
                json={"title": "Interests", "type": "checkboxes"},
            )
        )
    ).json()["id"]
    categories = f"/lists/{list_id}/interest-categories"
    await ok(await client.post(f"{categories}/{category}/interests", json={"name": "Shoes"}))
    await ok(await client.get(f"{categories}/{category}/interests", params={"count": "60"}))

    email = "ann@example.org"
    member = f"/lists/{list_id}/members/{subscriber_hash(email)}"
    await ok(
        await client.put(
            member,
            json={
                "email_address": email,
                "status_if_new": "subscribed",
                "merge_fields": {"FNAME": "Ann"},
            },
        )
    )
    await ok(await client.patch(member, json={"status": "unsubscribed"}))
    await ok(await client.get(member, params={"fields": "status,merge_fields"}))
    await ok(
        await client.post(
            f"{member}/tags", json={"tags": [{"name": "customer", "status": "active"}]}
        )
    )
    await ok(
        await client.get(
            f"/lists/{list_id}/members", params={"status": "subscribed", "count": "1000"}
        )
    )
    await ok(await client.delete(member))
    await ok(await client.post(f"{member}/actions/delete-permanent"))

    store = "/ecommerce/stores/store-1"
    await ok(
        await client.post(
            "/ecommerce/stores",
            json={"id": "store-1", "list_id": list_id, "name": "Shop", "currency_code": "USD"},
        )
    )
    await ok(await client.patch(store, json={"is_syncing": True}))
    await ok(
        await client.put(
            f"{store}/customers/c1",
            # The address the order below gives c1: Mailchimp refuses a customer's new one.
            json={"id": "c1", "email_address": "buyer@acme.test", "opt_in_status": False},
        )
    )
    await ok(await client.post(f"{store}/products", json=product_body("p1", ("v1", "v2"))))
    await ok(
        await client.put(f"{store}/products/p1/variants/v3", json={"id": "v3", "title": "Three"})
    )
    await ok(await client.patch(f"{store}/products/p1", json={"title": "Renamed"}))
    await ok(await client.post(f"{store}/orders", json=order_body()))
    await ok(await client.patch(f"{store}/orders/o1", json={"fulfillment_status": "shipped"}))
    cart = {
        "id": "cart1",
        "customer": {"id": "c1"},
        "checkout_url": "https://shop.test/checkout",
        "currency_code": "USD",
        "order_total": 9.5,
        "lines": [
            {
                "id": "l1",
                "product_id": "p1",
                "product_variant_id": "v1",
                "quantity": 1,
                "price": 9.5,
            }
        ],
    }
    await ok(await client.post(f"{store}/carts", json=cart))
    await ok(await client.get(f"{store}/orders", params={"count": "10", "offset": "0"}))
    await ok(await client.delete(f"{store}/carts/cart1"))

    operations = [
        {
            "method": "PUT",
            "path": f"/lists/{list_id}/members/{subscriber_hash('b@example.org')}",
            "operation_id": "member-b",
            "body": json.dumps({"email_address": "b@example.org", "status_if_new": "subscribed"}),
        },
        {
            "method": "GET",
            "path": f"/lists/{list_id}/members",
            "params": {"count": 10},
            "operation_id": "members",
        },
    ]
    batch = await ok(await client.post("/batches", json={"operations": operations}))
    await sandbox.drain_batches()
    await ok(await client.get(f"/batches/{batch.json()['id']}"))
    await ok(await client.get("/batches", params={"count": "10", "offset": "0"}))
