"""An address change made in Mailchimp (`upemail`: the contact changed their address on
Mailchimp's own profile page) received while the app is not connected to Mailchimp (an admin
reset the connection, or Mailchimp refuses the stored key): the audience's webhook still reaches
the app, but applying the change needs a member read.

Before, it was dropped ("Mailchimp is not connected"), and nothing brought it back: the
engagement collection's member reads look the contact up at its old address and find nobody. The
contact stayed at the old address for good (its customer's status no longer following
Mailchimp), and a withdrawal waiting for that move ended "Mailchimp never told where the contact
went". Now it waits for the reconnection, as owed work does, and is applied once the same
account is connected again; dropped once another account is; given up after the reconnection
wait's bound."""

from __future__ import annotations

import logging
from typing import Literal

import pytest
from sqlalchemy import select, update

from addon.clock import ManualClock
from addon.connection.reconnect import RECONNECT_RETRY_SECONDS, RECONNECT_WAIT
from addon.db.types import utcnow
from addon.erasure.jobs import enqueue_erasure
from addon.erasure.schemas import EraseRequest, ErasureSource
from addon.installations.models import Installation
from addon.jobs.models import Job, JobStatus
from addon.mailchimp import subscriber_hash
from addon.privacy.erased import erased_among
from addon.subscriptions.mailchimp_hooks import EVENT_JOB
from addon.subscriptions.metadata import EMAIL_PREFIX, STATUS_PREFIX
from addon.subscriptions.models import ContactState
from addon.subscriptions.upemail_waits import WAITING_FOR_CONNECTION
from tests.subscriptions.conftest import Shop, _fire, _metadata, _subscribed_customer
from tests.subscriptions.test_leaving_then_switching import _connect
from tests.subscriptions.test_withdrawal_adds_no_member import MAX, _joined
from tests.subscriptions.test_withdrawal_awaiting_move import NEW as MAX_NEW
from tests.subscriptions.test_withdrawal_awaiting_move import (
    _ask,
    _moved_in_mailchimp,
    _record,
    _upemail,
    _withdrawal,
    _withdrawn_at_new,
)

OLD, NEW = "ann@example.com", "ann@new.example"
Away = Literal["reset", "key refused"]
AWAY: list[Away] = ["reset", "key refused"]


async def _away(shop: Shop, how: Away) -> None:
    """Mailchimp no longer reachable by the app: the connection reset (its data kept), or its
    key deleted in Mailchimp (the app learns it at its next call, a 401)."""
    if how == "reset":
        reset = await shop.client.post("/api/connection/reset", json={}, headers=shop.headers)
        assert reset.status_code == 200, reset.text
    else:
        shop.mailchimp.revoke(shop.account)


async def _back(shop: Shop, how: Away) -> None:
    """The same account connected again (a new key, if the old one was deleted)."""
    if how == "key refused":
        shop.account.api_key = shop.mailchimp.add_api_key(shop.account)
    resumed = await _connect(shop, shop.account.api_key)
    assert resumed["status"] == 200 and resumed["continuity"] == "resumed", resumed


async def _moves(shop: Shop, old: str, new: str) -> None:
    """The member changes its address in Mailchimp (not told yet)."""
    await shop.mc("PATCH", f"/lists/{shop.ids['news']}/members/{old}", {"email_address": new})


async def _told(shop: Shop, old: str, new: str) -> None:
    await _fire(shop, "upemail", {"old_email": old, "new_email": new, "new_id": "x"})


async def _upemail_jobs(shop: Shop) -> list[Job]:
    async with shop.services.db.session() as session:
        jobs = await session.scalars(select(Job).where(Job.kind == EVENT_JOB).order_by(Job.id))
        return [j for j in jobs if j.payload.get("type") == "upemail"]


async def _waits(shop: Shop) -> Job:
    """The address change waits for the connection (not dropped, not failing)."""
    [job] = await _upemail_jobs(shop)
    assert job.status is JobStatus.PENDING, (job.status, job.last_error)
    assert job.last_error == WAITING_FOR_CONNECTION
    return job


async def _an_hour_on(shop: Shop, clock: ManualClock) -> None:
    """`RECONNECT_RETRY_SECONDS` pass: the waiting change tries again."""
    clock.advance(RECONNECT_RETRY_SECONDS)
    await shop.work()


async def _rows(shop: Shop) -> dict[str, tuple[str, str | None]]:
    """The News contacts the app holds: status and customer, by address."""
    async with shop.services.db.session() as session:
        rows = await session.scalars(
            select(ContactState).where(ContactState.list_id == shop.ids["news"])
        )
        return {r.email: (r.status, r.saleor_user_id) for r in rows}


async def _problem(shop: Shop, email: str) -> str | None:
    async with shop.services.db.session() as session:
        state = await session.scalar(select(ContactState).where(ContactState.email == email))
        assert state is not None
        return state.last_problem


@pytest.mark.parametrize("how", AWAY)
async def test_it_is_applied_once_the_same_account_is_connected_again(
    newsletter: Shop, clock: ManualClock, how: Away
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, OLD)
    await _moves(shop, OLD, NEW)
    await _away(shop, how)
    await _told(shop, OLD, NEW)
    await shop.work()
    await _an_hour_on(shop, clock)  # still away: it keeps waiting
    await _waits(shop)
    assert await _rows(shop) == {OLD: ("subscribed", customer.global_id)}

    await _back(shop, how)
    await shop.work()  # at once, not at its next hourly try

    assert await _rows(shop) == {NEW: ("subscribed", customer.global_id)}
    assert _metadata(shop, customer)[EMAIL_PREFIX + news] == NEW
    assert [j.status for j in await _upemail_jobs(shop)] == [JobStatus.DONE]
    # The customer's status follows Mailchimp's member again, where it is now.
    await shop.mc("PATCH", f"/lists/{news}/members/{NEW}", {"status": "unsubscribed"})
    await _fire(shop, "unsubscribe", {"email": NEW})
    await shop.work()
    assert _metadata(shop, customer)[STATUS_PREFIX + news] == "unsubscribed"
    assert await _rows(shop) == {NEW: ("unsubscribed", customer.global_id)}


async def test_it_is_dropped_once_another_account_is_connected(
    newsletter: Shop, clock: ManualClock
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, OLD)
    await _moves(shop, OLD, NEW)
    await _away(shop, "reset")
    await _told(shop, OLD, NEW)
    await shop.work()
    await _waits(shop)

    other = shop.mailchimp.create_account("Other Co", "owner@other.example", dc="us21")
    # Not work owed to the shopper: it does not hold the switch up (the first account's
    # contacts are forgotten with it).
    switched = await _connect(shop, other.api_key)
    assert switched["status"] == 200 and switched["continuity"] == "started_clean", switched
    await shop.work()
    asked = len(shop.mailchimp.requests)
    await _an_hour_on(shop, clock)

    assert [j.status for j in await _upemail_jobs(shop)] == [JobStatus.DONE]
    # Nothing asked of the first account's audience, nothing moved on the customer.
    assert not [r for r in shop.mailchimp.requests[asked:] if news in r.path]
    assert _metadata(shop, customer).get(EMAIL_PREFIX + news) != NEW
    assert await _rows(shop) == {}


async def test_it_is_given_up_after_the_reconnection_wait(
    newsletter: Shop, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, OLD)
    await _moves(shop, OLD, NEW)
    await _away(shop, "reset")
    await _told(shop, OLD, NEW)
    await shop.work()
    job = await _waits(shop)

    # `RECONNECT_WAIT` on (the job moved, not the clock: a month of the app's schedules).
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(run_after=utcnow(), created_at=job.created_at - RECONNECT_WAIT)
        )
    with caplog.at_level(logging.WARNING):
        await shop.work()

    assert [j.status for j in await _upemail_jobs(shop)] == [JobStatus.DONE]
    assert "not connected again within 30 days" in caplog.text
    problem = await _problem(shop, OLD)
    assert problem is not None and "not connected again within 30 days" in problem, problem
    assert await _rows(shop) == {OLD: ("subscribed", customer.global_id)}
    # Connected again later: nothing of it is left to apply.
    await _back(shop, "reset")
    await _an_hour_on(shop, clock)
    assert await _rows(shop) == {OLD: ("subscribed", customer.global_id)}
    assert _metadata(shop, customer).get(EMAIL_PREFIX + news) != NEW


@pytest.mark.parametrize(
    "reconnected", ["before", "after"], ids=["within the move's wait", "after the move's wait"]
)
async def test_a_withdrawal_waiting_for_the_move_reaches_the_member_where_it_moved(
    newsletter: Shop, clock: ManualClock, reconnected: str
) -> None:
    """Max leaves News while his move in Mailchimp is not told yet (his withdrawal owed,
    `awaiting_move`); the connection is reset; Mailchimp's word of the move comes while the app
    is not connected. Connected again (before the withdrawal's own wait for the move ends, or
    after), the withdrawal reaches the member at its new address."""
    shop = newsletter
    auth, permission = await _joined(shop)
    await _moved_in_mailchimp(shop)
    await _ask(shop, auth, _withdrawal(shop, leaves=True))
    await shop.work()
    assert "not told the app yet" in str((await _record(shop)).last_problem)

    await _away(shop, "reset")
    clock.advance(10 * 60)
    await _upemail(shop)
    await shop.work()
    await _waits(shop)
    if reconnected == "after":
        for _ in range(3):  # the withdrawal's wait for the move (80 minutes) ends meanwhile
            await _an_hour_on(shop, clock)
        await _waits(shop)
    await _back(shop, "reset")
    await shop.work()
    await _an_hour_on(shop, clock)

    _withdrawn_at_new(shop, permission, leaves=True)
    state = await _record(shop)
    assert state.email == MAX_NEW and state.status == "unsubscribed"
    assert state.last_problem is None
    assert shop.member(shop.ids["news"], MAX) is None
    clock.advance(2 * RECONNECT_RETRY_SECONDS)
    await shop.work()
    _withdrawn_at_new(shop, permission, leaves=True)


async def test_an_erasure_asked_meanwhile_takes_effect_at_once(newsletter: Shop) -> None:
    """The waiting change holds the contact's lane; an erasure of the address, queued behind
    it, still counts at once: nothing queued sends the customer to Mailchimp any more."""
    shop = newsletter
    customer = await _subscribed_customer(shop, OLD)
    await _moves(shop, OLD, NEW)
    await _away(shop, "reset")
    await _told(shop, OLD, NEW)
    await shop.work()
    await _waits(shop)

    async with shop.services.db.transaction() as session:
        installation_id = await session.scalar(select(Installation.id))
        assert installation_id is not None
        request = EraseRequest(
            email=OLD, saleor_user_id=customer.global_id, source=ErasureSource.PANEL
        )
        await enqueue_erasure(session, installation_id, request)
    await shop.work()

    async with shop.services.db.session() as session:
        assert subscriber_hash(OLD) in await erased_among(session, installation_id, [OLD])
    await _waits(shop)  # (the erasure itself runs once the account is back)
