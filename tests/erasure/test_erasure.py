"""Erasure through the sandboxes: a customer deleting their account in Saleor, or staff pressing
"Erase from Mailchimp" in the customer panel. The member is deleted permanently from every
audience (Mailchimp then refuses the address), the e-commerce customer and carts from every
store, orders kept unless the setting says otherwise, and the app's tables keep only hashes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from addon.clock import ManualClock
from addon.connection.models import ConnectionStatus, MailchimpConnection
from addon.db.types import utcnow
from addon.erasure.jobs import ERASE_JOB, ERASED_NOTE, WAITING_FOR_CONNECTION
from addon.jobs.models import Job, JobStatus
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from sandboxes.mailchimp.state import subscriber_hash
from sandboxes.saleor.store_checkouts import LineSpec
from tests.conftest import dashboard_headers
from tests.ecommerce.conftest import Shop
from tests.erasure.scan import rows_naming

ANN = "ann@example.com"


async def _customer_with_history(shop: Shop) -> tuple[Any, Any, Any]:
    """Ann: subscribed (registration consent) to the store's audience, which is also the
    newsletter's; an order and an abandoned cart in the store."""
    response = await shop.api(
        "PUT",
        "/api/audiences/settings",
        {"active_list_ids": [shop.list_id], "default_list_id": shop.list_id},
    )
    assert response.status_code == 200, response.text
    await shop.drain()
    customer = await shop.saleor.create_customer(
        ANN, "Ann", "Lee", metadata={CONSENT_SUBSCRIBE: "true"}
    )
    product = await shop.product("Pear", "2.50")
    await shop.drain()
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 2)], user=customer
    )
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], customer=customer
    )
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, ANN).status == "subscribed"
    assert [c.email_address for c in shop.mailchimp.customers(shop.account, shop.store_id)] == [ANN]
    assert str(order.id) in shop.orders() and str(checkout.token) in shop.carts()
    assert await rows_naming(shop.services, ANN)  # the app knew her address
    return customer, order, checkout


async def _assert_erased(shop: Shop, order_kept: bool, order: Any, checkout: Any) -> str:
    assert shop.mailchimp.member(shop.account, shop.list_id, ANN) is None
    again = await shop.mailchimp.call(
        shop.account,
        "POST",
        f"/lists/{shop.list_id}/members",
        body={"email_address": ANN, "status": "subscribed"},
    )
    assert again.status == 400 and again.body["title"] == "Forgotten Email Not Subscribed"
    assert shop.mailchimp.customers(shop.account, shop.store_id) == []
    assert str(checkout.token) not in shop.carts()
    assert (str(order.id) in shop.orders()) is order_kept
    # Nothing in the app's tables names her any more.
    assert await rows_naming(shop.services, ANN) == []
    async with shop.services.db.session() as session:
        [note] = await session.scalars(select(Job).where(Job.kind == ERASED_NOTE))
    assert note.last_error is not None and "permanently deleted" in note.last_error
    assert subscriber_hash(ANN) in str(note.payload)
    activity = await shop.api("GET", "/api/activity?limit=100")
    assert activity.status_code == 200 and ANN not in activity.text
    rows = activity.json()["items"]
    assert any(i["subject"] == "Erasure of a customer" and i["details"] for i in rows)
    return note.last_error


async def test_a_customer_deleting_their_account_is_erased(shop: Shop) -> None:
    customer, order, checkout = await _customer_with_history(shop)
    await shop.saleor.delete_account(customer)
    await shop.drain()
    note = await _assert_erased(shop, True, order, checkout)
    assert "deleted their account" in note and "orders kept" in note


async def test_the_customer_holding_the_address_is_erased_whatever_its_id(shop: Shop) -> None:
    """Mailchimp keeps one customer per address in a store, which may carry another id than
    the app's (`ecommerce/email_holder.py`): the one Mailchimp holds is found by address."""
    customer, order, checkout = await _customer_with_history(shop)
    store = f"/ecommerce/stores/{shop.store_id}"
    await shop.mailchimp.call(shop.account, "DELETE", f"{store}/carts/{checkout.token}")
    await shop.mailchimp.call(shop.account, "DELETE", f"{store}/customers/{customer.id}")
    held = {"id": "earlier-1", "email_address": ANN, "opt_in_status": False}
    created = await shop.mailchimp.call(shop.account, "POST", f"{store}/customers", body=held)
    assert created.status == 200
    await shop.saleor.delete_account(customer)
    await shop.drain()
    await _assert_erased(shop, True, order, checkout)


def _users_only(shop: Shop) -> dict[str, str]:
    return dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])


async def test_staff_erase_a_customer_from_the_panel_orders_too_when_set(shop: Shop) -> None:
    customer, order, checkout = await _customer_with_history(shop)
    settings = await shop.api("PUT", "/api/erasure/settings", {"delete_orders": True})
    assert settings.status_code == 200 and settings.json() == {"delete_orders": True}
    url = f"/api/erasure/customers/{customer.global_id}"
    preview = await shop.client.get(url, headers=_users_only(shop))
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["email"] == ANN and body["delete_orders"] is True and body["connected"] is True
    assert [(a["list_id"], a["member"]) for a in body["audiences"]] == [(shop.list_id, True)]
    [store] = body["stores"]
    assert (store["customer"], store["carts"], store["orders"]) == (True, 1, 1)

    erased = await shop.client.post(url, headers=_users_only(shop))
    assert erased.status_code == 202, erased.text
    await shop.drain()
    note = await _assert_erased(shop, False, order, checkout)
    assert "1 order(s) deleted" in note and "customer panel" in note
    # The customer is still in Saleor: only Mailchimp and the app forgot them.
    assert shop.saleor.store.customers[customer.id].email == ANN

    # Their panel says so, and staff cannot subscribe them again: only they can come back.
    panel_url = f"/api/subscriptions/customers/{customer.global_id}"
    panel = (await shop.client.get(panel_url, headers=shop.headers)).json()
    assert panel["erased_at"] is not None
    [audience] = panel["audiences"]
    assert audience["can_subscribe"] is False
    assert "was erased from Mailchimp" in audience["subscribe_blocked_reason"]
    asked = await shop.client.post(
        panel_url, headers=shop.headers, json={"list_id": shop.list_id, "action": "subscribe"}
    )
    assert asked.status_code == 409 and asked.json()["error"]["code"] == "CONSENT_REQUIRED"


async def test_erasing_needs_manage_users_and_an_existing_customer(shop: Shop) -> None:
    missing = await shop.client.get(
        "/api/erasure/customers/VXNlcjo5OTk5", headers=_users_only(shop)
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "UNKNOWN_CUSTOMER"
    nobody = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_ORDERS"])
    refused = await shop.client.post("/api/erasure/customers/VXNlcjox", headers=nobody)
    assert refused.status_code == 403


async def test_the_erasure_setting_keeps_orders_by_default(shop: Shop) -> None:
    response = await shop.api("GET", "/api/erasure/settings")
    assert response.status_code == 200 and response.json() == {"delete_orders": False}
    bad = await shop.api("PUT", "/api/erasure/settings", {"delete_orders": "sometimes"})
    assert bad.status_code == 422


async def _connection(shop: Shop, status: ConnectionStatus) -> None:
    async with shop.services.db.transaction() as session:
        await session.execute(update(MailchimpConnection).values(status=status))


async def test_an_erasure_while_mailchimp_is_disconnected_waits_for_it(shop: Shop) -> None:
    """The key was revoked when the customer deleted their account: the customer is still in
    the account's audiences and store, so the erasure waits for the reconnection, where it was
    once recorded done with nothing erased (and the address forgotten, so never to be)."""
    customer, order, checkout = await _customer_with_history(shop)
    await _connection(shop, ConnectionStatus.REVOKED)
    await shop.saleor.delete_account(customer)
    await shop.drain()
    async with shop.services.db.session() as session:
        [job] = await session.scalars(select(Job).where(Job.kind == ERASE_JOB))
        assert job.status is JobStatus.PENDING and job.last_error == WAITING_FOR_CONNECTION
        assert await session.scalar(select(Job).where(Job.kind == ERASED_NOTE)) is None
    assert shop.mailchimp.member(shop.account, shop.list_id, ANN) is not None

    await _connection(shop, ConnectionStatus.CONNECTED)
    async with shop.services.db.transaction() as session:
        await session.execute(update(Job).where(Job.kind == ERASE_JOB).values(run_after=utcnow()))
    await shop.drain()
    await _assert_erased(shop, True, order, checkout)


async def test_a_guest_shoppers_address_is_erased_by_staff(shop: Shop) -> None:
    """A guest has no Saleor customer for the panel: staff erase the address itself (a request
    by e-mail, or one Mailchimp forwards). Their e-commerce customer, orders (when set) and
    carts go, and the address is refused in the audience."""
    guest = "guest.erase@example.com"
    product = await shop.product("Plum", "3.00")
    await shop.api("PUT", "/api/erasure/settings", {"delete_orders": True})
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], email=guest
    )
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email=guest
    )
    await shop.drain()
    assert str(order.number) in shop.orders() and str(checkout.token) in shop.carts()
    assert await rows_naming(shop.services, guest)

    refused = await shop.client.post(
        "/api/erasure/addresses", json={"email": "not an address"}, headers=_users_only(shop)
    )
    assert refused.status_code == 422
    nobody = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_ORDERS"])
    denied = await shop.client.post("/api/erasure/addresses", json={"email": guest}, headers=nobody)
    assert denied.status_code == 403
    accepted = await shop.client.post(
        "/api/erasure/addresses",
        json={"email": " Guest.Erase@example.com "},
        headers=_users_only(shop),
    )
    assert accepted.status_code == 202, accepted.text
    await shop.drain()

    assert shop.mailchimp.customers(shop.account, shop.store_id) == []
    assert str(order.number) not in shop.orders() and str(checkout.token) not in shop.carts()
    assert await rows_naming(shop.services, guest) == []
    async with shop.services.db.session() as session:
        [note] = await session.scalars(select(Job).where(Job.kind == ERASED_NOTE))
    assert note.last_error is not None and "erased an e-mail address" in note.last_error


async def test_a_late_mailchimp_event_does_not_bring_an_erased_address_back(
    shop: Shop, clock: ManualClock
) -> None:
    """Mailchimp delivers an event late when a delivery failed (retried for up to 75 minutes):
    one about an address erased meanwhile is ignored, as it would put the address back in the
    app's tables. An event received hours after the erasure was made after it (the person
    subscribing again through the audience's form) and is recorded as any other."""
    customer, order, checkout = await _customer_with_history(shop)
    await shop.saleor.delete_account(customer)
    await shop.drain()
    await _assert_erased(shop, True, order, checkout)

    clock.advance(50 * 60)  # an unsubscribe of before the erasure, delivered at last
    late = {"email": ANN, "action": "unsub", "reason": "manual"}
    [response] = await shop.mailchimp.fire_list_webhook(
        shop.account, shop.list_id, "unsubscribe", late
    )
    assert response.status_code == 200
    await shop.drain()
    assert await rows_naming(shop.services, ANN) == []

    clock.advance(3 * 3600)
    [response] = await shop.mailchimp.fire_list_webhook(
        shop.account, shop.list_id, "subscribe", {"email": ANN}
    )
    assert response.status_code == 200
    await shop.drain()
    assert await rows_naming(shop.services, ANN)
