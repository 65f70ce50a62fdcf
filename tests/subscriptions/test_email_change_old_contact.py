"""The contact an e-mail change finds at the old address, as Mailchimp has it: one not subscribed
joins the new address as it stood (an unsubscribe is never undone); one Mailchimp changed
unseen by the app (cleaned, archived, deleted) moves nothing, and the new address is no
contact; one whose address Mailchimp changed itself stays there through later customer
updates."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from addon.jobs.models import Job
from addon.subscriptions.email_move import EMAIL_CHANGE_JOB
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from addon.subscriptions.models import ContactState
from sandboxes.mailchimp.state import subscriber_hash
from tests.ecommerce.conftest import Shop
from tests.subscriptions.conftest import NEW, OLD, _mc, _newsletter_on, _subscribed
from tests.subscriptions.conftest import Shop as NewsletterShop
from tests.subscriptions.conftest import _fire as fire


async def test_an_unsubscribed_address_is_not_subscribed_again_by_a_change(store: Shop) -> None:
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)  # its registration consent stays in its metadata
    await _mc(
        shop,
        "PATCH",
        f"/lists/{shop.list_id}/members/{subscriber_hash(OLD)}",
        {"status": "unsubscribed"},
    )
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.drain()
    # Mailchimp changes a subscribed member's address only: the new address joins as the old
    # one stands, which Mailchimp keeps (unsubscribed).
    moved = shop.mailchimp.member(shop.account, shop.list_id, NEW)
    assert moved is not None and moved.status == "unsubscribed"
    kept = shop.mailchimp.member(shop.account, shop.list_id, OLD)
    assert kept is not None and kept.status == "unsubscribed"


@pytest.mark.parametrize(
    ("status", "at_new"), [("pending", "pending"), ("cleaned", "transactional")]
)
async def test_a_contact_not_subscribed_joins_at_the_new_address_as_it_stood(
    store: Shop, status: str, at_new: str
) -> None:
    """A pending contact confirms at the new address; the old one stays pending, as Mailchimp
    archives no pending member (405). A cleaned address bounced, so nothing of it goes to
    another (the new address is only the e-commerce customer's, created again:
    transactional)."""
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    with shop.mailchimp.state.lock:  # as Mailchimp sets it (a bounce, or no confirmation yet)
        member = (
            shop.mailchimp._data(shop.account).lists[shop.list_id].members[subscriber_hash(OLD)]
        )
        member.status = status
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.drain()
    moved = shop.mailchimp.member(shop.account, shop.list_id, NEW)
    assert moved is not None and moved.status == at_new
    old = shop.mailchimp.member(shop.account, shop.list_id, OLD)
    assert old is not None and old.status == status
    # The app's record follows the new address's member.
    async with shop.services.db.session() as session:
        rows = await session.scalars(
            select(ContactState).where(ContactState.list_id == shop.list_id)
        )
        held = {row.email: row.status for row in rows}
    assert held == {NEW: at_new}


@pytest.mark.parametrize("at_old", ["cleaned", "archived", "deleted"])
async def test_a_contact_that_could_not_move_leaves_the_new_address_no_contact(
    newsletter: NewsletterShop, at_old: str
) -> None:
    """Mailchimp changed the old address's contact unseen by the app (a bounce cleaned it, an
    admin archived or deleted it): nothing moves, and the customer's record at the new address
    says it is no contact, not the old address's stale status (the panel would refuse staff
    subscribing a "cleaned" address, say)."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await shop.saleor.create_customer(
        OLD, "Ann", "Lee", metadata={CONSENT_SUBSCRIBE: "true"}
    )
    await shop.work()
    with shop.mailchimp.state.lock:
        members = shop.mailchimp._data(shop.account).lists[news].members
        if at_old == "deleted":
            del members[subscriber_hash(OLD)]
        else:
            members[subscriber_hash(OLD)].status = at_old
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.work()

    assert shop.member(news, NEW) is None
    async with shop.services.db.session() as session:
        rows = await session.scalars(select(ContactState).where(ContactState.list_id == news))
        kept = {r.email: (r.status, r.interests, r.saleor_user_id) for r in rows}
    assert kept[NEW] == ("none", [], customer.global_id) and OLD not in kept
    panel = await shop.client.get(
        f"/api/subscriptions/customers/{customer.global_id}", headers=shop.headers
    )
    [mine] = [a for a in panel.json()["audiences"] if a["list_id"] == news]
    assert mine["status"] == "none"


async def test_a_mailchimp_side_change_is_not_undone_by_later_customer_updates(
    newsletter: NewsletterShop,
) -> None:
    """Two-way sync follows an address changed in Mailchimp (upemail) while the customer keeps
    their Saleor address: later CUSTOMER_UPDATED deliveries must not move the contact back."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await shop.saleor.create_customer(
        "ola@example.com", metadata={CONSENT_SUBSCRIBE: "true"}
    )
    await shop.work()
    await shop.mc(
        "PATCH", f"/lists/{news}/members/ola@example.com", {"email_address": "ola@new.example"}
    )
    await fire(
        shop,
        "upemail",
        {"old_email": "ola@example.com", "new_email": "ola@new.example", "new_id": "x"},
    )
    await shop.work()
    for name in ("Ola", "Olga"):  # the first one before, the second after the app saw her
        await shop.saleor.update_customer(customer, first_name=name)
        await shop.work()
        assert shop.member(news, "ola@new.example").status == "subscribed"
        assert shop.member(news, "ola@example.com") is None
    async with shop.services.db.session() as session:
        assert [j.kind for j in await session.scalars(select(Job))].count(EMAIL_CHANGE_JOB) == 0
