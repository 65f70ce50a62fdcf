"""A sign-up asked while a withdrawal waits for Mailchimp's word of a move (`awaiting_move`).

Max changes his address on Mailchimp's own profile page (max@ → max@new); Mailchimp tells the
app by an `upemail`, which it may retry for 75 minutes. Max leaves News on the store's account
page (unticking its GDPR permission), and joins it again before that word comes, without a
choice of permissions (as a consent given at checkout or at registration joins). Before, the
sign-up was made at once at the old address, where Mailchimp holds no member any more: a second
member was made there, and the leaving was ended by it, so the member where Max moved never
heard of either, nor of a leaving asked after. Now the sign-up waits with the withdrawal, in
order, and follows the member where it moved."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from addon.clock import ManualClock
from addon.connection.models import ConnectionStatus
from addon.jobs.models import Job, JobStatus
from addon.subscriptions.awaiting_move import MOVE_WAIT
from addon.subscriptions.member_write import MOVE_NOT_TOLD
from addon.subscriptions.models import ContactState
from addon.subscriptions.owed_withdrawals import NOT_DONE_NOTE
from addon.subscriptions.service import APPLY_JOB
from tests.subscriptions.conftest import Shop
from tests.subscriptions.test_leaving_then_switching import _connect
from tests.subscriptions.test_leaving_while_disconnected import _set_status
from tests.subscriptions.test_withdrawal_adds_no_member import MAX, _joined
from tests.subscriptions.test_withdrawal_awaiting_move import (
    NEW,
    _ask,
    _enabled,
    _moved_in_mailchimp,
    _record,
    _resumed,
    _turn_off_news,
    _upemail,
    _withdrawal,
)


def _sign_up(shop: Shop) -> dict[str, Any]:
    """Joins News with no choice of permissions (not `permissions_exact`)."""
    return {"audiences": [{"list_id": shop.ids["news"], "subscribed": True}]}


def _leave(shop: Shop) -> dict[str, Any]:
    """Leaves News, naming no permission."""
    return {"audiences": [{"list_id": shop.ids["news"], "subscribed": False}]}


async def _left_then_joined(shop: Shop, clock: ManualClock) -> tuple[dict[str, str], str]:
    """Max, moved in Mailchimp (not told yet), leaves News unticking its permission, then joins
    it again ten minutes later; both run. Nothing is made at the address he left."""
    auth, permission = await _joined(shop)
    await _moved_in_mailchimp(shop)
    await _ask(shop, auth, _withdrawal(shop, leaves=True))
    await shop.work()
    clock.advance(10 * 60)
    await _ask(shop, auth, _sign_up(shop))
    await shop.work()
    assert shop.member(shop.ids["news"], MAX) is None
    return auth, permission


async def _jobs(shop: Shop) -> list[Job]:
    async with shop.services.db.session() as session:
        return list(await session.scalars(select(Job).where(Job.kind == APPLY_JOB)))


async def test_a_sign_up_during_the_wait_is_made_where_the_member_moved(
    newsletter: Shop, clock: ManualClock
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    _, permission = await _left_then_joined(shop, clock)

    clock.advance(5 * 60)
    await _upemail(shop)
    await shop.work()

    assert shop.member(news, MAX) is None  # one member: where Max moved
    assert shop.member(news, NEW).status == "subscribed"
    # Withdrawn with the leaving, and not given again by the sign-up.
    assert shop.consents(NEW)[permission] is False
    state = await _record(shop)
    assert state.email == NEW and state.status == "subscribed"
    assert _enabled(state, permission) is False
    assert state.last_problem is None
    # Nothing waits any more: the fallback's time passing sends nothing else.
    clock.advance(MOVE_WAIT.total_seconds())
    await shop.work()
    assert shop.member(news, MAX) is None
    assert shop.member(news, NEW).status == "subscribed"


@pytest.mark.parametrize("exact", [False, True], ids=["leaves", "leaves unticking"])
async def test_a_leaving_after_the_sign_up_reaches_the_member_where_it_moved(
    newsletter: Shop, clock: ManualClock, exact: bool
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    auth, permission = await _left_then_joined(shop, clock)
    clock.advance(60)
    await _ask(shop, auth, _withdrawal(shop, leaves=True) if exact else _leave(shop))
    await shop.work()

    clock.advance(60)
    await _upemail(shop)
    await shop.work()
    clock.advance(MOVE_WAIT.total_seconds())
    await shop.work()

    assert shop.member(news, MAX) is None
    assert shop.member(news, NEW).status == "unsubscribed"
    assert shop.consents(NEW)[permission] is False
    state = await _record(shop)
    assert state.email == NEW and state.status == "unsubscribed"


async def test_with_no_word_of_a_move_the_sign_up_is_made_at_the_withdrawals_deadline(
    newsletter: Shop, clock: ManualClock
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await _left_then_joined(shop, clock)  # the sign-up asked 10 minutes into the wait

    clock.advance((MOVE_WAIT - timedelta(minutes=10)).total_seconds() - 60)
    await shop.work()
    assert shop.member(news, MAX) is None  # still waiting
    clock.advance(60)  # the withdrawal's deadline, not 80 minutes from the sign-up
    await shop.work()

    # Mailchimp never said where the member went: the address is free, and the sign-up,
    # the shopper's last word, is made there.
    assert shop.member(news, MAX).status == "subscribed"
    state = await _record(shop)
    assert state.email == MAX and state.status == "subscribed"
    # The consent the leaving withdrew reached no one: staff are still told to withdraw it.
    assert str(state.last_problem).startswith(MOVE_NOT_TOLD)
    assert all(j.status is JobStatus.DONE for j in await _jobs(shop))


async def test_the_contact_says_a_sign_up_waits(newsletter: Shop, clock: ManualClock) -> None:
    shop = newsletter
    await _left_then_joined(shop, clock)

    state = await _record(shop)
    # The leaving is what the record holds: the sign-up is not made yet, in Mailchimp nor
    # here, and the note says it waits, and until when (the withdrawal's deadline).
    assert state.email == MAX and state.status == "unsubscribed"
    note = str(state.last_problem)
    assert "withdrawal" not in note
    assert "signed up" in note and "not told the app yet" in note
    until = state.withdrawn_at
    assert until is not None
    assert f"{until + MOVE_WAIT:%H:%M} UTC" in note


async def test_an_erasure_during_the_wait_drops_the_sign_up_too(
    newsletter: Shop, clock: ManualClock
) -> None:
    shop = newsletter
    await _left_then_joined(shop, clock)
    customer = shop.saleor.store.find_customer_by_email(MAX)
    assert customer is not None
    clock.advance(60)
    await shop.saleor.delete_customer(customer)
    await shop.work()

    jobs = await _jobs(shop)
    assert jobs and all(j.status is JobStatus.DONE for j in jobs)
    assert not any(MAX in json.dumps(j.payload) for j in jobs)  # scrubbed
    clock.advance(MOVE_WAIT.total_seconds())
    await _upemail(shop)
    await shop.work()
    assert shop.member(shop.ids["news"], MAX) is None


async def test_a_waiting_sign_up_under_another_account_ends_as_a_sign_up(
    newsletter: Shop, clock: ManualClock
) -> None:
    """Only the leaving is reported not done; the sign-up ends as one of a gone audience."""
    shop = newsletter
    await _left_then_joined(shop, clock)
    other = shop.mailchimp.create_account("Other Co", "owner@other.example", dc="us21")
    confirmed = await _connect(shop, other.api_key, drop_owed_to_previous_account=True)
    assert confirmed["status"] == 200
    await shop.work()
    clock.advance(MOVE_WAIT.total_seconds())
    await shop.work()

    async with shop.services.db.session() as session:
        notes = list(await session.scalars(select(Job).where(Job.kind == NOT_DONE_NOTE)))
    assert len(notes) == 1
    assert all(j.status is JobStatus.DONE for j in await _jobs(shop))
    assert shop.member(shop.ids["news"], MAX) is None


async def test_a_waiting_sign_up_does_not_wait_for_the_connection(
    newsletter: Shop, clock: ManualClock
) -> None:
    """Sent on from its wait with Mailchimp disconnected, a sign-up is over, as any is (the
    consent stays the shopper's to give again): it is not owed as a withdrawal is."""
    shop = newsletter
    auth, _ = await _joined(shop)
    await _moved_in_mailchimp(shop)
    await _ask(shop, auth, _leave(shop))
    await shop.work()
    clock.advance(60)
    await _ask(shop, auth, _sign_up(shop))
    await shop.work()
    assert shop.member(shop.ids["news"], MAX) is None
    await _set_status(shop, ConnectionStatus.DISCONNECTED)
    clock.advance(MOVE_WAIT.total_seconds())
    await shop.work()

    assert all(j.status is JobStatus.DONE for j in await _jobs(shop))
    async with shop.services.db.session() as session:
        states = list(await session.scalars(select(ContactState).where(ContactState.email == MAX)))
    assert states and all(s.store_changed_at is None for s in states)


async def test_the_sign_up_keeps_the_groups_the_leaving_named(
    newsletter: Shop, clock: ManualClock
) -> None:
    """Max, in Fruit, leaves on a page showing no group ticked, then signs up choosing none:
    with no wait, his groups stay (a leaving changes none); so they do where he moved."""
    shop = newsletter
    news, fruit = shop.ids["news"], shop.ids["Fruit"]
    auth, _ = await _joined(shop)
    await shop.mc("PATCH", f"/lists/{news}/members/{MAX}", {"interests": {fruit: True}})
    await _moved_in_mailchimp(shop)
    leaving = {"list_id": news, "subscribed": False, "groups": []}
    await _ask(shop, auth, {"audiences": [leaving], "permissions": []})
    await shop.work()
    clock.advance(10 * 60)
    await _ask(shop, auth, _sign_up(shop))
    await shop.work()

    clock.advance(60)
    await _upemail(shop)
    await shop.work()

    assert shop.member(news, NEW).status == "subscribed"
    assert shop.member(news, NEW).interests[fruit] is True


async def test_a_leaving_gives_no_consent_where_the_member_moved(
    newsletter: Shop, clock: ManualClock
) -> None:
    """Max withdrew the permission on Mailchimp's profile page as he moved (not told yet);
    the store's page still shows it ticked when he leaves, then he signs up choosing none.
    Neither the leaving nor the sign-up gives it: it stays withdrawn."""
    shop = newsletter
    news = shop.ids["news"]
    auth, permission = await _joined(shop)
    await _moved_in_mailchimp(shop)
    withdrawn = [{"marketing_permission_id": permission, "enabled": False}]
    await shop.mc("PATCH", f"/lists/{news}/members/{NEW}", {"marketing_permissions": withdrawn})
    leaving = {"list_id": news, "subscribed": False}
    await _ask(shop, auth, {"audiences": [leaving], "permissions": [permission]})
    await shop.work()
    clock.advance(10 * 60)
    await _ask(shop, auth, _sign_up(shop))
    await shop.work()

    clock.advance(60)
    await _upemail(shop)
    await shop.work()

    assert shop.member(news, NEW).status == "subscribed"
    assert shop.consents(NEW)[permission] is False


async def test_the_consent_the_leaving_withdrew_goes_to_an_audience_turned_off_since(
    newsletter: Shop, clock: ManualClock
) -> None:
    """News is turned off once Mailchimp's word of the move is in, before the owed changes
    are sent on: the sign-up is not made, the consent the leaving withdrew still goes."""
    shop = newsletter
    news = shop.ids["news"]
    _, permission = await _left_then_joined(shop, clock)
    clock.advance(60)
    await _upemail(shop)
    await _resumed(shop)

    await _turn_off_news(shop)
    await shop.work()
    clock.advance(MOVE_WAIT.total_seconds())
    await shop.work()

    assert shop.member(news, MAX) is None
    assert shop.consents(NEW)[permission] is False


async def test_a_change_of_a_member_mailchimp_holds_reads_no_owed_lane(
    newsletter: Shop,
) -> None:
    """Whether a change waits with one owed for a move is asked only when no member is found
    at its address (`write_member`), not of every change."""
    shop = newsletter
    auth, permission = await _joined(shop)
    asked: list[str] = []

    def record(*args: Any) -> None:
        if "awaiting_move:" in repr(args[3]):  # (the owed lane's name, a parameter)
            asked.append(str(args[2]))

    engine = shop.services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        joined = [{"list_id": shop.ids["news"], "subscribed": True, "groups": []}]
        await _ask(shop, auth, {"audiences": joined, "permissions": [permission]})
        await shop.work()
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert asked == []


async def test_a_staying_withdrawal_owed_before_the_flag_was_kept_is_still_one(
    newsletter: Shop, clock: ManualClock
) -> None:
    """A consent withdrawn while staying (the shopper's fresh consent too), owed by an app
    that did not yet record how it was owed (`ContactChange.owed_withdrawal`): then only
    withdrawals were owed, so with no move told it ends not sent, no member made where the
    contact left."""
    shop = newsletter
    news = shop.ids["news"]
    auth, permission = await _joined(shop)
    await _moved_in_mailchimp(shop)
    await _ask(shop, auth, _withdrawal(shop, False))
    await shop.work()
    async with shop.services.db.transaction() as session:
        [job] = await session.scalars(
            select(Job).where(Job.kind == APPLY_JOB, Job.status == JobStatus.PENDING)
        )
        assert job.payload["owed_withdrawal"] is True
        # As the earlier version wrote it (a new dict: the column's change is then seen).
        job.payload = {k: v for k, v in job.payload.items() if k != "owed_withdrawal"}

    clock.advance(MOVE_WAIT.total_seconds())
    await shop.work()

    assert shop.member(news, MAX) is None
    assert (await _record(shop)).last_problem == MOVE_NOT_TOLD
    assert shop.consents(NEW)[permission] is True  # never told where: nothing reached it
