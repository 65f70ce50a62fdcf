"""An e-mail change to an address that is a contact already: the member is merged into it,
keeping the stronger consent (an unsubscribed address is never subscribed by a change) and the
old address archived, also when the contact appears there while the move runs; a cleaned
address is left as it is. A note in Activity says what became of each."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from addon.jobs.models import Job
from addon.mailchimp import MailchimpClient, Member
from addon.subscriptions.email_change import MERGED_NOTE
from sandboxes.mailchimp.state import subscriber_hash
from tests.ecommerce.conftest import Shop
from tests.subscriptions.conftest import NEW, OLD, _calls, _mc, _newsletter_on, _subscribed, _tagged


async def _contact_at_new(shop: Shop, status: str, **more: Any) -> None:
    """The new address is a contact of the store's audience already, `status` (and `more`)."""
    body = {"email_address": NEW, "status": status, **more}
    await _mc(shop, "POST", f"/lists/{shop.list_id}/members", body)


async def test_a_new_address_that_is_a_contact_already_keeps_the_stronger_consent(
    store: Shop,
) -> None:
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    # The new address is already a contact: pending (it never confirmed).
    await _contact_at_new(shop, "pending", tags=["newsletter-form"])
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.drain()
    kept = shop.mailchimp.member(shop.account, shop.list_id, NEW)
    assert kept.status == "subscribed"  # the old address's consent is the stronger one
    assert {t.name for t in kept.tags} >= {"newsletter-form"}
    old = shop.mailchimp.member(shop.account, shop.list_id, OLD)
    assert old is not None and old.status == "archived"  # not mailed twice
    async with shop.services.db.session() as session:
        [note] = await session.scalars(select(Job).where(Job.kind == MERGED_NOTE))
    assert note.last_error is not None and "already a contact" in note.last_error
    assert "stays subscribed" in note.last_error
    response = await shop.api("GET", "/api/activity?limit=50")
    assert response.status_code == 200
    items = response.json()["items"]
    assert any("already a contact" in (item.get("details") or "") for item in items)
    assert f"E-mail change of {OLD} to {NEW}" in [item["subject"] for item in items]


async def test_an_unsubscribed_new_address_is_never_subscribed_by_a_change(store: Shop) -> None:
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    await _contact_at_new(shop, "unsubscribed")
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, NEW).status == "unsubscribed"
    async with shop.services.db.session() as session:
        [note] = await session.scalars(select(Job).where(Job.kind == MERGED_NOTE))
    assert note.last_error is not None and "never subscribes" in note.last_error


async def test_a_contact_added_at_the_new_address_meanwhile_is_merged(
    store: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new address was not a member when looked at, then the e-commerce customer's
    re-creation added it (transactional) before the pending contact joined there: the two are
    merged, the pending consent kept, as for a contact there already."""
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    with shop.mailchimp.state.lock:  # it never confirmed
        lists = shop.mailchimp._data(shop.account).lists
        lists[shop.list_id].members[subscriber_hash(OLD)].status = "pending"
    get_member = MailchimpClient.get_member
    added: list[bool] = []

    async def looked_first(self: MailchimpClient, list_id: str, email: str) -> Member:
        try:
            return await get_member(self, list_id, email)
        finally:
            if email == NEW and not added:  # right after the look found nothing there
                added.append(True)
                await _mc(
                    shop,
                    "PUT",
                    f"/lists/{shop.list_id}/members/{subscriber_hash(NEW)}",
                    {"email_address": NEW, "status_if_new": "transactional"},
                )

    monkeypatch.setattr(MailchimpClient, "get_member", looked_first)
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.drain()

    assert added
    merged = shop.mailchimp.member(shop.account, shop.list_id, NEW)
    assert merged is not None and merged.status == "pending"


async def test_a_cleaned_new_address_is_left_as_it_is(store: Shop) -> None:
    """The new address bounced before (cleaned): Mailchimp lets no one edit it, so neither the
    old address's consent nor its groups, tags or permissions are sent to it, and the note
    says so (not that Mailchimp refused to subscribe it)."""
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    await _tagged(shop, OLD, "vip")
    await _contact_at_new(shop, "subscribed")
    shop.mailchimp.set_member_status(shop.account, shop.list_id, NEW, "cleaned")
    before = len(shop.mailchimp.requests)
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, NEW).status == "cleaned"
    new_member = f"/lists/{shop.list_id}/members/{subscriber_hash(NEW)}"
    edits = [c for c in _calls(shop, before) if c[0] != "GET" and c[1].startswith(new_member)]
    assert edits == [], "a cleaned contact was edited"
    async with shop.services.db.session() as session:
        [note] = await session.scalars(select(Job).where(Job.kind == MERGED_NOTE))
    assert note.last_error is not None and "bounced" in note.last_error
    assert "refused" not in note.last_error
