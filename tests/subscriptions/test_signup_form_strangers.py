"""The public signup form proves nothing of who typed the address: for a contact already in the
audience it adds the groups chosen, and changes neither their names, nor their other groups,
nor their consents (Mailchimp's own forms send such an address an update-profile link)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from addon.subscriptions.models import ContactState
from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop

STORE = {"saleor_api_url": SALEOR_API_URL}


async def _signup(shop: Shop, **body: Any) -> dict[str, Any]:
    response = await shop.client.post("/api/storefront/subscribe", params=STORE, json=body)
    assert response.status_code == 202, response.text
    await shop.work()
    answer: dict[str, Any] = response.json()
    return answer


async def _recorded(shop: Shop, email: str) -> tuple[str | None, list[str] | None]:
    async with shop.services.db.session() as session:
        state = await session.scalar(
            select(ContactState).where(
                ContactState.email == email, ContactState.list_id == shop.ids["news"]
            )
        )
        assert state is not None
        return state.profile_digest, state.sent_merge_tags


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

    recorded = await _recorded(shop, "ann@example.com")
    stranger = await _signup(
        shop, email="ann@example.com", first_name="Mallory", groups=[], permissions=[permission]
    )
    # Nothing of the contact's profile went, so its record of what was sent stays.
    assert await _recorded(shop, "ann@example.com") == recorded
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


async def test_a_strangers_signup_leaves_the_record_of_what_was_sent(newsletter: Shop) -> None:
    """The public form's change of a contact already in the audience sends none of the mapped
    fields: the contact's record of what was sent stays, so the customer's next change still
    sends them (recorded as sent, a name changed in Saleor meanwhile never reached Mailchimp)."""
    shop = newsletter
    news = shop.ids["news"]
    mapped = await shop.client.put(
        f"/api/audiences/{news}/mapping",
        json={"fields": [{"merge_tag": "FNAME", "source": "first_name"}]},
        headers=shop.headers,
    )
    assert mapped.status_code == 200, mapped.text
    customer = await shop.saleor.create_customer("cy@example.com", "Cy", "Lee")
    await _signup(shop, email="cy@example.com")
    assert shop.member(news, "cy@example.com").merge_fields["FNAME"] == "Cy"
    recorded = await _recorded(shop, "cy@example.com")
    shop.saleor.store.update_customer(customer, first_name="Cyril")  # no webhook yet
    await _signup(shop, email="cy@example.com")
    assert shop.member(news, "cy@example.com").merge_fields["FNAME"] == "Cy"
    assert await _recorded(shop, "cy@example.com") == recorded
