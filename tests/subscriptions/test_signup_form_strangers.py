"""The public signup form proves nothing of who typed the address: for a contact already in the
audience it adds the groups chosen, and changes neither their names, nor their other groups,
nor their consents (Mailchimp's own forms send such an address an update-profile link)."""

from __future__ import annotations

from typing import Any

from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop

STORE = {"saleor_api_url": SALEOR_API_URL}


async def _signup(shop: Shop, **body: Any) -> dict[str, Any]:
    response = await shop.client.post("/api/storefront/subscribe", params=STORE, json=body)
    assert response.status_code == 202, response.text
    await shop.work()
    answer: dict[str, Any] = response.json()
    return answer


def _consents(shop: Shop, email: str) -> dict[str, bool]:
    member = shop.member(shop.ids["news"], email)
    return {p.marketing_permission_id: p.enabled for p in member.marketing_permissions}


async def test_a_stranger_cannot_rename_regroup_or_consent_for_a_subscriber(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news, fruit, veg = shop.ids["news"], shop.ids["Fruit"], shop.ids["Veg"]
    offer = (await shop.client.get("/api/storefront/newsletter", params=STORE)).json()
    permission = offer["audiences"][0]["marketing_permissions"][0]["id"]
    own = await _signup(shop, email="ann@example.com", first_name="Ann", groups=[fruit, veg])
    member = shop.member(news, "ann@example.com")
    assert (member.status, member.merge_fields["FNAME"]) == ("subscribed", "Ann")
    assert _consents(shop, "ann@example.com")[permission] is False

    stranger = await _signup(
        shop, email="ann@example.com", first_name="Mallory", groups=[], permissions=[permission]
    )
    assert stranger == own  # the answer never tells the address was known
    member = shop.member(news, "ann@example.com")
    assert member.merge_fields["FNAME"] == "Ann"
    assert (member.interests[fruit], member.interests[veg]) == (True, True)
    assert _consents(shop, "ann@example.com")[permission] is False


async def test_a_subscriber_signing_up_again_adds_the_groups_chosen(newsletter: Shop) -> None:
    shop = newsletter
    news, fruit, veg = shop.ids["news"], shop.ids["Fruit"], shop.ids["Veg"]
    await _signup(shop, email="bo@example.com", groups=[fruit])
    await _signup(shop, email="bo@example.com", groups=[veg])
    member = shop.member(news, "bo@example.com")
    assert (member.interests[fruit], member.interests[veg]) == (True, True)
