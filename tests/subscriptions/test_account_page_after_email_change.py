"""The account page after the customer changed their e-mail address: an access token keeps the
address it was issued with for its whole life (Saleor does not revoke it on
`confirmEmailChange`), so the page works on the address Saleor holds for the account now, read
on each request, never the token's."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandboxes.saleor.models import Customer
from sandboxes.transport import HostRoutingTransport
from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop, _subscribed_customer

STORE = {"saleor_api_url": SALEOR_API_URL}
PAGE = "/api/storefront/me/subscriptions"
OLD, NEW = "ann@example.com", "ann.lee@example.com"


def _auth(shop: Shop, customer: Customer) -> dict[str, str]:
    return {"Authorization": f"Bearer {shop.saleor.mint_customer_token(customer)}"}


async def _page(shop: Shop, auth: dict[str, str]) -> dict[str, Any]:
    response = await shop.client.get(PAGE, params=STORE, headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _audience(page: dict[str, Any], list_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in page["audiences"] if a["list_id"] == list_id)
    return found


async def _put(shop: Shop, auth: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    return await shop.client.put(PAGE, params=STORE, headers=auth, json=body)


async def test_a_token_from_before_an_email_change_works_on_the_new_address(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    customer = await _subscribed_customer(shop, OLD)
    auth = _auth(shop, customer)  # signed in before the change: the token names OLD
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.work()
    assert shop.member(news, OLD) is None
    assert shop.member(news, NEW).status == "subscribed"

    page = await _page(shop, auth)
    seen = _audience(page, news)
    assert (seen["status"], seen["contact_email"]) == ("subscribed", None)
    assert page["email"] == NEW

    # Leaving News and joining Deals both act at the new address.
    both = [{"list_id": news, "subscribed": False}, {"list_id": deals, "subscribed": True}]
    answer = await _put(shop, auth, {"audiences": both})
    assert answer.status_code == 202, answer.text
    await shop.work()
    assert shop.member(news, NEW).status == "unsubscribed"
    assert shop.member(deals, NEW).status == "pending"  # the confirmation goes to NEW
    assert shop.member(deals, OLD) is None and shop.member(news, OLD) is None
    page = await _page(shop, auth)
    assert (_audience(page, news)["status"], _audience(page, deals)["status"]) == (
        "unsubscribed",
        "pending",
    )


async def test_an_unconfirmed_account_moved_onto_anothers_address_proves_nothing_of_it(
    newsletter: Shop,
) -> None:
    """The address read from Saleor is as unproven as the token's was: an account that never
    confirmed sees none of another's contact there and cannot take it away."""
    shop = newsletter
    news = shop.ids["news"]
    subscribed = await shop.client.post(
        "/api/storefront/subscribe", params=STORE, json={"email": "vic@example.com"}
    )
    assert subscribed.status_code == 202, subscribed.text
    shop.saleor.store.enable_account_confirmation_by_email = False
    mallory = await shop.saleor.create_customer("mal@example.com", "Mal", "Lory")
    assert mallory.is_confirmed is False
    auth = _auth(shop, mallory)
    await shop.work()
    # Her address changes in Saleor (its webhook not delivered yet).
    shop.saleor.store.update_customer(mallory, email="vic@example.com")
    assert shop.member(news, "vic@example.com").status == "subscribed"

    page = await _page(shop, auth)
    assert page["email"] == "vic@example.com"
    assert _audience(page, news)["status"] == "none"
    answer = await _put(shop, auth, {"audiences": [{"list_id": news, "subscribed": False}]})
    assert answer.status_code == 202, answer.text
    await shop.work()
    assert shop.member(news, "vic@example.com").status == "subscribed"


async def test_a_customer_deleted_since_signing_in_proves_nothing(newsletter: Shop) -> None:
    """Saleor shows the app no such customer: the page falls back on the token's address, as
    an unconfirmed account's (the deletion erased the contact)."""
    shop = newsletter
    news = shop.ids["news"]
    vic = await _subscribed_customer(shop, "vic@example.com")
    auth = _auth(shop, vic)
    await shop.saleor.delete_customer(vic)
    await shop.work()

    page = await _page(shop, auth)
    assert (page["email"], _audience(page, news)["status"]) == ("vic@example.com", "none")
    answer = await _put(shop, auth, {"audiences": [{"list_id": news, "subscribed": False}]})
    assert answer.status_code == 202, answer.text


async def test_saleor_not_answering_is_a_502(
    newsletter: Shop, network: HostRoutingTransport
) -> None:
    shop = newsletter
    customer = await _subscribed_customer(shop, OLD)
    auth = _auth(shop, customer)

    async def graphql(_: Request) -> Response:
        return Response("Service Unavailable", status_code=503)

    network.add("saleor.test", Starlette(routes=[Route("/graphql/", graphql, methods=["POST"])]))
    for answer in (
        await shop.client.get(PAGE, params=STORE, headers=auth),
        await _put(shop, auth, {"audiences": [{"list_id": shop.ids["news"], "subscribed": False}]}),
    ):
        assert answer.status_code == 502, answer.text
        assert answer.json()["error"]["code"] == "SALEOR_UNAVAILABLE"
