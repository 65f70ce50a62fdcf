"""Two customers whose addresses change into each other's (Ann A→C, Bob B→A, Ann C→B, say by
staff fixing mixed-up accounts): each contact follows its customer, whether the moves run
live, one change at a time, or after all of them (a backlog, a catch-up). A move never merges
into another customer's contact nor links it to its own customer: the two contacts exchange
addresses, or the move waits until the other customer's contact leaves (`email_exchange.py`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from addon.jobs.models import Job
from addon.subscriptions.email_change import MERGED_NOTE
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from addon.subscriptions.models import ContactState
from tests.subscriptions.conftest import Shop

A, B, C, D = "ann@example.com", "bob@example.com", "tmp@example.com", "robert@example.com"


async def _two(shop: Shop) -> tuple[Any, Any]:
    """Ann at A, Bob at B, both subscribed to News, each with a tag of their own."""
    news = shop.ids["news"]
    consent = {CONSENT_SUBSCRIBE: "true"}
    ann = await shop.saleor.create_customer(A, "Ann", "Lee", metadata=consent, is_confirmed=True)
    bob = await shop.saleor.create_customer(B, "Bob", "Fox", metadata=consent, is_confirmed=True)
    await shop.work()
    for email, tag in ((A, "ann-tag"), (B, "bob-tag")):
        body = {"tags": [{"name": tag, "status": "active"}]}
        await shop.mc("POST", f"/lists/{news}/members/{email}/tags", body)
    return ann, bob


def _contact(shop: Shop, email: str) -> tuple[str, list[str], str] | None:
    member = shop.member(shop.ids["news"], email)
    if member is None:
        return None
    tags = sorted(t.name for t in member.tags if t.name != "saleor")
    return member.status, tags, member.merge_fields.get("FNAME", "")


async def _rows(shop: Shop) -> dict[str, tuple[str | None, str | None]]:
    async with shop.services.db.session() as session:
        rows = await session.scalars(
            select(ContactState).where(ContactState.list_id == shop.ids["news"])
        )
        return {
            r.email: (r.saleor_user_id, r.held_for)
            for r in rows
            if r.email != "seed@grocer.example"
        }


async def _notes(shop: Shop) -> list[str]:
    async with shop.services.db.session() as session:
        jobs = await session.scalars(select(Job).where(Job.kind == MERGED_NOTE))
        return [j.last_error or "" for j in jobs]


async def _swapped(shop: Shop, ann: Any, bob: Any) -> None:
    assert _contact(shop, A) == ("subscribed", ["bob-tag"], "Bob")
    assert _contact(shop, B) == ("subscribed", ["ann-tag"], "Ann")
    assert await _rows(shop) == {A: (bob.global_id, None), B: (ann.global_id, None)}


async def test_a_swap_handled_live_moves_each_contact_with_its_customer(newsletter: Shop) -> None:
    shop = newsletter
    ann, bob = await _two(shop)
    for customer, email in ((ann, C), (bob, A), (ann, B)):
        await shop.saleor.update_customer(customer, email=email)
        await shop.work()
    await _swapped(shop, ann, bob)


async def test_a_swap_handled_after_a_backlog_exchanges_the_two_contacts(
    newsletter: Shop,
) -> None:
    shop = newsletter
    ann, bob = await _two(shop)
    for customer, email in ((ann, C), (bob, A), (ann, B)):
        await shop.saleor.update_customer(customer, email=email)
    await shop.work()
    await _swapped(shop, ann, bob)
    [note] = [n for n in await _notes(shop) if "exchanged" in n]
    assert A in note and B in note


async def test_an_unsubscribe_follows_its_customer_in_an_exchange(newsletter: Shop) -> None:
    """Ann had unsubscribed at A: B, hers now, is unsubscribed; A, Bob's, is never subscribed
    again (Bob can subscribe himself), and Activity says so."""
    shop, news = newsletter, newsletter.ids["news"]
    ann, bob = await _two(shop)
    await shop.mc("PATCH", f"/lists/{news}/members/{A}", {"status": "unsubscribed"})
    for customer, email in ((ann, C), (bob, A), (ann, B)):
        await shop.saleor.update_customer(customer, email=email)
    await shop.work()
    assert _contact(shop, B) == ("unsubscribed", ["ann-tag"], "Ann")
    assert _contact(shop, A) == ("unsubscribed", ["bob-tag"], "Bob")
    [note] = [n for n in await _notes(shop) if "exchanged" in n]
    assert f"{A} stays unsubscribed" in note and "never subscribes" in note
    rows = await _rows(shop)
    assert rows == {A: (bob.global_id, None), B: (ann.global_id, None)}


async def test_a_move_waits_until_the_other_customers_contact_has_left(newsletter: Shop) -> None:
    """Bob left B for D, Ann took B; Ann's change is handled first. Her contact waits at A,
    held for B (Activity says why), and follows once Bob's contact moved to D."""
    shop = newsletter
    ann, bob = await _two(shop)
    shop.saleor.store.update_customer(bob, email=D)  # his delivery comes later
    await shop.saleor.update_customer(ann, email=B)
    await shop.work()

    assert _contact(shop, A) == ("subscribed", ["ann-tag"], "Ann")
    assert _contact(shop, B) == ("subscribed", ["bob-tag"], "Bob")
    assert await _rows(shop) == {A: (ann.global_id, B), B: (bob.global_id, None)}
    [note] = await _notes(shop)
    assert "Not moved yet" in note and bob.global_id in note

    await shop.saleor.update_customer(bob, last_name="Fox-Lee")  # his delivery
    await shop.work()
    assert _contact(shop, D) == ("subscribed", ["bob-tag"], "Bob")
    assert _contact(shop, B) == ("subscribed", ["ann-tag"], "Ann")
    rows = await _rows(shop)
    assert rows == {B: (ann.global_id, None), D: (bob.global_id, None)}
