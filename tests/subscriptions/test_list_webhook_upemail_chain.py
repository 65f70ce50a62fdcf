"""A member that changed its address in Mailchimp twice (A→B, then B→C), its `upemail` deliveries
arriving out of order: Mailchimp does not promise order, and retries a failed delivery for up to
75 minutes ("Retries happen at increasing intervals over the course of 75 minutes", its guide
"Synchronize Audience Data with Webhooks"), so B→C may come first.

Before, A→B found no member at B (it is at C by then) and was dropped as forged: the customer's
contact stayed at A, which Mailchimp no longer has, the contact at C belonged to no one, and the
customer's metadata kept the old address. Now an address change that finds no member at its new
address follows the later changes of that address the app received, to where the member is."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import func, select, update

from addon.db.types import utcnow
from addon.jobs.models import Job
from addon.subscriptions.metadata import EMAIL_PREFIX, STATUS_PREFIX
from addon.subscriptions.models import ContactState
from tests.subscriptions.conftest import Shop, _fire, _metadata, _subscribed_customer

A, B, C, D = "ann@example.com", "ann@b.example", "ann@c.example", "ann@d.example"
_DAY = timedelta(days=1)


async def _rows(shop: Shop) -> dict[str, tuple[str, str | None]]:
    """The News contacts the app holds: status and customer, by address."""
    async with shop.services.db.session() as session:
        rows = await session.scalars(
            select(ContactState).where(ContactState.list_id == shop.ids["news"])
        )
        return {r.email: (r.status, r.saleor_user_id) for r in rows}


async def _moves(shop: Shop, *addresses: str) -> list[tuple[str, str]]:
    """The member moves through `addresses` in Mailchimp; the changes, in the order made."""
    news = shop.ids["news"]
    steps = list(pairwise(addresses))
    for old, new in steps:
        await shop.mc("PATCH", f"/lists/{news}/members/{old}", {"email_address": new})
    return steps


async def _deliver(shop: Shop, old: str, new: str) -> None:
    await _fire(shop, "upemail", {"old_email": old, "new_email": new, "new_id": "x"})


def _ends_at(shop: Shop, customer: Any, rows: dict[str, tuple[str, str | None]], at: str) -> None:
    news = shop.ids["news"]
    assert rows == {at: ("subscribed", customer.global_id)}
    assert _metadata(shop, customer)[EMAIL_PREFIX + news] == at
    assert _metadata(shop, customer)[STATUS_PREFIX + news] == "subscribed"


@pytest.mark.parametrize("path", [[A, B, C], [A, B, C, D]], ids=["two moves", "three moves"])
async def test_address_changes_delivered_last_first_end_at_the_last_address(
    newsletter: Shop, path: list[str]
) -> None:
    """Each delivery is applied before the next arrives, the last change first."""
    shop = newsletter
    customer = await _subscribed_customer(shop, A)
    for old, new in reversed(await _moves(shop, *path)):
        await _deliver(shop, old, new)
        await shop.work()

    _ends_at(shop, customer, await _rows(shop), path[-1])
    assert shop.member(shop.ids["news"], path[-1]).status == "subscribed"


async def test_the_first_change_applied_while_the_later_one_waits_ends_at_the_last_address(
    newsletter: Shop,
) -> None:
    """B→C received first but its job due later (another worker, a retry): A→B runs before it
    and must not be lost; B→C then runs onto the contact A→B brought to C."""
    shop = newsletter
    customer = await _subscribed_customer(shop, A)
    await _moves(shop, A, B, C)
    await _deliver(shop, B, C)
    async with shop.services.db.transaction() as session:
        later = await session.scalar(select(func.max(Job.id)))
        await session.execute(update(Job).where(Job.id == later).values(run_after=utcnow() + _DAY))
    await _deliver(shop, A, B)
    await shop.work()
    async with shop.services.db.transaction() as session:
        await session.execute(update(Job).where(Job.id == later).values(run_after=utcnow()))
    await shop.work()

    _ends_at(shop, customer, await _rows(shop), C)
    # The customer's row is the one kept, with what the app last sent (so a customer update
    # that changes nothing sends nothing), not the bare row B→C's receipt made.
    async with shop.services.db.session() as session:
        kept = await session.scalar(select(ContactState).where(ContactState.email == C))
        assert kept is not None and kept.profile_digest is not None


async def test_a_change_to_an_address_no_later_change_left_is_still_refused(
    newsletter: Shop,
) -> None:
    """Only a later change the app received is followed: an address change to an address that
    is no member, with none received from it, moves nothing (forged, or changed back)."""
    shop = newsletter
    customer = await _subscribed_customer(shop, A)
    await _deliver(shop, A, B)  # Mailchimp never moved it
    await shop.work()

    _ends_at(shop, customer, await _rows(shop), A)
