"""A customer whose account staff deactivated: the account page refuses their token, as
Saleor does (saleor/core/jwt.py `get_user_from_payload`: only an active user's token). Before,
a token issued before the deactivation still read and changed their subscriptions until it
expired."""

from __future__ import annotations

from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop

STORE = {"saleor_api_url": SALEOR_API_URL}


async def test_a_deactivated_account_s_token_is_refused(newsletter: Shop) -> None:
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
