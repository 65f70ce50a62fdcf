"""Leaving and withdrawing a consent are always possible on the account page (GDPR art. 7(3)):
while Mailchimp is disconnected, for an audience the store no longer offers, and for the
marketing permissions alone (docs/storefront-api.md)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import update

from addon.connection.models import ConnectionStatus, MailchimpConnection
from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop

STORE = {"saleor_api_url": SALEOR_API_URL}
PAGE = "/api/storefront/me/subscriptions"
MAX = "max@example.com"


async def _signed_in(shop: Shop) -> dict[str, str]:
    customer = await shop.saleor.create_customer(MAX, is_confirmed=True)
    return {"Authorization": f"Bearer {shop.saleor.mint_customer_token(customer)}"}


async def _put(shop: Shop, auth: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    return await shop.client.put(PAGE, params=STORE, headers=auth, json=body)


async def _page(shop: Shop, auth: dict[str, str]) -> dict[str, dict[str, Any]]:
    answer = await shop.client.get(PAGE, params=STORE, headers=auth)
    assert answer.status_code == 200, answer.text
    return {a["list_id"]: a for a in answer.json()["audiences"]}


async def _joined(shop: Shop, auth: dict[str, str], *list_ids: str, permission: str) -> None:
    audiences = [{"list_id": i, "subscribed": True} for i in list_ids]
    answer = await _put(shop, auth, {"audiences": audiences, "permissions": [permission]})
    assert answer.status_code == 202, answer.text
    await shop.work()
    assert shop.member(shop.ids["news"], MAX).status == "subscribed"
    assert shop.consents(MAX)[permission] is True


async def _set_status(shop: Shop, status: ConnectionStatus) -> None:
    async with shop.services.db.transaction() as session:
        await session.execute(update(MailchimpConnection).values(status=status))


async def test_the_account_page_lists_the_customers_audiences_while_disconnected(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    permission = await shop.offered_permission()
    auth = await _signed_in(shop)
    await _joined(shop, auth, news, deals, permission=permission)
    await _set_status(shop, ConnectionStatus.REVOKED)

    page = await _page(shop, auth)
    assert page[news]["status"] == "subscribed" and page[news]["joinable"] is False
    assert page[news]["marketing_permissions"] == [permission]
    assert page[deals]["status"] == "pending" and page[deals]["joinable"] is False
    # The public form: a subscription could not be sent (one asked now is dropped).
    offer = await shop.client.get("/api/storefront/newsletter", params=STORE)
    assert offer.json()["audiences"] == []

    # The page saves every audience it lists: staying in one, leaving the other, goes.
    both = [{"list_id": news, "subscribed": True}, {"list_id": deals, "subscribed": False}]
    answer = await _put(shop, auth, {"audiences": both})
    assert answer.status_code == 202, answer.text
    assert answer.json()["queued"] == 1
    # Staying cannot change groups or give a permission while Mailchimp cannot be told.
    grouped = [{"list_id": news, "subscribed": True, "groups": [shop.ids["Veg"]]}]
    refused = await _put(shop, auth, {"audiences": grouped})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "NEWSLETTER_UNAVAILABLE"

    await shop.connect()
    page = await _page(shop, auth)
    assert page[news]["joinable"] is True and page[deals]["joinable"] is True


async def test_a_customer_leaves_an_audience_no_longer_offered(newsletter: Shop) -> None:
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    permission = await shop.offered_permission()
    auth = await _signed_in(shop)
    await _joined(shop, auth, news, permission=permission)
    patched = await shop.client.patch(
        "/api/audiences/settings",
        json={"active_list_ids": [deals], "default_list_id": deals},
        headers=shop.headers,
    )
    assert patched.status_code == 200, patched.text

    page = await _page(shop, auth)
    assert list(page) == [news, deals]  # (listed while the customer is in it)
    assert page[news]["status"] == "subscribed" and page[news]["joinable"] is False
    assert page[deals]["joinable"] is True

    # Staying withdraws a permission unticked, and leaving is taken.
    stay = {"audiences": [{"list_id": news, "subscribed": True}], "permissions": []}
    assert (await _put(shop, auth, stay)).status_code == 202
    await shop.work()
    assert shop.consents(MAX)[permission] is False
    assert shop.member(news, MAX).status == "subscribed"
    leave = {"audiences": [{"list_id": news, "subscribed": False}]}
    answer = await _put(shop, auth, leave)
    assert answer.status_code == 202, answer.text
    await shop.work()
    assert shop.member(news, MAX).status == "unsubscribed"
    assert news not in await _page(shop, auth)
    # Joining it again is not: it is not offered.
    join = {"audiences": [{"list_id": news, "subscribed": True}]}
    assert (await _put(shop, auth, join)).status_code == 409


async def test_withdrawing_the_permissions_alone_reaches_the_contacts(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    permission = await shop.offered_permission()
    auth = await _signed_in(shop)
    await _joined(shop, auth, news, permission=permission)

    kept = await _put(shop, auth, {"audiences": [], "permissions": [permission, "nosuch"]})
    assert kept.status_code == 202 and kept.json()["queued"] == 0  # held: nothing to do
    withdrawn = await _put(shop, auth, {"audiences": [], "permissions": []})
    assert withdrawn.status_code == 202 and withdrawn.json()["queued"] == 1
    await shop.work()
    assert shop.consents(MAX)[permission] is False
    assert shop.member(news, MAX).status == "subscribed"  # only the permission went
    # Giving one needs its audience named: refused, never "saved".
    refused = await _put(shop, auth, {"audiences": [], "permissions": [permission]})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "INVALID_INPUT"


async def test_a_contact_who_left_withdraws_with_the_permissions_alone(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    permission = await shop.offered_permission()
    auth = await _signed_in(shop)
    await _joined(shop, auth, news, permission=permission)
    # Left without `permissions`: the permission stays.
    leave = {"audiences": [{"list_id": news, "subscribed": False}]}
    assert (await _put(shop, auth, leave)).status_code == 202
    await shop.work()
    assert shop.consents(MAX)[permission] is True

    await _set_status(shop, ConnectionStatus.REVOKED)  # waits for the reconnection
    answer = await _put(shop, auth, {"audiences": [], "permissions": []})
    assert answer.status_code == 202 and answer.json()["queued"] == 1
    await shop.connect()
    await shop.work()
    assert shop.consents(MAX)[permission] is False
    assert shop.member(news, MAX).status == "unsubscribed"


async def test_a_withdrawal_never_subscribes_again_one_who_left_in_mailchimp_meanwhile(
    newsletter: Shop,
) -> None:
    """Unsubscribed in Mailchimp before the app heard of it (its webhook not in yet), the app
    still holds them subscribed: withdrawing a permission withdraws it, and asks no
    confirmation of a new subscription (which a fresh consent of the page would)."""
    shop = newsletter
    news = shop.ids["news"]
    permission = await shop.offered_permission()
    auth = await _signed_in(shop)
    await _joined(shop, auth, news, permission=permission)
    shop.mailchimp.set_member_status(shop.account, news, MAX, "unsubscribed")

    answer = await _put(shop, auth, {"audiences": [], "permissions": []})
    assert answer.status_code == 202 and answer.json()["queued"] == 1
    await shop.work()

    assert shop.member(news, MAX).status == "unsubscribed"
    assert shop.consents(MAX)[permission] is False
