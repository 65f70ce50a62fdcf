"""A shopper whose address has an internationalised domain: Saleor holds it as typed (a
browser's e-mail field sends the ASCII form, xn--…), the app keys the contact by the Unicode
form (`normalize_email`). Mailchimp's member id hashes the address as written, so the two forms
are two contacts: the e-commerce customer goes under the contact's form, and an erasure finds
the shopper under either."""

from __future__ import annotations

from typing import Any

import pytest

from addon.ecommerce.payloads import mailchimp_id
from addon.subscriptions.schemas import normalize_email
from sandboxes.saleor.store_checkouts import LineSpec
from tests.conftest import dashboard_headers
from tests.ecommerce.conftest import Shop

# The store offers the tracked store's audience, as its default (an autouse fixture there).
from tests.ecommerce.test_opt_in import CONSENT, offered_audience  # noqa: F401

PUNY = "Bob@xn--bcher-kva.de"
UNICODE = normalize_email(PUNY)  # bob@bücher.de


def _contacts(shop: Shop) -> dict[str, str]:
    """The audience's contacts by address, lowercased: a contact is its lowercased address's
    hash, and its spelling is that of whichever write made it first (the order's customer,
    `Bob@…`, or the subscription, `bob@…`: they run side by side)."""
    members = shop.mailchimp.members(shop.account, shop.list_id)
    return {m.email_address.lower(): m.status for m in members}


def _customers(shop: Shop) -> list[str]:
    return [c.email_address for c in shop.mailchimp.customers(shop.account, shop.store_id)]


async def test_a_subscribed_customer_and_their_orders_are_one_contact(shop: Shop) -> None:
    product = await shop.product("Kiwi", "2.00")
    bob = await shop.saleor.create_customer(PUNY, "Bob", "B", metadata=CONSENT, is_confirmed=True)
    await shop.drain()
    await shop.saleor.create_order(lines=[shop.saleor.order_line(product.variants[0], 1)], user=bob)
    await shop.drain()
    # One subscribed contact, not a second one under the ASCII form sent every campaign too.
    assert _contacts(shop) == {UNICODE: "subscribed"}
    assert _customers(shop) == [UNICODE]
    [order] = shop.orders().values()
    assert order.customer.email_address == UNICODE


async def test_a_guest_who_subscribed_at_checkout_is_one_contact(shop: Shop) -> None:
    product = await shop.product("Lime", "1.00")
    await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], email=PUNY, metadata=CONSENT
    )
    await shop.drain()
    assert _contacts(shop) == {UNICODE: "subscribed"}
    # Only the domain's form changes: the local part goes as Saleor holds it (a guest's as
    # typed), as any other change of a customer's address (of case) Mailchimp refuses.
    assert _customers(shop) == ["Bob@bücher.de"]


async def test_an_address_of_an_ascii_domain_goes_as_saleor_holds_it(shop: Shop) -> None:
    product = await shop.product("Plum", "1.00")
    await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], email="Ann.Lee@Shop.example"
    )
    await shop.drain()
    assert _customers(shop) == ["Ann.Lee@Shop.example"]


@pytest.mark.parametrize("asked", [PUNY, UNICODE])
async def test_a_guest_is_erased_by_either_form_of_the_address(shop: Shop, asked: str) -> None:
    product = await shop.product("Pear", "3.00")
    await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], email=PUNY, metadata=CONSENT
    )
    checkout: Any = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email=PUNY
    )
    await shop.drain()
    assert _customers(shop) and str(checkout.token) in shop.carts()
    staff = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    accepted = await shop.client.post(
        "/api/erasure/addresses", json={"email": asked}, headers=staff
    )
    assert accepted.status_code == 202, accepted.text
    await shop.drain()
    assert _customers(shop) == [] and str(checkout.token) not in shop.carts()
    assert _contacts(shop) == {}


async def test_a_customer_sent_before_under_the_ascii_form_is_moved_to_the_contact(
    shop: Shop,
) -> None:
    """Before, the customer went under the address as Saleor holds it: its next push meets
    Mailchimp's refusal of a new address and re-creates it under the contact's form, and the
    contact of the ASCII form is merged into the subscribed one (`email_change.py`)."""
    product = await shop.product("Fig", "2.00")
    bob = await shop.saleor.create_customer(PUNY, "Bob", "B", metadata=CONSENT, is_confirmed=True)
    old = await shop.mailchimp.call(
        shop.account,
        "POST",
        f"/ecommerce/stores/{shop.store_id}/customers",
        body={"id": mailchimp_id(bob.global_id), "email_address": bob.email, "opt_in_status": True},
    )
    assert old.status == 200, old.body
    await shop.drain()
    await shop.saleor.create_order(lines=[shop.saleor.order_line(product.variants[0], 1)], user=bob)
    await shop.drain()
    assert _customers(shop) == [UNICODE]
    [order] = shop.orders().values()
    assert order.customer.email_address == UNICODE
    assert _contacts(shop)[UNICODE] == "subscribed"
    assert _contacts(shop).get(bob.email.lower()) in (None, "archived")
