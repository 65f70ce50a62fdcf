"""A change queued for an audience the admin turns off (no longer one of the app's audiences)
before the worker runs it: the job reads the audience's settings as they are when it runs. A
joining is not made (Activity and the contact say why); a leaving, or a consent withdrawn, is
owed to the shopper whatever the store offers (GDPR art. 7(3)) and still goes. An audience
turned off and on again before the job runs takes the change; a group no longer offered by
then is not written, and one offered only since the choice was made is left as it is."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from addon.jobs.models import Job
from addon.subscriptions.models import ContactState
from addon.subscriptions.turned_off import (
    AUDIENCE_TURNED_OFF,
    CHANGE_SKIPPED,
    ONLY_WITHDRAWAL_SENT,
)
from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop, _subscribed_customer

STORE = {"saleor_api_url": SALEOR_API_URL}
ANN = "ann.later@example.com"


async def _queue_signup(shop: Shop, **body: Any) -> None:
    """The public signup form's change, queued and not run yet."""
    response = await shop.client.post("/api/storefront/subscribe", params=STORE, json=body)
    assert response.status_code == 202, response.text


async def _settings(shop: Shop, **settings: Any) -> None:
    """The admin's save of the Audiences page, before the worker runs anything."""
    response = await shop.client.put("/api/audiences/settings", json=settings, headers=shop.headers)
    assert response.status_code == 200, response.text


async def _notes(shop: Shop) -> list[Job]:
    async with shop.services.db.session() as session:
        return list(await session.scalars(select(Job).where(Job.kind == CHANGE_SKIPPED)))


async def _contact(shop: Shop, list_id: str, email: str) -> ContactState:
    async with shop.services.db.session() as session:
        found = await session.scalar(
            select(ContactState).where(ContactState.list_id == list_id, ContactState.email == email)
        )
    assert found is not None
    return found


async def test_a_signup_for_an_audience_turned_off_meanwhile_is_not_made(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    await _queue_signup(shop, email=ANN, audiences=[news])
    await _settings(shop, active_list_ids=[deals], default_list_id=deals)

    await shop.work()

    assert shop.member(news, ANN) is None
    notes = await _notes(shop)
    assert len(notes) == 1
    assert notes[0].payload == {"email": ANN, "list_id": news}
    assert "News" in (notes[0].last_error or "")
    assert "turned off" in (notes[0].last_error or "")
    contact = await _contact(shop, news, ANN)
    assert contact.last_problem == AUDIENCE_TURNED_OFF
    assert contact.store_changed_at is None  # over: not a pending store change any longer
    activity = await shop.client.get("/api/activity?limit=100", headers=shop.headers)
    assert any(
        item["kind"] == CHANGE_SKIPPED and "turned off" in (item["last_error"] or "")
        for item in activity.json()["items"]
    )


async def test_a_leaving_still_reaches_an_audience_turned_off_meanwhile(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    customer = await _subscribed_customer(shop, ANN)
    token = shop.saleor.mint_customer_token(shop.saleor.store.get_customer(customer.id))
    response = await shop.client.put(
        "/api/storefront/me/subscriptions",
        params=STORE,
        headers={"Authorization": f"Bearer {token}"},
        json={"audiences": [{"list_id": news, "subscribed": False}]},
    )
    assert response.status_code == 202, response.text
    await _settings(shop, active_list_ids=[deals], default_list_id=deals)

    await shop.work()

    assert shop.member(news, ANN).status == "unsubscribed"
    assert await _notes(shop) == []


async def test_an_audience_turned_off_and_on_again_takes_the_change(newsletter: Shop) -> None:
    shop = newsletter
    news, deals, topics = shop.ids["news"], shop.ids["deals"], shop.ids["topics"]
    fruit = shop.ids["Fruit"]
    await _queue_signup(shop, email=ANN, audiences=[news], groups=[fruit])
    await _settings(shop, active_list_ids=[deals], default_list_id=deals)
    await _settings(
        shop,
        active_list_ids=[news, deals],
        default_list_id=news,
        offered_category_ids=[topics],
        allow_multiple=True,
    )

    await shop.work()

    member = shop.member(news, ANN)
    assert member.status == "subscribed"
    assert member.interests[fruit] is True
    assert await _notes(shop) == []


async def test_a_group_no_longer_offered_when_the_job_runs_is_not_written(
    newsletter: Shop,
) -> None:
    """Ann chose Fruit; before the job runs the admin stops offering the Topics group (the
    audience stays on): she joins, and no group of Topics is set either way."""
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    fruit, veg = shop.ids["Fruit"], shop.ids["Veg"]
    await _queue_signup(shop, email=ANN, audiences=[news], groups=[fruit])
    await _settings(
        shop,
        active_list_ids=[news, deals],
        default_list_id=news,
        offered_category_ids=[],
        allow_multiple=True,
    )

    await shop.work()

    member = shop.member(news, ANN)
    assert member.status == "subscribed"
    assert not member.interests.get(fruit, False)
    assert not member.interests.get(veg, False)
    assert await _notes(shop) == []


async def test_a_group_offered_only_after_the_choice_is_left_as_it_is(newsletter: Shop) -> None:
    """Ann, subscribed, is in Vegan (a "Diet" group the store does not offer). Her account
    page's whole choice of the groups it shows her is Fruit; before the job runs the admin
    offers Diet too. She never saw it: she stays in Vegan (Veg, which she saw, is off)."""
    shop = newsletter
    news, deals, topics = shop.ids["news"], shop.ids["deals"], shop.ids["topics"]
    fruit, veg = shop.ids["Fruit"], shop.ids["Veg"]
    diet = await shop.new_category(news, "Diet", "checkboxes", "Vegan")
    refreshed = await shop.client.post("/api/audiences/refresh", headers=shop.headers)
    assert refreshed.status_code == 202, refreshed.text
    customer = await _subscribed_customer(shop, ANN)
    vegan = shop.ids["Vegan"]
    await shop.mc("PATCH", f"/lists/{news}/members/{ANN}", {"interests": {vegan: True, veg: True}})
    token = shop.saleor.mint_customer_token(shop.saleor.store.get_customer(customer.id))
    response = await shop.client.put(
        "/api/storefront/me/subscriptions",
        params=STORE,
        headers={"Authorization": f"Bearer {token}"},
        json={"audiences": [{"list_id": news, "subscribed": True, "groups": [fruit]}]},
    )
    assert response.status_code == 202, response.text
    await _settings(
        shop,
        active_list_ids=[news, deals],
        default_list_id=news,
        offered_category_ids=[topics, diet],
        allow_multiple=True,
    )

    await shop.work()

    interests = shop.member(news, ANN).interests
    assert (interests[fruit], interests[veg], interests[vegan]) == (True, False, True)


@pytest.mark.parametrize("archived", [False, True], ids=["member", "archived meanwhile"])
async def test_a_consent_withdrawn_still_reaches_an_audience_turned_off_meanwhile(
    newsletter: Shop, archived: bool
) -> None:
    """Ann, subscribed with a GDPR permission, saves her page staying in News without it and
    with Veg; the admin turns News off before the job runs. The withdrawal goes (she is owed
    it), her groups do not (News is not offered any more), and she stays subscribed."""
    shop = newsletter
    news, deals, veg = shop.ids["news"], shop.ids["deals"], shop.ids["Veg"]
    permission = await shop.offered_permission()
    customer = await shop.saleor.create_customer(ANN, is_confirmed=True)
    auth = {"Authorization": f"Bearer {shop.saleor.mint_customer_token(customer)}"}
    page = "/api/storefront/me/subscriptions"
    joined = [{"list_id": news, "subscribed": True}]
    answer = await shop.client.put(
        page, params=STORE, headers=auth, json={"audiences": joined, "permissions": [permission]}
    )
    assert answer.status_code == 202, answer.text
    await shop.work()
    assert shop.consents(ANN)[permission] is True

    staying = [{"list_id": news, "subscribed": True, "groups": [veg]}]
    answer = await shop.client.put(
        page, params=STORE, headers=auth, json={"audiences": staying, "permissions": []}
    )
    assert answer.status_code == 202, answer.text
    await _settings(shop, active_list_ids=[deals], default_list_id=deals)
    if archived:  # (nothing is then sent: not said to be)
        await shop.mc("DELETE", f"/lists/{news}/members/{ANN}")
        await shop.work()
        return await _not_said(shop, news)

    await shop.work()

    member = shop.member(news, ANN)
    assert member.status == "subscribed"
    assert shop.consents(ANN)[permission] is False
    assert not member.interests.get(veg, False)
    assert await _notes(shop) == []
    # Her page and the customer panel say what was left out.
    async with shop.services.db.session() as session:
        state = await session.scalar(
            select(ContactState).where(ContactState.email == ANN, ContactState.list_id == news)
        )
    assert state is not None and state.last_problem == ONLY_WITHDRAWAL_SENT


async def _not_said(shop: Shop, news: str) -> None:
    async with shop.services.db.session() as session:
        state = await session.scalar(
            select(ContactState).where(ContactState.email == ANN, ContactState.list_id == news)
        )
    assert state is not None and ONLY_WITHDRAWAL_SENT not in str(state.last_problem)
