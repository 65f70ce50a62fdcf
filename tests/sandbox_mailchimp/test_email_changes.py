"""E-mail changes as the real Mailchimp answers them: a member's address may change (PATCH), an
e-commerce customer's may not (mailchimp/mc-magento#17), and a permanently deleted address is
never added again."""

from __future__ import annotations

import httpx

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount

from .helpers import order_body, product_body
from .test_core import assert_problem
from .test_ecommerce import S, setup_store

REFUSAL = "An email address may not be changed once a customer is created."


async def test_a_customers_address_cannot_change_once_created(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    await setup_store(client)
    customer = {"id": "c1", "email_address": "old@example.org", "opt_in_status": False}
    assert (await client.post(f"{S}/customers", json=customer)).status_code == 200
    moved = {**customer, "email_address": "new@example.org"}
    for method in ("PUT", "PATCH"):
        refused = await client.request(method, f"{S}/customers/c1", json=moved)
        doc = assert_problem(refused, 400, "Invalid Resource")
        assert doc["detail"] == REFUSAL
    # An order naming the customer with another address is refused the same way.
    assert (await client.post(f"{S}/products", json=product_body())).status_code == 200
    order = order_body(customer={**customer, "email_address": "new@example.org"})
    doc = assert_problem(await client.post(f"{S}/orders", json=order), 400, "Invalid Resource")
    assert doc["detail"] == REFUSAL
    [held] = sandbox.customers(account, "store-1")
    assert held.email_address == "old@example.org"
    # The way through: delete the customer and create it again under the new address.
    assert (await client.delete(f"{S}/customers/c1")).status_code == 204
    assert (await client.post(f"{S}/customers", json=moved)).status_code == 200
    assert (await client.post(f"{S}/orders", json=order)).status_code == 200
    [held] = sandbox.customers(account, "store-1")
    assert held.email_address == "new@example.org"


TAKEN = "This customer email already exists"


async def test_an_address_belongs_to_one_customer_of_a_store(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    """mailchimp/mc-magento#58: a second customer with another's address is refused, however
    it is created; the address is free again once its customer is deleted."""
    await setup_store(client)
    first = {"id": "guest-1", "email_address": "Ann@Example.org", "opt_in_status": False}
    assert (await client.post(f"{S}/customers", json=first)).status_code == 200
    second = {**first, "id": "42", "email_address": "ann@example.org"}
    for method, path in (("POST", f"{S}/customers"), ("PUT", f"{S}/customers/42")):
        doc = assert_problem(
            await client.request(method, path, json=second), 400, "Invalid Resource"
        )
        assert doc["detail"] == TAKEN
    assert (await client.post(f"{S}/products", json=product_body())).status_code == 200
    order = order_body(customer=second)
    doc = assert_problem(await client.post(f"{S}/orders", json=order), 400, "Invalid Resource")
    assert doc["detail"] == TAKEN
    # The holder itself is free to come back with its address, and to be named by an order.
    assert (await client.put(f"{S}/customers/guest-1", json=first)).status_code == 200
    held = order_body(customer={**first, "id": "guest-1"}, order_id="o2")
    assert (await client.post(f"{S}/orders", json=held)).status_code == 200
    assert [c.id for c in sandbox.customers(account, "store-1")] == ["guest-1"]
    assert (await client.delete(f"{S}/customers/guest-1")).status_code == 204
    assert (await client.put(f"{S}/customers/42", json=second)).status_code == 200


async def test_a_member_moves_to_a_new_address_and_a_forgotten_one_stays_out(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    list_id = await setup_store(client)
    members = f"/lists/{list_id}/members"
    body = {"email_address": "ann@example.org", "status": "subscribed", "tags": ["vip"]}
    assert (await client.post(members, json=body)).status_code == 200
    moved = await client.patch(f"{members}/ann@example.org", json={"email_address": "a@x.org"})
    assert moved.status_code == 200
    assert moved.json()["status"] == "subscribed" and moved.json()["tags"][0]["name"] == "vip"
    assert sandbox.member(account, list_id, "ann@example.org") is None
    gone = await client.post(f"{members}/a@x.org/actions/delete-permanent")
    assert gone.status_code == 204
    again = {"email_address": "a@x.org", "status": "subscribed"}
    assert_problem(await client.post(members, json=again), 400, "Forgotten Email Not Subscribed")


async def test_no_member_moves_onto_a_forgotten_address(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    """An e-mail change does not bring a permanently deleted address back, subscribed
    (brandonseydel/MailChimp.Net#201; Mailchimp's forgotten rule as in
    ibericode/mailchimp-for-wordpress#771). The member stays as it was."""
    list_id = await setup_store(client)
    members = f"/lists/{list_id}/members"
    for address in ("gone@example.org", "bo@example.org"):
        body = {"email_address": address, "status": "subscribed"}
        assert (await client.post(members, json=body)).status_code == 200
    gone = await client.post(f"{members}/gone@example.org/actions/delete-permanent")
    assert gone.status_code == 204
    moved = await client.patch(
        f"{members}/bo@example.org",
        json={"email_address": "Gone@example.org", "merge_fields": {"FNAME": "Bo"}},
    )
    doc = assert_problem(moved, 400, "Forgotten Email Not Subscribed")
    assert doc["detail"].startswith("Gone@example.org was permanently deleted")
    assert sandbox.member(account, list_id, "gone@example.org") is None
    kept = sandbox.member(account, list_id, "bo@example.org")
    assert kept is not None and kept.status == "subscribed" and kept.merge_fields["FNAME"] == ""


async def test_only_a_subscribed_members_address_changes_and_not_to_one_in_the_list(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    """ibericode/mailchimp-user-sync#96 and brandonseydel/MailChimp.Net#201 quote the answers."""
    list_id = await setup_store(client)
    members = f"/lists/{list_id}/members"
    for address, status in (("ann@example.org", "unsubscribed"), ("bo@example.org", "subscribed")):
        body = {"email_address": address, "status": status}
        assert (await client.post(members, json=body)).status_code == 200
    unsubscribed = await client.patch(
        f"{members}/ann@example.org", json={"email_address": "a@x.org"}
    )
    doc = assert_problem(unsubscribed, 400, "Invalid Resource")
    assert doc["detail"] == (
        'This member\'s status is "unsubscribed." You can only update email addresses for '
        'members with a status of "subscribed."'
    )
    taken = await client.patch(
        f"{members}/bo@example.org", json={"email_address": "ann@example.org"}
    )
    doc = assert_problem(taken, 400, "Invalid Resource")
    assert doc["errors"] == [
        {
            "field": "email_address",
            "message": '"ann@example.org" is already in this list with a status of "unsubscribed".',
        }
    ]
    assert sandbox.member(account, list_id, "bo@example.org") is not None
    assert sandbox.member(account, list_id, "a@x.org") is None


async def test_an_address_mailchimp_finds_fake_is_refused_as_a_new_contact_only(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    """Mailchimp refuses some well-formed addresses outright (a detail, no field error: bodies
    quoted in verbb/formie#2276, JustFixNYC/tenants2#1554); the sandbox: a `.invalid` domain
    and the addresses a test names."""
    list_id = await setup_store(client)
    members = f"/lists/{list_id}/members"
    refused = await client.post(
        members, json={"email_address": "bot@shop.invalid", "status": "subscribed"}
    )
    doc = assert_problem(refused, 400, "Invalid Resource")
    assert doc["detail"] == (
        "bot@shop.invalid looks fake or invalid, please enter a real email address."
    )
    assert "errors" not in doc or not doc["errors"]
    sandbox.refuse_address(account, "Busy@Example.org", "signups")
    put = await client.put(
        f"{members}/busy@example.org",
        json={"email_address": "busy@example.org", "status_if_new": "subscribed"},
    )
    doc = assert_problem(put, 400, "Invalid Resource")
    assert doc["detail"].startswith(
        "busy@example.org has signed up to a lot of lists very recently"
    )
    assert sandbox.members(account, list_id) == []

    # A contact already in the list is not checked again; a move to a refused address is.
    body = {"email_address": "ann@example.org", "status": "subscribed"}
    assert (await client.post(members, json=body)).status_code == 200
    sandbox.refuse_address(account, "ann@example.org")
    assert (await client.patch(f"{members}/ann@example.org", json={"vip": True})).status_code == 200
    moved = await client.patch(
        f"{members}/ann@example.org", json={"email_address": "ann@shop.invalid"}
    )
    assert assert_problem(moved, 400, "Invalid Resource")["detail"].startswith("ann@shop.invalid")
    assert [m.email_address for m in sandbox.members(account, list_id)] == ["ann@example.org"]


async def test_a_new_customer_at_a_fake_address_is_refused_before_anything_is_stored(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    """A new e-commerce customer joins the store's audience: Mailchimp refuses an address it
    finds fake there too (mailchimp/mc-magento2#578), the order with it."""
    await setup_store(client)
    assert (await client.post(f"{S}/products", json=product_body())).status_code == 200
    customer = {"id": "c9", "email_address": "bot@shop.invalid", "opt_in_status": False}
    refused = await client.post(f"{S}/customers", json=customer)
    assert "looks fake or invalid" in assert_problem(refused, 400, "Invalid Resource")["detail"]
    order = await client.post(f"{S}/orders", json=order_body(customer=customer))
    assert "looks fake or invalid" in assert_problem(order, 400, "Invalid Resource")["detail"]
    assert sandbox.customers(account, "store-1") == [] and sandbox.orders(account, "store-1") == []
