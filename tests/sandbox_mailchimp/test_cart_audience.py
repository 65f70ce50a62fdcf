"""Carts of shoppers not in the store's audience, and the stricter order and cart bodies: an
order's PATCH naming another customer, a line id repeated in one body, an opt-in applied only to
a contact the e-commerce API added."""

from __future__ import annotations

from typing import Any

import httpx

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount

from .helpers import order_body, product_body
from .test_core import assert_problem
from .test_ecommerce import S, setup_store


def cart_body(
    cart_id: str = "cart1", email: str = "new@example.org", **extra: Any
) -> dict[str, Any]:
    return {
        "id": cart_id,
        "customer": {"id": "c9", "email_address": email, "opt_in_status": False},
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
        **extra,
    }


async def _store(client: httpx.AsyncClient) -> str:
    list_id = await setup_store(client)
    assert (await client.post(f"{S}/products", json=product_body("p1", ("v1",)))).is_success
    return list_id


async def _member(client: httpx.AsyncClient, list_id: str, email: str, status: str) -> None:
    added = await client.put(
        f"/lists/{list_id}/members/{email}",
        json={"email_address": email, "status_if_new": status},
    )
    assert added.status_code == 200, added.text


async def test_a_cart_of_an_address_not_in_the_audience_is_refused(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    """Mailchimp for WooCommerce (commit 79b00d1, cart-update process) meets this refusal for
    "first time contacts not existing on the audience": nothing is stored, no contact added."""
    list_id = await _store(client)
    refused = await client.post(f"{S}/carts", json=cart_body())
    doc = assert_problem(refused, 400, "Bad Request")
    assert "not found in audience" in doc["detail"]
    assert sandbox.carts(account, "store-1") == []
    assert sandbox.customers(account, "store-1") == []
    assert sandbox.member(account, list_id, "new@example.org") is None

    await _member(client, list_id, "new@example.org", "transactional")
    taken = await client.post(f"{S}/carts", json=cart_body())
    assert taken.status_code == 200, taken.text
    assert sandbox.member(account, list_id, "new@example.org").status == "transactional"


async def test_every_status_but_archived_is_in_the_audience(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    list_id = await _store(client)
    for n, status in enumerate(("subscribed", "unsubscribed", "pending", "transactional")):
        email = f"{status}@example.org"
        await _member(client, list_id, email, status)
        body = cart_body(f"cart{n}", email) | {
            "customer": {"id": f"c{n}", "email_address": email, "opt_in_status": False}
        }
        assert (await client.post(f"{S}/carts", json=body)).status_code == 200, status
    sandbox.set_member_status(account, list_id, "pending@example.org", "cleaned")
    await _member(client, list_id, "gone@example.org", "transactional")
    assert (await client.delete(f"/lists/{list_id}/members/gone@example.org")).status_code == 204
    archived = cart_body("cart9", "gone@example.org")
    archived["customer"] = {"id": "c8", "email_address": "gone@example.org", "opt_in_status": False}
    doc = assert_problem(await client.post(f"{S}/carts", json=archived), 400, "Bad Request")
    assert "not found in audience" in doc["detail"]


async def test_an_existing_customer_s_cart_is_checked_at_its_address(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    """A cart naming a customer by id alone is checked at that customer's address."""
    list_id = await _store(client)
    customer = {"id": "c9", "email_address": "new@example.org", "opt_in_status": False}
    assert (await client.put(f"{S}/customers/c9", json=customer)).status_code == 200
    assert (await client.delete(f"/lists/{list_id}/members/new@example.org")).status_code == 204
    body = cart_body() | {"customer": {"id": "c9"}}
    doc = assert_problem(await client.post(f"{S}/carts", json=body), 400, "Bad Request")
    assert "not found in audience" in doc["detail"]


async def test_an_order_patch_cannot_move_the_order_to_another_customer(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    """The spec's `E_commerce_Order_2.customer` has neither `id` nor `email_address`."""
    await _store(client)
    assert (await client.post(f"{S}/orders", json=order_body())).status_code == 200
    other = {"id": "c2", "email_address": "other@example.org", "opt_in_status": False}
    assert (await client.put(f"{S}/customers/c2", json=other)).status_code == 200
    for customer in ({"id": "c2"}, other, {"email_address": "other@example.org"}):
        refused = await client.patch(f"{S}/orders/o1", json={"customer": customer})
        assert_problem(refused, 400, "Invalid Resource")
    (order,) = sandbox.orders(account, "store-1")
    assert order.customer.id == "c1"
    assert [c.id for c in sandbox.customers(account, "store-1")] == ["c1", "c2"]
    same = {"id": "c1", "email_address": "buyer@acme.test", "first_name": "Bo"}
    assert (await client.patch(f"{S}/orders/o1", json={"customer": same})).status_code == 200


async def test_a_line_id_repeated_in_one_body_is_refused(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    """The spec's line `id`: "A unique identifier for the order line item", refused as
    `POST …/lines` refuses a line id the order holds."""
    list_id = await _store(client)
    order = order_body()
    order["lines"] = [order["lines"][0], {**order["lines"][0], "quantity": 1}]
    assert_problem(await client.post(f"{S}/orders", json=order), 400, "Bad Request")
    assert sandbox.orders(account, "store-1") == []
    await _member(client, list_id, "new@example.org", "transactional")
    cart = cart_body()
    cart["lines"] = [cart["lines"][0], cart["lines"][0]]
    assert_problem(await client.post(f"{S}/carts", json=cart), 400, "Bad Request")
    assert sandbox.carts(account, "store-1") == []


async def test_an_opt_in_leaves_a_contact_the_lists_api_added_as_it_is(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    """The spec's `opt_in_status`: it "will never overwrite the opt-in status of a
    pre-existing Mailchimp list member, but will apply to list members that are added through
    the e-commerce API endpoints"."""
    list_id = await _store(client)
    await _member(client, list_id, "shop@example.org", "transactional")
    shopper = {"id": "c1", "email_address": "shop@example.org", "opt_in_status": True}
    assert (await client.put(f"{S}/customers/c1", json=shopper)).status_code == 200
    assert sandbox.member(account, list_id, "shop@example.org").status == "transactional"
