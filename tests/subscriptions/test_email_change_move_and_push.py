"""An e-mail change's two jobs, the audience member's move and the e-commerce customer's push
(which re-creates the customer under the new address, adding it to the audience), in either
order: the member moves by PATCH, its campaign history with it, the push waiting for the move
(or queueing it) rather than leaving it a contact at the new address to be merged into."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from addon.db.types import utcnow
from addon.ecommerce.sync import PUSH_JOB
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from addon.subscriptions.email_move import EMAIL_CHANGE_JOB
from sandboxes.mailchimp.state import subscriber_hash
from tests.ecommerce.conftest import Shop
from tests.subscriptions.conftest import (
    NEW,
    OLD,
    First,
    _calls,
    _changed,
    _contacts,
    _due,
    _newsletter_on,
    _subscribed,
)


@pytest.mark.parametrize("first", ["move", "customer"])
async def test_a_change_back_to_an_earlier_address_moves_the_member_back(
    store: Shop, first: First
) -> None:
    """Staff change A to B, then back to A: the second CUSTOMER_UPDATED names the user and A
    as an earlier one did, and is a new change (its `issuedAt` tells), not a redelivery.
    Whichever of each change's jobs runs first, the contact ends at A, subscribed, and B is no
    contact: none (the member moved by PATCH), or archived (the re-created customer added B
    first: the member was merged into it, and the one it left archived)."""
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    await shop.saleor.update_customer(customer, email=NEW)
    await _changed(shop, first)
    assert await _contacts(shop) == {NEW: "subscribed"}

    await shop.saleor.update_customer(customer, email=OLD)
    await _changed(shop, first)
    assert await _contacts(shop) == {OLD: "subscribed"}
    assert shop.mailchimp.member(shop.account, shop.list_id, OLD).status == "subscribed"
    left = shop.mailchimp.member(shop.account, shop.list_id, NEW)
    assert (left.status if left else None) == (None if first == "move" else "archived")


async def test_the_customer_is_created_again_only_once_its_member_has_moved(store: Shop) -> None:
    """The move is under way (on another worker) when the push meets Mailchimp's refusal of
    the new address: the push waits for it. Created first, the customer would add the new
    address to the audience, and the move would merge into it, archiving the member it left
    with its campaign history (see the test above)."""
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    await shop.saleor.update_customer(customer, email=NEW)
    worker = Worker(shop.services)
    await worker.run_once()  # the deliveries: the push and the move queued
    async with shop.services.db.transaction() as session:
        taken = await session.execute(
            update(Job)
            .where(Job.kind == EMAIL_CHANGE_JOB, Job.status == JobStatus.PENDING)
            .values(status=JobStatus.RUNNING)  # another worker runs it
        )
        assert taken.rowcount == 1  # type: ignore[attr-defined]
    await worker.run_until_idle()  # the push: refused, it waits
    assert shop.mailchimp.member(shop.account, shop.list_id, NEW) is None
    async with shop.services.db.session() as session:
        [push] = await session.scalars(
            select(Job).where(Job.kind == PUSH_JOB, Job.status == JobStatus.PENDING)
        )
    assert "before the customer is created again" in (push.last_error or "")

    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.kind == EMAIL_CHANGE_JOB)
            .values(status=JobStatus.PENDING, run_after=utcnow())
        )
    await shop.drain()
    assert await _contacts(shop) == {NEW: "subscribed"}
    assert shop.mailchimp.member(shop.account, shop.list_id, NEW).status == "subscribed"
    assert shop.mailchimp.member(shop.account, shop.list_id, OLD) is None  # moved, not merged
    [held] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert (held.id, held.email_address) == (str(customer.id), NEW)


async def test_a_push_before_the_change_is_handled_moves_the_member_first(store: Shop) -> None:
    """The e-commerce push meets Mailchimp's refusal of the new address before the delivery
    that tells the newsletter of the change is handled (its queue is behind, or it comes
    later): the push queues the member's move itself and waits for it, so the member moves by
    PATCH, its campaign history with it, instead of being merged into the contact the
    re-created customer would add at the new address and archived."""
    shop = store
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    await shop.saleor.update_customer(customer, email=NEW)
    await _due(shop, "webhook.subscriptions-email-changed", days=1)
    before = len(shop.mailchimp.requests)
    await shop.drain()  # the push, and the move it queued

    members = f"/lists/{shop.list_id}/members/"
    calls = _calls(shop, before)
    assert ("PATCH", members + subscriber_hash(OLD), 200) in calls
    assert shop.mailchimp.member(shop.account, shop.list_id, NEW).status == "subscribed"
    assert shop.mailchimp.member(shop.account, shop.list_id, OLD) is None
    customers = shop.mailchimp.customers(shop.account, shop.store_id)
    assert [c.email_address for c in customers] == [NEW]

    await _due(shop, "webhook.subscriptions-email-changed", days=0)  # the delivery, late
    await shop.drain()
    assert await _contacts(shop) == {NEW: "subscribed"}
    assert shop.mailchimp.member(shop.account, shop.list_id, NEW).status == "subscribed"
