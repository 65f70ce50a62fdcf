"""A contact held at its old address: Mailchimp refused the customer's new one (as fake, or "for
now"), so the contact stays where it was. It is still the customer's: the panel and the account
page show it, an unsubscribe there reaches it, their profile follows it, and the customer's next
address change moves it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from addon.jobs.models import Job
from addon.subscriptions.email_move import EMAIL_CHANGE_JOB
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from addon.subscriptions.models import ContactState
from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop

OLD, REFUSED, LATER = "ann@example.com", "ann@fake.example", "ann.lee@example.com"
STORE = {"saleor_api_url": SALEOR_API_URL}


async def _held(shop: Shop) -> Any:
    """Ann, subscribed to News at OLD, confirmed REFUSED as her address; Mailchimp refused it."""
    customer = await shop.saleor.create_customer(
        OLD, "Ann", "Lee", metadata={CONSENT_SUBSCRIBE: "true"}
    )
    await shop.work()
    shop.mailchimp.refuse_address(shop.account, REFUSED, "fake")
    customer = await shop.saleor.confirm_email_change(customer, REFUSED)
    await shop.work()
    assert shop.member(shop.ids["news"], OLD).status == "subscribed"
    assert shop.member(shop.ids["news"], REFUSED) is None
    return customer


async def _rows(shop: Shop) -> dict[str, tuple[str, str | None]]:
    async with shop.services.db.session() as session:
        rows = await session.scalars(
            select(ContactState).where(ContactState.list_id == shop.ids["news"])
        )
        return {r.email: (r.status, r.held_for) for r in rows if r.email != "seed@grocer.example"}


async def _moves(shop: Shop) -> int:
    async with shop.services.db.session() as session:
        jobs = await session.scalars(select(Job).where(Job.kind == EMAIL_CHANGE_JOB))
        return len(list(jobs))


async def test_the_panel_and_the_account_page_show_and_change_the_held_contact(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _held(shop)
    assert await _rows(shop) == {OLD: ("subscribed", REFUSED)}

    url = f"/api/subscriptions/customers/{customer.global_id}"
    panel = (await shop.client.get(url, headers=shop.headers)).json()
    [mine] = [a for a in panel["audiences"] if a["list_id"] == news]
    assert panel["email"] == REFUSED
    assert (mine["status"], mine["contact_email"]) == ("subscribed", OLD)
    assert mine["last_problem"] and REFUSED in mine["last_problem"]

    fruit = shop.ids["Fruit"]
    response = await shop.client.post(
        url, json={"list_id": news, "action": "set_groups", "groups": [fruit]}, headers=shop.headers
    )
    assert response.status_code == 202, response.text
    await shop.work()
    assert shop.member(news, OLD).interests[fruit] is True

    auth = {"Authorization": f"Bearer {shop.saleor.mint_customer_token(customer)}"}
    page = await shop.client.get("/api/storefront/me/subscriptions", params=STORE, headers=auth)
    [held] = [a for a in page.json()["audiences"] if a["list_id"] == news]
    assert (held["status"], held["contact_email"], held["groups"]) == ("subscribed", OLD, [fruit])

    # The shopper unsubscribes on their account page: the mail stops at the address it goes to.
    off = await shop.client.put(
        "/api/storefront/me/subscriptions",
        params=STORE,
        headers=auth,
        json={"audiences": [{"list_id": news, "subscribed": False}]},
    )
    assert off.status_code == 202, off.text
    await shop.work()
    assert shop.member(news, OLD).status == "unsubscribed"
    assert shop.member(news, REFUSED) is None
    assert await _rows(shop) == {OLD: ("unsubscribed", REFUSED)}


async def test_the_customers_next_address_change_moves_the_held_contact(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    mapped = await shop.client.put(
        f"/api/audiences/{news}/mapping",
        json={"fields": [{"merge_tag": "FNAME", "source": "first_name"}]},
        headers=shop.headers,
    )
    assert mapped.status_code == 200, mapped.text
    customer = await _held(shop)
    moves = await _moves(shop)

    # Any other change of the customer tries nothing again (the app's own metadata write-back
    # is one) and keeps the contact's profile in step.
    customer = await shop.saleor.update_customer(customer, first_name="Annie")
    await shop.work()
    assert await _moves(shop) == moves
    assert shop.member(news, OLD).merge_fields["FNAME"] == "Annie"

    await shop.saleor.confirm_email_change(customer, LATER)
    await shop.work()
    assert shop.member(news, LATER).status == "subscribed"
    assert shop.member(news, OLD) is None  # moved (a PATCH of its address)
    assert await _rows(shop) == {LATER: ("subscribed", None)}
    panel = (
        await shop.client.get(
            f"/api/subscriptions/customers/{customer.global_id}", headers=shop.headers
        )
    ).json()
    [mine] = [a for a in panel["audiences"] if a["list_id"] == news]
    assert (mine["status"], mine["contact_email"]) == ("subscribed", None)


async def test_a_customer_back_at_the_held_address_is_no_longer_held(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _held(shop)

    await shop.saleor.confirm_email_change(customer, OLD)
    await shop.work()
    assert shop.member(news, OLD).status == "subscribed"
    assert await _rows(shop) == {OLD: ("subscribed", None)}


async def test_a_held_contact_refused_again_stays_held_for_the_newest_address(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _held(shop)
    shop.mailchimp.refuse_address(shop.account, LATER, "signups")

    await shop.saleor.confirm_email_change(customer, LATER)
    await shop.work()
    assert shop.member(news, OLD).status == "subscribed"
    assert shop.member(news, LATER) is None
    assert await _rows(shop) == {OLD: ("subscribed", LATER)}
