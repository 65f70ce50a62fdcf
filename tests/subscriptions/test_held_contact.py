"""A contact held at its old address: Mailchimp refused the customer's new one (as fake, or "for
now"), so the contact stays where it was. It is still the customer's: the panel and the account
page show it, an unsubscribe there reaches it, their profile follows it, and the customer's next
address change moves it."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import select

from addon.db.types import utcnow
from addon.jobs.models import Job
from addon.jobs.repository import JobRepository
from addon.subscriptions.email_change import MERGED_NOTE
from addon.subscriptions.email_move import EMAIL_CHANGE_JOB, EmailMove, enqueue_email_move
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from addon.subscriptions.models import ContactState
from addon.subscriptions.schemas import Action, ContactChange, Source
from addon.subscriptions.service import APPLY_JOB
from addon.subscriptions.writeback import contact_lane
from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop
from tests.subscriptions.conftest import _fire as fire

OLD, REFUSED, LATER = "ann@example.com", "ann@fake.example", "ann.lee@example.com"
STORE = {"saleor_api_url": SALEOR_API_URL}


async def _held(shop: Shop, why: Literal["fake", "signups"] = "fake") -> Any:
    """Ann, subscribed to News at OLD, confirmed REFUSED as her address; Mailchimp refused it
    (as fake, or "for now")."""
    customer = await shop.saleor.create_customer(
        OLD, "Ann", "Lee", metadata={CONSENT_SUBSCRIBE: "true"}, is_confirmed=True
    )
    await shop.work()
    shop.mailchimp.refuse_address(shop.account, REFUSED, why)
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


async def _map_first_name(shop: Shop) -> None:
    mapped = await shop.client.put(
        f"/api/audiences/{shop.ids['news']}/mapping",
        json={"fields": [{"merge_tag": "FNAME", "source": "first_name"}]},
        headers=shop.headers,
    )
    assert mapped.status_code == 200, mapped.text


async def _account_page(shop: Shop, customer: Any, list_id: str, subscribed: bool) -> None:
    """The signed-in customer (un)subscribes on their account page."""
    response = await shop.client.put(
        "/api/storefront/me/subscriptions",
        params=STORE,
        headers={"Authorization": f"Bearer {shop.saleor.mint_customer_token(customer)}"},
        json={"audiences": [{"list_id": list_id, "subscribed": subscribed}]},
    )
    assert response.status_code == 202, response.text
    await shop.work()


async def _installation_id(shop: Shop) -> int:
    async with shop.services.db.session() as session:
        [installation_id] = await session.scalars(select(ContactState.installation_id).distinct())
        return installation_id


async def _count(shop: Shop, kind: str) -> int:
    async with shop.services.db.session() as session:
        return len(list(await session.scalars(select(Job).where(Job.kind == kind))))


async def _moves(shop: Shop) -> int:
    return await _count(shop, EMAIL_CHANGE_JOB)


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
    async with shop.services.db.session() as session:
        [apply] = await session.scalars(
            select(Job).where(Job.kind == APPLY_JOB).order_by(Job.id.desc()).limit(1)
        )
    assert (apply.payload["email"], apply.payload["held_for"]) == (OLD, REFUSED)
    await shop.work()
    assert shop.member(news, OLD).interests[fruit] is True

    auth = {"Authorization": f"Bearer {shop.saleor.mint_customer_token(customer)}"}
    page = await shop.client.get("/api/storefront/me/subscriptions", params=STORE, headers=auth)
    [held] = [a for a in page.json()["audiences"] if a["list_id"] == news]
    assert (held["status"], held["contact_email"], held["groups"]) == ("subscribed", OLD, [fruit])

    # The shopper unsubscribes on their account page: the mail stops at the address it goes to.
    await _account_page(shop, customer, news, subscribed=False)
    assert shop.member(news, OLD).status == "unsubscribed"
    assert shop.member(news, REFUSED) is None
    assert await _rows(shop) == {OLD: ("unsubscribed", REFUSED)}


async def test_the_customers_next_address_change_moves_the_held_contact(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await _map_first_name(shop)
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


async def test_an_address_given_in_mailchimp_ends_the_hold(newsletter: Shop) -> None:
    """Two-way sync follows an address changed in Mailchimp (upemail): the contact is at an
    address Mailchimp gave, no longer held, and the customer's next change leaves it there (as
    for any contact whose address Mailchimp changed)."""
    shop = newsletter
    news, given = shop.ids["news"], "ann@mailbox.example"
    customer = await _held(shop)
    await shop.mc("PATCH", f"/lists/{news}/members/{OLD}", {"email_address": given})
    await fire(shop, "upemail", {"old_email": OLD, "new_email": given, "new_id": "x"})
    await shop.work()
    assert await _rows(shop) == {given: ("subscribed", None)}

    await shop.saleor.confirm_email_change(customer, LATER)
    await shop.work()
    assert shop.member(news, given).status == "subscribed"
    assert shop.member(news, LATER) is None


async def test_the_release_leaves_each_audience_to_its_own_contact(newsletter: Shop) -> None:
    """Held in News, while in Deals the customer's contact moved to the refused address (it was
    a contact there already) and Mailchimp kept the old one as unsubscribed: the next address
    change moves each audience's own contact, and the old unsubscribe never meets the
    subscription at the new address (it would win the merge)."""
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    customer = await shop.saleor.create_customer(OLD, metadata={CONSENT_SUBSCRIBE: "true"})
    await shop.work()
    for email, status in ((OLD, "unsubscribed"), (REFUSED, "subscribed")):
        body = {"email_address": email, "status_if_new": status}
        await shop.mc("PUT", f"/lists/{deals}/members/{email}", body)
    shop.mailchimp.refuse_address(shop.account, REFUSED, "fake")
    customer = await shop.saleor.confirm_email_change(customer, REFUSED)
    await shop.work()
    assert shop.member(deals, REFUSED).status == "subscribed"
    assert shop.member(deals, OLD).status == "unsubscribed"  # Mailchimp keeps it

    # The customer's next change queues both moves (`email_changed.moved_from`; the held one
    # for News only), which run in their own lanes in any order. Here both for every audience,
    # as the e-commerce push asks for a move (`addon.ecommerce.email_change.announce_move`),
    # the held contact's first.
    notes = await _count(shop, MERGED_NOTE)
    for old in (OLD, REFUSED):
        installation_id = await _installation_id(shop)
        async with shop.services.db.transaction() as session:
            move = EmailMove(old_email=old, new_email=LATER, saleor_user_id=customer.global_id)
            await enqueue_email_move(session, installation_id, move)
        await shop.work()
    assert shop.member(news, LATER).status == "subscribed"
    assert shop.member(deals, LATER).status == "subscribed"
    assert shop.member(deals, OLD).status == "unsubscribed"
    assert await _count(shop, MERGED_NOTE) == notes  # the stale old member was left alone


async def test_the_customers_address_joining_after_all_takes_the_held_contact_in(
    newsletter: Shop,
) -> None:
    """A refusal "for now" passed and the address subscribed through the newsletter form: the
    held contact is merged into it (its groups kept), the old address archived."""
    shop = newsletter
    news, fruit = shop.ids["news"], shop.ids["Fruit"]
    customer = await _held(shop)
    await shop.mc("PATCH", f"/lists/{news}/members/{OLD}", {"interests": {fruit: True}})
    shop.mailchimp.refuse_address(shop.account, REFUSED, None)

    body = {"email": REFUSED, "audiences": [news]}
    response = await shop.client.post("/api/storefront/subscribe", params=STORE, json=body)
    assert response.status_code == 202, response.text
    await shop.work()
    joined = shop.member(news, REFUSED)
    assert joined.status == "subscribed" and joined.interests[fruit] is True
    assert shop.member(news, OLD).status == "archived"
    assert await _rows(shop) == {REFUSED: ("subscribed", None)}
    panel = (
        await shop.client.get(
            f"/api/subscriptions/customers/{customer.global_id}", headers=shop.headers
        )
    ).json()
    [mine] = [a for a in panel["audiences"] if a["list_id"] == news]
    assert (mine["status"], mine["contact_email"]) == ("subscribed", None)


async def test_a_change_for_the_held_contact_follows_it_when_it_moved_first(
    newsletter: Shop,
) -> None:
    """The panel sent an unsubscribe to the held contact; the customer's next address change
    moved the contact before the change ran: the unsubscribe follows it (not lost at the
    address the contact left)."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _held(shop)
    await shop.saleor.confirm_email_change(customer, LATER)
    await shop.work()
    assert shop.member(news, LATER).status == "subscribed"
    change = ContactChange(
        email=OLD,
        list_id=news,
        action=Action.UNSUBSCRIBE,
        source=Source.ADMIN,
        fresh_consent=False,
        requested_at=utcnow(),
        saleor_user_id=customer.global_id,
        held_for=REFUSED,
    )
    installation_id = await _installation_id(shop)
    async with shop.services.db.transaction() as session:
        await JobRepository(session).enqueue(
            installation_id, APPLY_JOB, change.model_dump(mode="json"), lane=contact_lane(OLD)
        )
    await shop.work()
    assert shop.member(news, LATER).status == "unsubscribed"
    assert await _rows(shop) == {LATER: ("unsubscribed", None)}


async def test_the_held_contacts_status_goes_to_its_customer_not_to_the_old_addresss_new_owner(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    ann = await _held(shop)
    # The old address is someone else's now (confirmed: theirs).
    bob = await shop.saleor.create_customer(OLD, "Bob", is_confirmed=True)
    await shop.work()

    await _account_page(shop, ann, news, subscribed=False)
    await _account_page(shop, bob, deals, subscribed=True)
    assert shop.member(news, OLD).status == "unsubscribed"
    assert shop.member(deals, OLD).status == "pending"  # Bob's own, in Deals
    mine, his = f"mailchimp.status.{news}", f"mailchimp.status.{deals}"
    anns = shop.saleor.store.get_customer(ann.id).metadata
    bobs_data = shop.saleor.store.get_customer(bob.id).metadata
    assert (anns.get(mine), anns.get(his)) == ("unsubscribed", None)
    assert (bobs_data.get(mine), bobs_data.get(his)) == (None, "pending")
    async with shop.services.db.session() as session:
        rows = await session.scalars(select(ContactState).where(ContactState.email == OLD))
        owners = {r.list_id: r.saleor_user_id for r in rows}
    assert owners == {news: ann.global_id, deals: bob.global_id}


async def test_a_move_asked_without_a_customer_is_the_customers_who_has_the_new_address(
    newsletter: Shop,
) -> None:
    """An order's push asks for a move knowing no Saleor user: the customer who has the new
    address is named (as the webhook's move of the same addresses would, coalesced with it)."""
    shop = newsletter
    customer = await _held(shop)
    installation_id = await _installation_id(shop)
    async with shop.services.db.transaction() as session:
        move = EmailMove(old_email=OLD, new_email=REFUSED)
        job_id = await enqueue_email_move(session, installation_id, move)
        job = await session.get(Job, job_id)
        assert job is not None and job.payload["saleor_user_id"] == customer.global_id


async def test_a_profile_edited_in_mailchimp_goes_to_the_held_contacts_customer(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await _map_first_name(shop)
    ann = await _held(shop)
    bob = await shop.saleor.create_customer(OLD, "Bob")  # the old address is someone else's now
    await shop.work()

    await shop.mc("PATCH", f"/lists/{news}/members/{OLD}", {"merge_fields": {"FNAME": "Annie"}})
    await fire(shop, "profile", {"email": OLD})
    await shop.work()
    assert shop.saleor.store.get_customer(ann.id).first_name == "Annie"
    assert shop.saleor.store.get_customer(bob.id).first_name == "Bob"
