"""E-commerce rules: stores, customers, products/variants, orders, carts."""

from __future__ import annotations

import httpx

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount

from .helpers import create_list, create_store, order_body, product_body
from .test_core import assert_problem

S = "/ecommerce/stores/store-1"


async def setup_store(client: httpx.AsyncClient) -> str:
    list_id = await create_list(client)
    await create_store(client, list_id)
    return list_id


async def test_store_rules(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    list_id = await create_list(client)
    store = await create_store(client, list_id)
    assert store["currency_code"] == "USD" and store["list_id"] == list_id
    assert [s.id for s in sandbox.stores(account)] == ["store-1"]
    dup = await client.post(
        "/ecommerce/stores",
        json={"id": "store-1", "list_id": list_id, "name": "X", "currency_code": "USD"},
    )
    assert_problem(dup, 400, "Bad Request")
    missing = await client.post(
        "/ecommerce/stores", json={"id": "s2", "name": "X", "currency_code": "USD"}
    )
    doc = assert_problem(missing, 400, "Invalid Resource")
    assert doc["errors"][0] == {
        "field": "",
        "message": "Required fields were not provided: list_id",
    }
    no_list = await client.post(
        "/ecommerce/stores",
        json={"id": "s2", "list_id": "nope", "name": "X", "currency_code": "USD"},
    )
    assert_problem(no_list, 400, "Invalid Resource")
    currency = await client.patch(S, json={"currency_code": "EUR"})
    assert_problem(currency, 400, "Invalid Resource")
    relist = await client.patch(S, json={"list_id": "other"})
    assert_problem(relist, 400, "Invalid Resource")
    renamed = await client.patch(
        S, json={"name": "Renamed", "currency_code": "USD", "is_syncing": True}
    )
    assert renamed.json()["name"] == "Renamed" and renamed.json()["is_syncing"] is True
    assert (await client.delete(S)).status_code == 204
    assert_problem(await client.get(S), 404, "Resource Not Found")


async def test_customers_join_audience(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    list_id = await setup_store(client)
    customer = {"id": "c1", "email_address": "cus@example.org", "opt_in_status": False}
    created = await client.post(f"{S}/customers", json=customer)
    assert created.status_code == 200 and created.json()["orders_count"] == 0
    assert_problem(await client.post(f"{S}/customers", json=customer), 400, "Bad Request")
    member = sandbox.member(account, list_id, "cus@example.org")
    assert member is not None and member.status == "transactional"
    upserted = await client.put(
        f"{S}/customers/c2",
        json={**customer, "id": "c2", "email_address": "in@example.org", "opt_in_status": True},
    )
    assert upserted.status_code == 200
    opted = sandbox.member(account, list_id, "in@example.org")
    assert opted is not None and opted.status == "subscribed"
    patched = await client.patch(f"{S}/customers/c1", json={"first_name": "Cy"})
    assert patched.json()["first_name"] == "Cy"
    assert [c.id for c in sandbox.customers(account, "store-1")] == ["c1", "c2"]


async def test_an_opt_in_subscribes_a_contact_the_store_added_only(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    """https://mailchimp.com/developer/marketing/docs/e-commerce/: opt_in_status false → true
    subscribes the member, true → false changes nothing, a pre-existing contact's status is
    never overwritten."""
    list_id = await setup_store(client)
    shopper = {"id": "c1", "email_address": "shop@example.org", "opt_in_status": False}
    assert (await client.put(f"{S}/customers/c1", json=shopper)).status_code == 200
    assert sandbox.member(account, list_id, "shop@example.org").status == "transactional"
    opted = await client.patch(f"{S}/customers/c1", json={"opt_in_status": True})
    assert opted.status_code == 200
    assert sandbox.member(account, list_id, "shop@example.org").status == "subscribed"
    assert (await client.patch(f"{S}/customers/c1", json={"opt_in_status": False})).is_success
    assert sandbox.member(account, list_id, "shop@example.org").status == "subscribed"

    left = await client.post(
        f"/lists/{list_id}/members",
        json={"email_address": "left@example.org", "status": "unsubscribed"},
    )
    assert left.status_code == 200
    other = {"id": "c2", "email_address": "left@example.org", "opt_in_status": True}
    assert (await client.put(f"{S}/customers/c2", json=other)).status_code == 200
    assert sandbox.member(account, list_id, "left@example.org").status == "unsubscribed"


async def test_products_and_variants(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    await setup_store(client)
    created = await client.post(f"{S}/products", json=product_body("p1", ("v1", "v2")))
    assert created.status_code == 200
    assert [v["id"] for v in created.json()["variants"]] == ["v1", "v2"]
    assert_problem(await client.post(f"{S}/products", json=product_body("p1")), 400, "Bad Request")
    no_variants = {**product_body("p2"), "variants": []}
    assert_problem(await client.post(f"{S}/products", json=no_variants), 400, "Invalid Resource")
    put = await client.put(
        f"{S}/products/p1/variants/v3", json={"id": "v3", "title": "Three", "price": 3}
    )
    assert put.status_code == 200
    patched = await client.patch(f"{S}/products/p1/variants/v1", json={"inventory_quantity": 0})
    assert patched.json()["inventory_quantity"] == 0
    dup = await client.post(f"{S}/products/p1/variants", json={"id": "v2", "title": "dup"})
    assert_problem(dup, 400, "Bad Request")
    assert (await client.delete(f"{S}/products/p1/variants/v2")).status_code == 204
    variants = (await client.get(f"{S}/products/p1/variants")).json()
    assert [v["id"] for v in variants["variants"]] == ["v1", "v3"]
    product_patch = await client.patch(f"{S}/products/p1", json={"title": "New title"})
    assert product_patch.json()["title"] == "New title"
    (stored,) = sandbox.products(account, "store-1")
    assert stored.title == "New title" and [v.id for v in stored.variants] == ["v1", "v3"]


async def test_a_refused_product_patch_leaves_the_product_as_it_was(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    """A patch shares the stored product's variants and images (no copy made): refused,
    whether by a field of the product or by one of its variants, nothing of it is kept, as
    PATCH requires (RFC 5789 §2: a patch that cannot be applied whole applies nothing)."""
    await setup_store(client)
    await client.post(f"{S}/products", json=product_body("p1", ("v1", "v2")))
    (before,) = sandbox.products(account, "store-1")
    bad_variant = {"title": "Renamed", "variants": [{"id": "v1", "title": "One", "price": "x"}]}
    for body in ({"title": 5}, bad_variant, {"title": "Renamed", "images": [{"id": "i1"}]}):
        assert_problem(await client.patch(f"{S}/products/p1", json=body), 400, "Invalid Resource")
        (after,) = sandbox.products(account, "store-1")
        assert after == before
    renamed = await client.patch(
        f"{S}/products/p1", json={"title": "Renamed", "variants": [{"id": "v1", "title": "One"}]}
    )
    assert renamed.status_code == 200
    (after,) = sandbox.products(account, "store-1")
    assert after.title == "Renamed" and after.variants[0].title == "One"
    assert after.variants[1] == before.variants[1]


async def test_orders_reference_products_and_variants(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    list_id = await setup_store(client)
    await client.post(f"{S}/products", json=product_body("p1", ("v1",)))
    no_product = await client.post(f"{S}/orders", json=order_body(product_id="ghost"))
    doc = assert_problem(no_product, 400, "Bad Request")
    assert doc["detail"] == (
        "A product with the provided ID does not exist in the account for this list."
    )
    assert "errors" not in doc
    no_variant = await client.post(f"{S}/orders", json=order_body(variant_id="ghost"))
    doc = assert_problem(no_variant, 400, "Bad Request")
    assert doc["detail"] == (
        "A product with the provided variant ID does not exist in the account for this list."
    )
    no_lines = await client.post(f"{S}/orders", json=order_body("o9") | {"lines": []})
    assert_problem(no_lines, 404, "Resource Not Found")
    assert sandbox.orders(account, "store-1") == []

    created = await client.post(f"{S}/orders", json=order_body())
    assert created.status_code == 200, created.text
    order = created.json()
    assert order["lines"][0]["product_title"] == "Product p1"
    assert order["customer"]["orders_count"] == 1 and order["customer"]["total_spent"] == 19.0
    assert_problem(await client.post(f"{S}/orders", json=order_body()), 400, "Bad Request")

    # A campaign unknown, or sent to another audience: Mailchimp says so in the detail alone.
    refusal = "A campaign with the provided ID does not exist in the account for this list."
    unknown_campaign = await client.post(f"{S}/orders", json=order_body("o2", campaign_id="nope"))
    doc = assert_problem(unknown_campaign, 400, "Bad Request")
    assert doc["detail"] == refusal and "errors" not in doc
    elsewhere = sandbox.add_campaign(account, "another-list")
    foreign = await client.post(f"{S}/orders", json=order_body("o2", campaign_id=elsewhere))
    assert assert_problem(foreign, 400, "Bad Request")["detail"] == refusal
    campaign = sandbox.add_campaign(account, list_id)
    with_campaign = await client.post(f"{S}/orders", json=order_body("o2", campaign_id=campaign))
    assert with_campaign.json()["campaign_id"] == campaign

    missing_customer = order_body("o3")
    del missing_customer["customer"]
    assert_problem(await client.post(f"{S}/orders", json=missing_customer), 400, "Invalid Resource")
    new_customer_without_email = order_body("o3", customer={"id": "new"})
    assert_problem(
        await client.post(f"{S}/orders", json=new_customer_without_email), 400, "Invalid Resource"
    )

    cancelled = await client.patch(
        f"{S}/orders/o1",
        json={"financial_status": "cancelled", "cancelled_at_foreign": "2024-01-03T00:00:00Z"},
    )
    assert cancelled.json()["financial_status"] == "cancelled"
    assert cancelled.json()["lines"][0]["quantity"] == 2
    customer = (await client.get(f"{S}/customers/c1")).json()
    assert customer["orders_count"] == 2
    assert (await client.delete(f"{S}/orders/o2")).status_code == 204
    assert [o.id for o in sandbox.orders(account, "store-1")] == ["o1"]


async def test_carts(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    list_id = await setup_store(client)
    await client.post(f"{S}/products", json=product_body("p1", ("v1",)))
    # A cart's shopper must be in the audience already (`test_cart_audience.py`).
    member = {"email_address": "cart@example.org", "status_if_new": "transactional"}
    assert (await client.put(f"/lists/{list_id}/members/cart@example.org", json=member)).is_success
    cart = {
        "id": "cart1",
        "customer": {"id": "c9", "email_address": "cart@example.org", "opt_in_status": False},
        "checkout_url": "https://shop.acme.test/checkout/cart1",
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
    assert (await client.post(f"{S}/carts", json=cart)).status_code == 200
    assert_problem(await client.post(f"{S}/carts", json=cart), 400, "Bad Request")
    bad = {**cart, "id": "cart2", "lines": [{**cart["lines"][0], "product_variant_id": "zz"}]}
    assert_problem(await client.post(f"{S}/carts", json=bad), 400, "Bad Request")
    patched = await client.patch(
        f"{S}/carts/cart1", json={"order_total": 19.0, "lines": [{"id": "l1", "quantity": 2}]}
    )
    assert patched.status_code == 200
    assert patched.json()["lines"][0]["quantity"] == 2
    assert [c.order_total for c in sandbox.carts(account, "store-1")] == [19.0]
    assert (await client.delete(f"{S}/carts/cart1")).status_code == 204
    assert sandbox.carts(account, "store-1") == []


async def test_a_store_domain_is_held_once_per_account(client: httpx.AsyncClient) -> None:
    """The spec's `E_commerce_Store.domain`: "must be unique within a user account"; the
    refusal as mailchimp/mc-magento#794 quotes it. A path makes another domain (#691)."""
    list_id = await create_list(client)
    await create_store(client, list_id)  # shop.acme.test
    body = {"id": "store-2", "list_id": list_id, "name": "B", "currency_code": "USD"}
    for domain in ("shop.acme.test", "https://SHOP.acme.test/"):
        refused = await client.post("/ecommerce/stores", json={**body, "domain": domain})
        assert refused.status_code == 400
        assert refused.json()["detail"] == (
            "We were unable to process the request. A store with the domain "
            f"{domain} already exists in the account."
        )
    ok = await client.post("/ecommerce/stores", json={**body, "domain": "shop.acme.test/eu"})
    assert ok.status_code == 200
    moved = await client.patch("/ecommerce/stores/store-2", json={"domain": "shop.acme.test"})
    assert moved.status_code == 400
    assert (await client.delete("/ecommerce/stores/store-1")).status_code == 204
    moved = await client.patch("/ecommerce/stores/store-2", json={"domain": "shop.acme.test"})
    assert moved.status_code == 200


async def test_a_product_answers_with_fifty_of_its_variants(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    """The spec's `E_commerce_Product.variants`: "Returns up to 50 of the product's variants.
    To retrieve all variants use Product Variants." The product keeps them all."""
    await setup_store(client)
    ids = tuple(f"v{i}" for i in range(60))
    created = await client.post(f"{S}/products", json=product_body("p1", ids))
    assert created.status_code == 200, created.text
    assert [v["id"] for v in created.json()["variants"]] == list(ids[:50])
    for answer in (
        await client.get(f"{S}/products/p1"),
        await client.patch(f"{S}/products/p1", json={"title": "Renamed"}),
    ):
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["variants"]) == 50
    listed = (await client.get(f"{S}/products")).json()["products"][0]
    assert len(listed["variants"]) == 50
    paged = (await client.get(f"{S}/products/p1/variants", params={"count": 100})).json()
    assert paged["total_items"] == 60 and len(paged["variants"]) == 60
    ordered = await client.post(f"{S}/orders", json=order_body("o1", variant_id="v59"))
    assert ordered.status_code == 200, ordered.text


async def test_a_store_patch_with_revoked_credentials_is_refused_and_changes_nothing(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    """Mailchimp authenticates every request before it looks at what it asks: a revoked key
    is "API Key Invalid" (401, its error glossary, mailchimp.com/developer/marketing/docs/errors/;
    "Once you've revoked an API key, it can't be reactivated", mailchimp.com/help/about-api-keys),
    whatever the request. So the app cannot clear a store's `is_syncing` once its credentials
    are revoked (`addon/initial_sync/release.py`)."""
    await setup_store(client)
    assert (await client.patch(S, json={"is_syncing": True})).status_code == 200
    sandbox.revoke(account)
    assert_problem(await client.patch(S, json={"is_syncing": False}), 401, "API Key Invalid")
    assert [s.is_syncing for s in sandbox.stores(account)] == [True]
