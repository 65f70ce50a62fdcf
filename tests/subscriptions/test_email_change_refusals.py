"""An e-mail change Mailchimp refuses in one audience: the move goes on in the others, the job
is done (never retried into quarantine, holding the old address's lane), and Activity says what
happened there. And a staff member's change, which the app cannot read back from Saleor."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from sqlalchemy import select

from addon.jobs.models import Job
from addon.subscriptions.email_change import MERGED_NOTE, NOT_READ_NOTE, REFUSED_NOTE
from addon.subscriptions.email_move import EMAIL_CHANGE_JOB
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from addon.subscriptions.models import ContactState
from sandboxes.mailchimp.state import subscriber_hash
from tests.subscriptions.conftest import Shop

OLD, NEW = "ann@example.com", "ann.lee@example.com"


async def _ann(shop: Shop) -> Any:
    """Ann, subscribed at OLD in News (the default audience) and in Deals."""
    customer = await shop.saleor.create_customer(
        OLD, "Ann", "Lee", metadata={CONSENT_SUBSCRIBE: "true"}
    )
    await shop.work()
    body = {"email_address": OLD, "status_if_new": "subscribed"}
    await shop.mc("PUT", f"/lists/{shop.ids['deals']}/members/{OLD}", body)
    assert shop.member(shop.ids["news"], OLD).status == "subscribed"
    return customer


async def _jobs(shop: Shop, kind: str) -> list[Job]:
    async with shop.services.db.session() as session:
        return list(await session.scalars(select(Job).where(Job.kind == kind)))


async def _rows(shop: Shop, list_id: str) -> dict[str, tuple[str, str | None]]:
    async with shop.services.db.session() as session:
        rows = await session.scalars(select(ContactState).where(ContactState.list_id == list_id))
        return {r.email: (r.status, r.held_for) for r in rows if r.email != "seed@grocer.example"}


async def _moved_once(shop: Shop) -> None:
    [move] = await _jobs(shop, EMAIL_CHANGE_JOB)
    assert (move.status.value, move.attempts) == ("done", 1), move.last_error


async def test_an_archived_address_that_had_unsubscribed_stays_as_it_is(newsletter: Shop) -> None:
    """The new address unsubscribed once and an admin archived it since: Mailchimp refuses to
    subscribe it (400 Member In Compliance State), so it stays archived, as an unsubscribed
    address would stay unsubscribed; the old address is archived, the app's record follows the
    new one, and Deals moves as usual."""
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    customer = await _ann(shop)
    await shop.mc(
        "POST", f"/lists/{news}/members", {"email_address": NEW, "status": "unsubscribed"}
    )
    await shop.mc("DELETE", f"/lists/{news}/members/{subscriber_hash(NEW)}")

    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.work()

    await _moved_once(shop)
    assert shop.member(news, NEW).status == "archived"
    assert shop.member(news, OLD).status == "archived"  # not mailed at the address Ann left
    assert await _rows(shop, news) == {NEW: ("archived", None)}
    assert shop.member(deals, NEW).status == "subscribed"
    assert shop.member(deals, OLD) is None
    [note] = await _jobs(shop, MERGED_NOTE)
    assert note.last_error is not None and "Member In Compliance State" in note.last_error
    assert "stays archived" in note.last_error and "News" in note.last_error


@pytest.mark.parametrize("status", ["pending", "unsubscribed", "subscribed"])
async def test_an_address_mailchimp_forgot_leaves_the_contact_where_it_was(
    newsletter: Shop, status: str
) -> None:
    """The new address was permanently deleted from News earlier: Mailchimp refuses to add it
    again (400 Forgotten Email Not Subscribed, ibericode/mailchimp-for-wordpress#673). A contact
    that is not subscribed joins a new address by being added there; a subscribed one by an
    e-mail change, refused too (brandonseydel/MailChimp.Net#201). So in News it stays at the
    old address, held for the new one, and says why; Deals moves as usual."""
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    customer = await _ann(shop)
    with shop.mailchimp.state.lock:  # as Mailchimp sets it (no confirmation yet, say)
        shop.mailchimp._data(shop.account).lists[news].members[subscriber_hash(OLD)].status = status
    await shop.mc("POST", f"/lists/{news}/members", {"email_address": NEW, "status": "subscribed"})
    await shop.mc("POST", f"/lists/{news}/members/{subscriber_hash(NEW)}/actions/delete-permanent")

    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.work()

    await _moved_once(shop)
    assert shop.member(news, OLD).status == status
    assert shop.member(news, NEW) is None
    assert shop.member(deals, NEW).status == "subscribed"
    [note] = await _jobs(shop, REFUSED_NOTE)
    assert note.last_error is not None and "permanently deleted" in note.last_error
    async with shop.services.db.session() as session:
        [row] = await session.scalars(
            select(ContactState).where(ContactState.list_id == news, ContactState.email == OLD)
        )
    assert (row.held_for, row.last_problem) == (NEW, note.last_error)


@pytest.mark.parametrize("why", ["fake", "signups"])
async def test_a_new_address_mailchimp_refuses_leaves_the_contact_where_it_was(
    newsletter: Shop, why: Literal["fake", "signups"]
) -> None:
    """Mailchimp refuses a move to an address it finds fake, or "for now" (verbb/formie#2276):
    in that audience the contact keeps its old address and says why, Activity too; the other
    audiences move; the change is not retried."""
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    customer = await shop.saleor.create_customer(OLD, metadata={CONSENT_SUBSCRIBE: "true"})
    await shop.work()
    # Deals knows both addresses already: there the move merges them, whatever Mailchimp
    # thinks of a new contact at the new address.
    for email in (OLD, NEW):
        body = {"email_address": email, "status_if_new": "subscribed"}
        await shop.mc("PUT", f"/lists/{deals}/members/{email}", body)
    shop.mailchimp.refuse_address(shop.account, NEW, why)

    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.work()

    assert shop.member(news, OLD).status == "subscribed"
    assert shop.member(news, NEW) is None
    assert shop.member(deals, NEW).status == "subscribed"
    assert shop.member(deals, OLD).status == "archived"
    async with shop.services.db.session() as session:
        [move] = await session.scalars(select(Job).where(Job.kind == EMAIL_CHANGE_JOB))
        [row] = await session.scalars(select(ContactState).where(ContactState.list_id == news))
        [note] = await session.scalars(select(Job).where(Job.kind == REFUSED_NOTE))
    assert move.status.value == "done" and move.attempts == 1
    assert row.email == OLD and row.status == "subscribed"
    assert row.last_problem is not None and "News" in row.last_problem
    assert note.last_error == row.last_problem
    activity = (await shop.client.get("/api/activity", headers=shop.headers)).json()["items"]
    assert any(i["subject"] == f"E-mail change to {NEW}, refused by Mailchimp" for i in activity)


async def test_a_staff_members_change_is_noted_not_guessed(newsletter: Shop) -> None:
    """A customer made staff (no orders) confirms a new address: Saleor shows the app no staff
    member (`user(id:)` needs MANAGE_STAFF for them), so the app cannot read the new address.
    It takes none from the delivery (whose body could be an old one): the contact stays, and
    Activity says so once."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _ann(shop)
    customer = await shop.saleor.make_staff(customer)
    await shop.work()

    # CUSTOMER_UPDATED and ACCOUNT_EMAIL_CHANGED: both name the new address.
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.work()

    assert shop.member(news, OLD).status == "subscribed"
    assert shop.member(news, NEW) is None
    assert await _jobs(shop, EMAIL_CHANGE_JOB) == []
    [note] = await _jobs(shop, NOT_READ_NOTE)
    assert note.last_error is not None and "MANAGE_STAFF" in note.last_error
    assert NEW in note.last_error and f"stay at {OLD}" in note.last_error
    activity = (await shop.client.get("/api/activity", headers=shop.headers)).json()["items"]
    assert any("MANAGE_STAFF" in (item.get("details") or "") for item in activity)


async def test_a_deleted_customers_update_is_not_noted(newsletter: Shop) -> None:
    """A delivery about a user Saleor deleted since (a late CUSTOMER_UPDATED) moves nothing,
    and is no staff member's: nothing to note."""
    shop = newsletter
    customer = await _ann(shop)
    await shop.saleor.confirm_email_change(customer, NEW)  # delivered after the deletion
    await shop.saleor.delete_customer(customer)
    await shop.work()
    assert await _jobs(shop, NOT_READ_NOTE) == []


async def test_any_other_refusal_of_the_new_address_holds_the_contact(newsletter: Shop) -> None:
    """Mailchimp takes no address with a non-ASCII local part (mailchimp.com/help/international-
    characters-in-mailchimp), which Saleor takes: the refusal is no fake-address one the app
    knows, and still leaves the contact where it was, held and saying why, the job done."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _ann(shop)
    accented = "anné@example.com"

    await shop.saleor.confirm_email_change(customer, accented)
    await shop.work()

    await _moved_once(shop)
    assert shop.member(news, OLD).status == "subscribed"
    assert await _rows(shop, news) == {OLD: ("subscribed", accented)}
    notes = [n.last_error or "" for n in await _jobs(shop, REFUSED_NOTE)]
    assert len(notes) == 2 and all("valid email address" in n for n in notes)
