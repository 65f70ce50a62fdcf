"""A member changed its address in Mailchimp (`upemail`, its update-profile page) to an address
another Saleor customer owns. Before, the write-backs looked the customer up at the new address
first: that other customer (who consented to nothing) got the contact's subscription status in
their metadata and its first name, the contact was linked to them, and the customer who had the
old address kept it in `mailchimp.email.<list>`. Now the contact stays its customer's (linked,
or at the old address), and the customer panel says why the other account got nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from addon.clock import ManualClock
from addon.jobs.models import Job, JobStatus
from addon.mailchimp import MailchimpClient
from addon.mailchimp.errors import TransientError
from addon.subscriptions.mailchimp_hooks import EVENT_JOB
from addon.subscriptions.metadata import EMAIL_PREFIX, STATUS_PREFIX
from addon.subscriptions.models import ContactState
from addon.subscriptions.upemail_chain import MOVE_GRACE, MOVE_POLL, MOVE_WAIT_LIMIT
from addon.subscriptions.writeback_notes import other_owner_note
from tests.conftest import dashboard_headers
from tests.subscriptions.conftest import Shop, _fire, _metadata

OLD, NEW = "ann@example.com", "bob@example.com"


async def _moved_onto_bob(shop: Shop) -> tuple[Any, Any]:
    """Ann (subscribed to News, first name mapped) types Bob's address and a new first name on
    Mailchimp's update-profile page; Bob is a customer, never subscribed."""
    news = shop.ids["news"]
    ann, bob = await _set_up(shop)
    await shop.mc(
        "PATCH",
        f"/lists/{news}/members/{OLD}",
        {"email_address": NEW, "merge_fields": {"FNAME": "Annie"}},
    )
    await _fire(shop, "upemail", {"old_email": OLD, "new_email": NEW, "new_id": "x"})
    await shop.work()
    return ann, bob


async def _set_up(shop: Shop) -> tuple[Any, Any]:
    """Ann (subscribed to News, first name mapped) and Bob (a customer, never subscribed)."""
    news = shop.ids["news"]
    fields = [{"merge_tag": "FNAME", "source": "first_name"}]
    r = await shop.client.put(
        f"/api/audiences/{news}/mapping", json={"fields": fields}, headers=shop.headers
    )
    assert r.status_code == 200, r.text
    ann = await shop.saleor.create_customer(
        OLD, "Ann", "Lee", metadata={"mailchimp.consent.subscribe": "true"}, is_confirmed=True
    )
    bob = await shop.saleor.create_customer(NEW, "Bob", "Ray", is_confirmed=True)
    await shop.work()
    assert shop.member(news, NEW) is None
    return ann, bob


async def _events_waiting(shop: Shop) -> list[str]:
    """The Mailchimp events not handled yet, by type."""
    async with shop.services.db.session() as session:
        payloads = await session.scalars(
            select(Job.payload).where(Job.kind == EVENT_JOB, Job.status == JobStatus.PENDING)
        )
        return [str(p["type"]) for p in payloads]


async def _contact(shop: Shop) -> ContactState:
    async with shop.services.db.session() as session:
        state = await session.scalar(
            select(ContactState).where(
                ContactState.list_id == shop.ids["news"], ContactState.email == NEW
            )
        )
    assert state is not None
    return state


async def test_the_contact_stays_with_its_customer_and_the_other_owner_gets_nothing(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    ann, bob = await _moved_onto_bob(shop)

    assert _metadata(shop, ann)[EMAIL_PREFIX + news] == NEW
    assert _metadata(shop, ann)[STATUS_PREFIX + news] == "subscribed"
    assert shop.saleor.store.get_customer(ann.id).first_name == "Annie"  # Mailchimp wins
    assert not any(key.startswith("mailchimp.") for key in _metadata(shop, bob))
    assert shop.saleor.store.get_customer(bob.id).first_name == "Bob"
    state = await _contact(shop)
    assert state.saleor_user_id == ann.global_id
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    panel = await shop.client.get(f"/api/subscriptions/customers/{ann.global_id}", headers=headers)
    [shown] = [a for a in panel.json()["audiences"] if a["list_id"] == news]
    assert shown["last_problem"] == other_owner_note(NEW)


async def test_the_profile_event_received_before_the_move_waits_for_it(
    newsletter: Shop, clock: ManualClock
) -> None:
    """Mailchimp sends the member's profile event (at the new address) with the move, in no
    stated order, and it runs in another contact's lane. Before, handled before the move came,
    it found no contact at Bob's address and wrote Ann's status and first name on Bob. Now a
    profile change of an address the app knows nothing of waits a moment for a move."""
    shop = newsletter
    news = shop.ids["news"]
    ann, bob = await _set_up(shop)
    await shop.mc(
        "PATCH",
        f"/lists/{news}/members/{OLD}",
        {"email_address": NEW, "merge_fields": {"FNAME": "Annie"}},
    )
    await _fire(shop, "profile", {"email": NEW})
    await shop.work()
    await _fire(shop, "upemail", {"old_email": OLD, "new_email": NEW, "new_id": "x"})
    await shop.work()  # the move makes the profile change due: no waiting out the grace
    assert await _events_waiting(shop) == []

    assert shop.saleor.store.get_customer(bob.id).first_name == "Bob"
    assert not any(key.startswith("mailchimp.") for key in _metadata(shop, bob))
    assert shop.saleor.store.get_customer(ann.id).first_name == "Annie"
    assert _metadata(shop, ann)[STATUS_PREFIX + news] == "subscribed"
    assert (await _contact(shop)).saleor_user_id == ann.global_id


async def test_a_profile_change_with_no_move_reaches_the_owner_of_the_address(
    newsletter: Shop, clock: ManualClock
) -> None:
    """A member of an address the app knows nothing of (added in Mailchimp) changes its name:
    with no move to the address by `MOVE_GRACE`, the change goes to the customer there."""
    shop = newsletter
    news = shop.ids["news"]
    _, bob = await _set_up(shop)
    await shop.mc(
        "POST",
        f"/lists/{news}/members",
        {"email_address": NEW, "status": "subscribed", "merge_fields": {"FNAME": "Bobby"}},
    )
    await _fire(shop, "profile", {"email": NEW})
    await shop.work()
    assert shop.saleor.store.get_customer(bob.id).first_name == "Bob"  # waits for a move
    clock.advance(MOVE_GRACE.total_seconds())
    await shop.work()

    assert shop.saleor.store.get_customer(bob.id).first_name == "Bobby"
    assert _metadata(shop, bob)[STATUS_PREFIX + news] == "subscribed"


async def test_a_later_profile_change_in_mailchimp_never_renames_the_other_owner(
    newsletter: Shop,
) -> None:
    """Once the contact is linked to its customer, a profile change of the member (at the new
    address, which the other customer owns) goes to the contact's customer only."""
    shop = newsletter
    news = shop.ids["news"]
    ann, bob = await _moved_onto_bob(shop)
    await shop.mc("PATCH", f"/lists/{news}/members/{NEW}", {"merge_fields": {"FNAME": "Anna"}})
    await _fire(shop, "profile", {"email": NEW})
    await shop.work()

    assert shop.saleor.store.get_customer(bob.id).first_name == "Bob"
    assert STATUS_PREFIX + news not in _metadata(shop, bob)
    assert shop.saleor.store.get_customer(ann.id).first_name == "Anna"
    assert (await _contact(shop)).saleor_user_id == ann.global_id


async def test_moving_on_from_the_other_owners_address_drops_the_note(newsletter: Shop) -> None:
    """The note that the contact's address is another customer's is true of that address only:
    the member moving on to an address nobody else has drops it. Before, it stayed on the
    contact (and the customer panel) for good."""
    shop = newsletter
    news = shop.ids["news"]
    later = "ann.lee@example.com"
    await _moved_onto_bob(shop)
    await shop.mc("PATCH", f"/lists/{news}/members/{NEW}", {"email_address": later})
    await _fire(shop, "upemail", {"old_email": NEW, "new_email": later, "new_id": "y"})
    await shop.work()
    async with shop.services.db.session() as session:
        state = await session.scalar(
            select(ContactState).where(ContactState.list_id == news, ContactState.email == later)
        )
    assert state is not None
    assert state.last_problem is None, state.last_problem


async def test_a_move_to_the_same_address_holds_nothing_up(
    newsletter: Shop, clock: ManualClock
) -> None:
    """A move whose addresses are one (an internationalised domain in its two forms, as the
    app keys it) runs in the same lane as the profile change at the address: waited for, it
    could never run. Such a move is no move; the profile change waits only its grace."""
    shop = newsletter
    news = shop.ids["news"]
    unicode, ascii_form = "zoe@b\u00fccher.example", "zoe@xn--bcher-kva.example"
    await shop.mc(
        "PUT",
        f"/lists/{news}/members/{unicode}",
        {"email_address": unicode, "status_if_new": "subscribed"},
    )
    await _fire(shop, "profile", {"email": unicode})
    await _fire(shop, "upemail", {"old_email": ascii_form, "new_email": unicode, "new_id": "z"})
    await shop.work()
    clock.advance(MOVE_GRACE.total_seconds())
    await shop.work()

    assert await _events_waiting(shop) == []


async def test_moves_that_cross_hold_their_events_up_no_longer_than_the_limit(
    newsletter: Shop, clock: ManualClock
) -> None:
    """A→B corrected to B→A, each move received after the other address's profile change
    (a retried delivery): each change waits for the move queued behind the other. They wait
    `MOVE_WAIT_LIMIT` at most, then apply as any other."""
    shop = newsletter
    a, b = "cy@example.com", "cy.typo@example.com"
    await shop.mc(
        "PUT", f"/lists/{shop.ids['news']}/members/{a}",
        {"email_address": a, "status_if_new": "subscribed"},
    )  # fmt: skip
    await _fire(shop, "profile", {"email": a})
    await _fire(shop, "profile", {"email": b})
    await _fire(shop, "upemail", {"old_email": a, "new_email": b, "new_id": "1"})
    await _fire(shop, "upemail", {"old_email": b, "new_email": a, "new_id": "2"})
    await shop.work()
    assert sorted(await _events_waiting(shop)) == ["profile", "profile", "upemail", "upemail"]
    clock.advance(MOVE_WAIT_LIMIT.total_seconds())
    await shop.work()

    assert await _events_waiting(shop) == []


async def test_an_event_waits_for_a_retried_move_until_it_runs_not_every_second(
    newsletter: Shop, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A move that failed (Mailchimp unavailable) runs again after its backoff: the profile
    change waiting for it looks again then (within `MOVE_WAIT_LIMIT`), not every second."""
    shop = newsletter

    async def unavailable(self: MailchimpClient, *args: Any, **kwargs: Any) -> Any:
        raise TransientError("Mailchimp answered 503", status=503)

    monkeypatch.setattr(MailchimpClient, "get_member", unavailable)
    await _fire(shop, "upemail", {"old_email": OLD, "new_email": NEW, "new_id": "x"})
    received = clock.now()
    await _fire(shop, "profile", {"email": NEW})
    await shop.work()  # the move fails, while the profile change polls it running
    clock.advance(MOVE_POLL)
    await shop.work()  # the move is waiting for its retry

    async with shop.services.db.session() as session:
        [profile] = await session.scalars(
            select(Job).where(Job.kind == EVENT_JOB, Job.payload["type"].as_string() == "profile")
        )
    assert profile.status is JobStatus.PENDING
    assert profile.run_after == received + MOVE_WAIT_LIMIT
