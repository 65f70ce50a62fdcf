"""A store-side change that is not a subscription asked (the account page's withdrawal of a
GDPR marketing permission: `ContactChange.fresh_consent` False) of a contact Mailchimp no
longer holds in the audience adds no one to it.

Before, `write_member` took such a change down the path of a new contact: a contact archived
in Mailchimp (the admin's removal, its webhook not in yet) was re-added by the PUT's `status`
(which brings an archived contact back, where `status_if_new` alone would not:
tbar0970/jethro-pmm#708), and one whose address was changed in Mailchimp (no member at the
old address) was made there, subscribed: a withdrawal of consent subscribed a person who
never consented again. Now nothing is sent, and the contact says why. The shopper's own
fresh consent still brings them back, and staff's subscribe too (test_two_way.py)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from addon.subscriptions.models import ContactState
from tests.conftest import SALEOR_API_URL, dashboard_headers
from tests.subscriptions.conftest import Shop

STORE = {"saleor_api_url": SALEOR_API_URL}
PAGE = "/api/storefront/me/subscriptions"
MAX = "max@example.com"


async def _joined(shop: Shop) -> tuple[dict[str, str], str]:
    """Max, signed in, joined News on the account page giving its GDPR permission."""
    customer = await shop.saleor.create_customer(MAX, is_confirmed=True)
    auth = {"Authorization": f"Bearer {shop.saleor.mint_customer_token(customer)}"}
    permission = await shop.offered_permission()
    joined = [{"list_id": shop.ids["news"], "subscribed": True}]
    answer = await _put(shop, auth, {"audiences": joined, "permissions": [permission]})
    assert answer.status_code == 202, answer.text
    await shop.work()
    assert shop.member(shop.ids["news"], MAX).status == "subscribed"
    assert shop.consents(MAX)[permission] is True
    return auth, permission


async def _put(shop: Shop, auth: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    return await shop.client.put(PAGE, params=STORE, headers=auth, json=body)


async def _withdrawn(shop: Shop, auth: dict[str, str]) -> None:
    """Max unticks the permission (the app still holds them subscribed: it was not told)."""
    answer = await _put(shop, auth, {"audiences": [], "permissions": []})
    assert answer.status_code == 202 and answer.json()["queued"] == 1, answer.text
    await shop.work()


async def _contact(shop: Shop) -> ContactState:
    async with shop.services.db.session() as session:
        return (
            await session.scalars(
                select(ContactState).where(
                    ContactState.list_id == shop.ids["news"], ContactState.email == MAX
                )
            )
        ).one()


async def test_a_withdrawal_does_not_bring_back_a_contact_archived_in_mailchimp(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    auth, permission = await _joined(shop)
    # An admin archives Max in Mailchimp; its webhook has not reached the app yet.
    await shop.mc("DELETE", f"/lists/{news}/members/{MAX}")

    await _withdrawn(shop, auth)

    assert shop.member(news, MAX).status == "archived"
    state = await _contact(shop)
    assert state.status == "archived"
    assert state.last_problem is not None and "not in the audience" in state.last_problem
    # Nothing was sent, but the app keeps the shopper's withdrawal: its record of the consent
    # (which the account page shows) is not Mailchimp's archived one.
    assert {p["id"]: p["enabled"] for p in state.marketing_permissions}[permission] is False

    # Max's own fresh consent brings them back, as before.
    joined = [{"list_id": news, "subscribed": True}]
    answer = await _put(shop, auth, {"audiences": joined, "permissions": [permission]})
    assert answer.status_code == 202, answer.text
    await shop.work()
    assert shop.member(news, MAX).status == "subscribed"
    assert shop.consents(MAX)[permission] is True
    assert (await _contact(shop)).last_problem is None


async def test_a_withdrawal_makes_no_member_at_an_address_left_in_mailchimp(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    auth, _ = await _joined(shop)
    # Max's address is changed in Mailchimp; its `upemail` has not reached the app yet.
    await shop.mc("PATCH", f"/lists/{news}/members/{MAX}", {"email_address": "max@new.example"})

    await _withdrawn(shop, auth)

    assert shop.member(news, MAX) is None  # no one made at the address left
    assert shop.member(news, "max@new.example").status == "subscribed"
    # It waits for Mailchimp's word of the move (test_withdrawal_awaiting_move.py).
    state = await _contact(shop)
    assert state.last_problem is not None and "not told the app yet" in state.last_problem


async def test_staff_bringing_back_an_archived_contact_keep_its_withdrawal(
    newsletter: Shop,
) -> None:
    """Mailchimp keeps an archived contact's data, its GDPR permissions included, and a PUT
    that brings it back leaves those it does not name (the sandbox models so): staff
    subscribing Max again must not turn back on the permission Max withdrew meanwhile."""
    shop = newsletter
    news = shop.ids["news"]
    auth, permission = await _joined(shop)
    await shop.mc("DELETE", f"/lists/{news}/members/{MAX}")
    await _withdrawn(shop, auth)
    assert shop.consents(MAX)[permission] is True  # Mailchimp's, not sent: archived

    customer = shop.saleor.store.find_customer_by_email(MAX)
    assert customer is not None
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    url = f"/api/subscriptions/customers/{customer.global_id}"
    answer = await shop.client.post(
        url, json={"list_id": news, "action": "subscribe"}, headers=headers
    )
    assert answer.status_code == 202, answer.text
    await shop.work()

    assert shop.member(news, MAX).status == "subscribed"
    assert shop.consents(MAX)[permission] is False
    state = await _contact(shop)
    assert {p["id"]: p["enabled"] for p in state.marketing_permissions}[permission] is False
