"""Product and variant bodies the Mailchimp sandbox refuses, and what a variant's PUT keeps.

The spec (`E_commerce_Product_1`) requires `id`, `title` and `variants` ("At least one variant
is required for each product"); those refusals are also derived from the spec for every write
of the app (test_strictness.py). An id over 50 characters is not in the spec: Mailchimp cuts
a product's id to 50 characters without an error (Setono/SyliusMailchimpPlugin#50), after
which an order's line of it is refused, "A product with the provided variant ID does not
exist" (Setono/SyliusMailchimpPlugin#69). The sandbox refuses such an id instead (stricter:
the failure shows where it is made), as the spec has a customer's id refused (maxLength 50).
"""

from __future__ import annotations

import httpx

from sandboxes.mailchimp import MailchimpSandbox

from .test_core import assert_problem
from .test_ecommerce import S, setup_store

TOO_LONG = "This value is too long. It should have 50 characters or less."


def _product(product_id: str = "p1", variant_id: str = "v1") -> dict[str, object]:
    return {"id": product_id, "title": "Basil", "variants": [{"id": variant_id, "title": "Pot"}]}


async def test_ids_over_fifty_characters_are_refused(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient
) -> None:
    await setup_store(client)
    long = "p" * 51
    doc = assert_problem(
        await client.post(f"{S}/products", json=_product(long)), 400, "Invalid Resource"
    )
    assert doc["errors"] == [{"field": "id", "message": TOO_LONG}]
    refused = await client.post(f"{S}/products", json=_product(variant_id=long))
    doc = assert_problem(refused, 400, "Invalid Resource")
    assert doc["errors"] == [{"field": "variants.item:0.id", "message": TOO_LONG}]

    created = await client.post(f"{S}/products", json=_product("p" * 50, "v" * 50))
    assert created.status_code == 200, created.text
    for path_id, body_id in ((long, long), (long, "v2")):
        put = await client.put(
            f"{S}/products/{'p' * 50}/variants/{path_id}", json={"id": body_id, "title": "Tin"}
        )
        doc = assert_problem(put, 400, "Invalid Resource")
        assert doc["errors"] == [{"field": "id", "message": TOO_LONG}]
    posted = await client.post(
        f"{S}/products/{'p' * 50}/variants", json={"id": long, "title": "Tin"}
    )
    assert_problem(posted, 400, "Invalid Resource")
    held = (await client.get(f"{S}/products/{'p' * 50}")).json()
    assert [v["id"] for v in held["variants"]] == ["v" * 50]


async def test_a_product_needs_a_title_and_a_variant(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient
) -> None:
    await setup_store(client)
    untitled = {"id": "p1", "variants": [{"id": "v1", "title": "Pot"}]}
    doc = assert_problem(await client.post(f"{S}/products", json=untitled), 400, "Invalid Resource")
    assert doc["errors"] == [{"field": "", "message": "Required fields were not provided: title"}]
    bare = {"id": "p1", "title": "Basil", "variants": []}
    doc = assert_problem(await client.post(f"{S}/products", json=bare), 400, "Invalid Resource")
    assert [e["field"] for e in doc["errors"]] == ["variants"]


async def test_a_variant_put_replaces_what_it_leaves_out(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient
) -> None:
    """What Mailchimp's PUT does to a field left out is not documented; the sandbox clears it,
    so that the app cannot rely on a field kept (the app names every field it owns:
    tests/ecommerce/test_variant_put_whole.py)."""
    await setup_store(client)
    full = {"id": "v1", "title": "Pot", "sku": "BAS-1", "image_url": "https://img.example/b.jpg"}
    assert (await client.post(f"{S}/products", json=_product())).status_code == 200
    assert (await client.put(f"{S}/products/p1/variants/v1", json=full)).status_code == 200
    put = await client.put(f"{S}/products/p1/variants/v1", json={"id": "v1", "title": "Pot"})
    assert put.status_code == 200
    assert (put.json()["sku"], put.json()["image_url"]) == ("", "")
