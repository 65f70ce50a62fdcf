"""Groups (interests) deleted in Mailchimp after the app imported them (`stale_groups.py`):
every offered group goes in a write (those not chosen as off), so a deleted one refuses it
whether chosen or not. The write goes again without it; the contact reports groups left out
only when the shopper chose a deleted one, and the audiences are imported again at once, so
the deleted group is no longer offered."""

from __future__ import annotations

from addon.subscriptions.metadata import CONSENT_AUDIENCES, CONSENT_GROUPS, CONSENT_SUBSCRIBE
from addon.subscriptions.repository import ContactRepository
from tests.subscriptions.conftest import Shop
from tests.subscriptions.test_consent import _order
from tests.test_saleor_versions import stored


async def _problem(shop: Shop, list_id: str, email: str) -> str | None:
    async with shop.services.db.session() as session:
        state = await ContactRepository(session).get(
            (await stored(shop.services)).id, list_id, email
        )
    assert state is not None
    return state.last_problem


async def _offered_interest_ids(shop: Shop) -> set[str]:
    offer = await shop.client.get(
        "/api/storefront/newsletter", params={"saleor_api_url": shop.saleor.api_url}
    )
    return {i["id"] for a in offer.json()["audiences"] for g in a["groups"] for i in g["interests"]}


async def test_a_deleted_group_nobody_chose_is_not_reported_as_left_out(
    newsletter: Shop,
) -> None:
    """Veg is deleted in Mailchimp; the shopper picks Fruit only, which reaches Mailchimp:
    the contact reports no problem."""
    shop = newsletter
    news, topics = shop.ids["news"], shop.ids["topics"]
    await shop.mc(
        "DELETE", f"/lists/{news}/interest-categories/{topics}/interests/{shop.ids['Veg']}"
    )

    await _order(
        shop,
        "cy@example.com",
        {CONSENT_SUBSCRIBE: "true", CONSENT_AUDIENCES: news, CONSENT_GROUPS: shop.ids["Fruit"]},
    )
    await shop.work()

    member = shop.member(news, "cy@example.com")
    assert member.status == "subscribed" and member.interests[shop.ids["Fruit"]] is True
    assert await _problem(shop, news, "cy@example.com") is None


async def test_a_group_found_deleted_stops_being_offered_at_once(newsletter: Shop) -> None:
    """The shopper picks Veg, deleted in Mailchimp: reported left out, and the storefront no
    longer offers it, without waiting for the scheduled import."""
    shop = newsletter
    news, topics, veg = shop.ids["news"], shop.ids["topics"], shop.ids["Veg"]
    await shop.mc("DELETE", f"/lists/{news}/interest-categories/{topics}/interests/{veg}")

    await _order(
        shop,
        "dee@example.com",
        {CONSENT_SUBSCRIBE: "true", CONSENT_AUDIENCES: news, CONSENT_GROUPS: veg},
    )
    await shop.work()
    assert "no longer exist" in (await _problem(shop, news, "dee@example.com") or "")

    assert veg not in await _offered_interest_ids(shop)


async def test_the_account_page_no_longer_shows_a_group_deleted_in_mailchimp(
    newsletter: Shop,
) -> None:
    """Ann joined Fruit and Veg; Veg is deleted in Mailchimp, which tells no one (no webhook,
    no change of the member). Once the audiences are imported again her page shows Fruit only,
    and saving it as shown changes nothing else."""
    shop = newsletter
    news, topics = shop.ids["news"], shop.ids["topics"]
    fruit, veg = shop.ids["Fruit"], shop.ids["Veg"]
    ann = "ann.groups@example.com"
    customer = await shop.saleor.create_customer(ann, is_confirmed=True)
    token = shop.saleor.mint_customer_token(customer)
    store = {"saleor_api_url": shop.saleor.api_url}
    headers = {"Authorization": f"Bearer {token}"}
    body = {"audiences": [{"list_id": news, "subscribed": True, "groups": [fruit, veg]}]}
    saved = await shop.client.put(
        "/api/storefront/me/subscriptions", params=store, headers=headers, json=body
    )
    assert saved.status_code == 202, saved.text
    await shop.work()
    await shop.mc("DELETE", f"/lists/{news}/interest-categories/{topics}/interests/{veg}")
    refreshed = await shop.client.post("/api/audiences/refresh", headers=shop.headers)
    assert refreshed.status_code == 202, refreshed.text
    await shop.work()

    page = await shop.client.get("/api/storefront/me/subscriptions", params=store, headers=headers)
    assert page.status_code == 200, page.text
    shown = next(a for a in page.json()["audiences"] if a["list_id"] == news)
    assert shown["groups"] == [fruit]
