"""The account page's `permissions` is the whole choice (docs/storefront-api.md): a save that
unsubscribes withdraws the marketing permissions left unticked, in the same PATCH."""

from __future__ import annotations

from typing import Any

from addon.mailchimp import subscriber_hash
from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop

STORE = {"saleor_api_url": SALEOR_API_URL}
PAGE = "/api/storefront/me/subscriptions"
MAX = "max@example.com"


async def _save(shop: Shop, auth: dict[str, str], body: dict[str, Any]) -> None:
    response = await shop.client.put(PAGE, params=STORE, headers=auth, json=body)
    assert response.status_code == 202, response.text
    await shop.work()


def _patches(shop: Shop) -> list[Any]:
    hashed = subscriber_hash(MAX)
    return [r for r in shop.mailchimp.requests if r.method == "PATCH" and hashed in r.path]


async def test_leaving_withdraws_the_permissions_unticked(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    permission = await shop.offered_permission()
    max_ = await shop.saleor.create_customer(MAX, is_confirmed=True)
    auth = {"Authorization": f"Bearer {shop.saleor.mint_customer_token(max_)}"}
    joined = {"audiences": [{"list_id": news, "subscribed": True}], "permissions": [permission]}
    await _save(shop, auth, joined)
    assert shop.consents(MAX)[permission] is True

    before = len(_patches(shop))
    await _save(
        shop, auth, {"audiences": [{"list_id": news, "subscribed": False}], "permissions": []}
    )
    assert shop.member(news, MAX).status == "unsubscribed"
    assert shop.consents(MAX)[permission] is False
    assert len(_patches(shop)) == before + 1  # one PATCH: leaving and withdrawing
    page = (await shop.client.get(PAGE, params=STORE, headers=auth)).json()["audiences"][0]
    assert page["marketing_permissions"] == []


async def test_a_permission_kept_or_not_named_stays_when_leaving(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    permission = await shop.offered_permission()
    max_ = await shop.saleor.create_customer(MAX, is_confirmed=True)
    auth = {"Authorization": f"Bearer {shop.saleor.mint_customer_token(max_)}"}
    joined = {"audiences": [{"list_id": news, "subscribed": True}], "permissions": [permission]}
    await _save(shop, auth, joined)
    # No `permissions`: they stay as they are.
    await _save(shop, auth, {"audiences": [{"list_id": news, "subscribed": False}]})
    assert shop.member(news, MAX).status == "unsubscribed"
    assert shop.consents(MAX)[permission] is True
    # Already left: the box unticked later is withdrawn all the same.
    await _save(
        shop, auth, {"audiences": [{"list_id": news, "subscribed": False}], "permissions": []}
    )
    assert shop.consents(MAX)[permission] is False
    assert shop.member(news, MAX).status == "unsubscribed"
