"""What the account page refuses: a deactivated account's token, and a save naming an audience
twice."""

from __future__ import annotations

from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop

STORE = {"saleor_api_url": SALEOR_API_URL}


async def test_a_deactivated_account_s_token_is_refused(newsletter: Shop) -> None:
    """As Saleor refuses it (saleor/core/jwt.py `get_user_from_payload`: only an active user's
    token). Before, a token issued before the deactivation still read and changed their
    subscriptions until it expired."""
    shop = newsletter
    ann = await shop.saleor.create_customer("ann@example.com", "Ann", is_confirmed=True)
    await shop.work()
    auth = {"Authorization": f"Bearer {shop.saleor.mint_customer_token(ann)}"}
    mine = await shop.client.get("/api/storefront/me/subscriptions", params=STORE, headers=auth)
    assert mine.status_code == 200, mine.text

    shop.saleor.store.update_customer(ann, is_active=False)

    refused = await shop.client.get("/api/storefront/me/subscriptions", params=STORE, headers=auth)
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["code"] == "INVALID_TOKEN"
    change = await shop.client.put(
        "/api/storefront/me/subscriptions",
        params=STORE,
        headers=auth,
        json={"audiences": [{"list_id": shop.ids["news"], "subscribed": True}]},
    )
    assert change.status_code == 401, change.text


async def test_an_audience_named_twice_in_one_save_is_refused(newsletter: Shop) -> None:
    """Each change is a Mailchimp write: fifty of one audience in one save were fifty jobs, and
    only a save that subscribes is counted by the account's rate limit."""
    shop = newsletter
    ann = await shop.saleor.create_customer("ann@example.com", "Ann", is_confirmed=True)
    await shop.work()
    auth = {"Authorization": f"Bearer {shop.saleor.mint_customer_token(ann)}"}
    news = shop.ids["news"]
    change = await shop.client.put(
        "/api/storefront/me/subscriptions",
        params=STORE,
        headers=auth,
        json={"audiences": [{"list_id": news, "subscribed": False}] * 2},
    )
    assert change.status_code == 422, change.text
    assert "each audience may appear once" in change.text
    assert await shop.work() == 0  # nothing queued
