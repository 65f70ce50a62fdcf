"""A withdrawal asked while the member's move in Mailchimp is not in yet (`awaiting_move`).

Max changes his address on Mailchimp's own profile page (max@ → max@new); Mailchimp tells the
app by an `upemail`, which it may retry for 75 minutes. Max withdraws on the store's account
page (leaves News, or unticks its GDPR permission) before, while, or without that word coming.
The withdrawal must reach the member at its new address, the store side must show it at once,
a newer choice of Max's must not be undone by it, and it stays owed to the account it was
asked under (the account-switch guard of `owed_withdrawals`)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from addon.clock import ManualClock
from addon.connection.reconnect import NOT_DONE_SWITCHED
from addon.db.types import utcnow
from addon.installations.models import Installation
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from addon.privacy.erased import remember_erased
from addon.subscriptions.awaiting_move import MOVE_WAIT
from addon.subscriptions.member_write import MOVE_NOT_TOLD
from addon.subscriptions.metadata import STATUS_PREFIX
from addon.subscriptions.models import ContactState
from addon.subscriptions.owed_withdrawals import NOT_DONE_NOTE
from addon.subscriptions.service import APPLY_JOB
from tests.subscriptions.conftest import Shop, _fire
from tests.subscriptions.test_leaving_then_switching import _connect
from tests.subscriptions.test_withdrawal_adds_no_member import MAX, _joined, _put

NEW = "max@new.example"


def _withdrawal(shop: Shop, leaves: bool) -> dict[str, Any]:
    """The account page's save: leave News, or stay and untick its permission."""
    return {
        "audiences": [{"list_id": shop.ids["news"], "subscribed": not leaves}],
        "permissions": [],
    }


async def _ask(shop: Shop, auth: dict[str, str], body: dict[str, Any]) -> None:
    answer = await _put(shop, auth, body)
    assert answer.status_code == 202, answer.text


async def _moved_in_mailchimp(shop: Shop) -> None:
    """Max's address changed on Mailchimp's profile page (its `upemail` not sent yet)."""
    await shop.mc("PATCH", f"/lists/{shop.ids['news']}/members/{MAX}", {"email_address": NEW})


async def _upemail(shop: Shop) -> None:
    await _fire(shop, "upemail", {"old_email": MAX, "new_email": NEW, "new_id": "x"})


async def _record(shop: Shop) -> ContactState:
    """Max's contact in News, wherever it is."""
    async with shop.services.db.session() as session:
        return (
            await session.scalars(
                select(ContactState).where(
                    ContactState.list_id == shop.ids["news"],
                    ContactState.email.in_([MAX, NEW]),
                    ContactState.saleor_user_id.is_not(None),
                )
            )
        ).one()


def _enabled(state: ContactState, permission: str) -> bool:
    return {p["id"]: p["enabled"] for p in state.marketing_permissions}[permission]


def _withdrawn_at_new(shop: Shop, permission: str, leaves: bool) -> None:
    moved = shop.member(shop.ids["news"], NEW)
    assert moved.status == ("unsubscribed" if leaves else "subscribed")
    assert shop.consents(NEW)[permission] is False
    assert shop.member(shop.ids["news"], MAX) is None  # no one made at the address left


@pytest.mark.parametrize("leaves", [False, True], ids=["consent withdrawn", "leaves"])
async def test_a_withdrawal_before_the_upemail_is_made_where_the_member_moved(
    newsletter: Shop, clock: ManualClock, leaves: bool
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    auth, permission = await _joined(shop)
    customer = shop.saleor.store.find_customer_by_email(MAX)
    assert customer is not None
    await _moved_in_mailchimp(shop)

    await _ask(shop, auth, _withdrawal(shop, leaves))
    await shop.work()

    # The store side shows the withdrawal at once: the app's record (the account page), and
    # Saleor's metadata; only Mailchimp's side waits.
    state = await _record(shop)
    assert state.email == MAX
    assert _enabled(state, permission) is False
    assert state.status == ("unsubscribed" if leaves else "subscribed")
    metadata = dict(shop.saleor.store.get_customer(customer.id).metadata)
    assert metadata[STATUS_PREFIX + news] == ("unsubscribed" if leaves else "subscribed")
    page = await shop.client.get(
        "/api/storefront/me/subscriptions",
        params={"saleor_api_url": shop.saleor.api_url},
        headers=auth,
    )
    [mine] = [a for a in page.json()["audiences"] if a["list_id"] == news]
    assert mine["status"] == ("unsubscribed" if leaves else "subscribed")
    assert mine["marketing_permissions"] == []
    note = str(state.last_problem)
    assert "not told the app yet" in note
    # (a staying save is the shopper's consent to stay, not a sign-up: `awaiting_note`)
    assert "withdrawal" in note and "signed up" not in note
    assert shop.consents(NEW)[permission] is True  # not sent yet

    clock.advance(10 * 60)  # Mailchimp's retry of the upemail
    await _upemail(shop)
    await shop.work()

    _withdrawn_at_new(shop, permission, leaves)
    state = await _record(shop)
    assert state.email == NEW and _enabled(state, permission) is False
    assert state.last_problem is None
    # Nothing waits any more: the fallback's time passing sends nothing else.
    clock.advance(MOVE_WAIT.total_seconds())
    await shop.work()
    _withdrawn_at_new(shop, permission, leaves)
    assert (await _record(shop)).last_problem is None


async def test_a_withdrawal_after_the_upemail_goes_to_the_new_address(
    newsletter: Shop,
) -> None:
    shop = newsletter
    auth, permission = await _joined(shop)
    await _moved_in_mailchimp(shop)
    await _upemail(shop)
    await shop.work()
    assert (await _record(shop)).email == NEW

    await _ask(shop, auth, _withdrawal(shop, leaves=False))
    await shop.work()

    _withdrawn_at_new(shop, permission, leaves=False)
    assert _enabled(await _record(shop), permission) is False


async def test_a_withdrawal_asked_while_the_upemail_waits_follows_it(newsletter: Shop) -> None:
    shop = newsletter
    auth, permission = await _joined(shop)
    await _moved_in_mailchimp(shop)
    await _upemail(shop)  # received, not applied yet

    await _ask(shop, auth, _withdrawal(shop, leaves=True))
    await shop.work()

    _withdrawn_at_new(shop, permission, leaves=True)


@pytest.mark.parametrize("leaves", [False, True], ids=["consent withdrawn", "leaves"])
async def test_with_no_word_of_a_move_the_withdrawal_ends_saying_so(
    newsletter: Shop, clock: ManualClock, leaves: bool
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    auth, permission = await _joined(shop)
    await _moved_in_mailchimp(shop)
    await _ask(shop, auth, _withdrawal(shop, leaves))
    await shop.work()

    clock.advance(MOVE_WAIT.total_seconds() - 60)
    await shop.work()
    assert "not told the app yet" in str((await _record(shop)).last_problem)
    clock.advance(60)
    await shop.work()

    state = await _record(shop)
    assert state.email == MAX  # as the shopper chose:
    assert state.status == ("unsubscribed" if leaves else "subscribed")
    assert state.last_problem == MOVE_NOT_TOLD
    assert shop.member(news, MAX) is None  # no one made at the address left
    # Mailchimp never said where the member went: nothing could reach it.
    assert shop.member(news, NEW).status == "subscribed"
    assert shop.consents(NEW)[permission] is True


@pytest.mark.parametrize("leaves", [False, True], ids=["consent given back", "signed up again"])
async def test_a_newer_choice_is_not_undone_by_the_older_withdrawal(
    newsletter: Shop, clock: ManualClock, leaves: bool
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    auth, permission = await _joined(shop)
    await _moved_in_mailchimp(shop)
    await _ask(shop, auth, _withdrawal(shop, leaves))
    await shop.work()

    # Max changes his mind (the permission ticked again, or News joined again); Mailchimp's
    # word of the move comes after.
    clock.advance(60)
    joined = [{"list_id": news, "subscribed": True}]
    await _ask(shop, auth, {"audiences": joined, "permissions": [permission]})
    clock.advance(60)
    await _upemail(shop)
    await shop.work()
    clock.advance(MOVE_WAIT.total_seconds())
    await shop.work()

    assert shop.member(news, NEW).status == "subscribed"
    assert shop.consents(NEW)[permission] is True
    assert shop.member(news, MAX) is None
    state = await _record(shop)
    assert state.email == NEW and state.status == "subscribed"
    assert _enabled(state, permission) is True


async def test_a_withdrawal_waiting_for_a_move_stays_owed_to_its_account(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    auth, _ = await _joined(shop)
    await _moved_in_mailchimp(shop)
    await _ask(shop, auth, _withdrawal(shop, leaves=True))
    await shop.work()

    other = shop.mailchimp.create_account("Other Co", "owner@other.example", dc="us21")
    refused = await _connect(shop, other.api_key)
    assert refused["status"] == 409
    error = refused["error"]
    assert isinstance(error, dict) and error["code"] == "OWED_TO_PREVIOUS_ACCOUNT"
    assert error["message"].startswith("1 unsubscribe still waits for Green Grocer")

    confirmed = await _connect(shop, other.api_key, drop_owed_to_previous_account=True)
    assert confirmed["status"] == 200 and confirmed["continuity"] == "started_clean"
    await shop.work()  # made due at once, and ended not done
    async with shop.services.db.session() as session:
        notes = list(await session.scalars(select(Job).where(Job.kind == NOT_DONE_NOTE)))
    [note] = notes
    assert note.status is JobStatus.DONE
    assert note.last_error is not None and note.last_error.startswith(NOT_DONE_SWITCHED)
    # The move's word now comes from the first account, whose webhook is answered gone (the
    # secret changed with the account): nothing reaches the new one.
    answers = await shop.mailchimp.fire_list_webhook(
        shop.account, news, "upemail", {"old_email": MAX, "new_email": NEW, "new_id": "x"}
    )
    assert [a.status_code for a in answers] == [410]
    await shop.work()
    assert shop.member(news, NEW).status == "subscribed"  # the note tells to do it by hand


async def test_a_second_withdrawal_asked_during_the_wait_is_owed_too(
    newsletter: Shop, clock: ManualClock
) -> None:
    """Max leaves News (the save names no permission), then unticks its GDPR permission, both
    before Mailchimp's word of his move: the second is neither lost nor made redundant by the
    first one's being shown already."""
    shop = newsletter
    news = shop.ids["news"]
    auth, permission = await _joined(shop)
    await _moved_in_mailchimp(shop)
    await _ask(shop, auth, {"audiences": [{"list_id": news, "subscribed": False}]})
    await shop.work()
    clock.advance(60)
    await _ask(shop, auth, {"audiences": [], "permissions": []})
    await shop.work()

    state = await _record(shop)  # shown at once, and still said to wait
    assert state.status == "unsubscribed" and _enabled(state, permission) is False
    assert "not told the app yet" in str(state.last_problem)

    clock.advance(10 * 60)
    await _upemail(shop)
    await shop.work()
    clock.advance(MOVE_WAIT.total_seconds())
    await shop.work()

    _withdrawn_at_new(shop, permission, leaves=True)
    state = await _record(shop)
    assert state.email == NEW and _enabled(state, permission) is False


async def _resumed(shop: Shop) -> None:
    """Run jobs until the owed withdrawal is sent on from its wait (`move_waited`), no further."""
    worker = Worker(shop.services)
    for _ in range(20):
        await worker.run_once()
        async with shop.services.db.session() as session:
            payloads = await session.scalars(select(Job.payload).where(Job.kind == APPLY_JOB))
            if any(p.get("move_waited") for p in payloads):
                return
    raise AssertionError("the owed withdrawal was never sent on")


async def _turn_off_news(shop: Shop) -> None:
    """The admin's save of the Audiences page turning News off, before any job runs."""
    deals = shop.ids["deals"]
    body = {"active_list_ids": [deals], "default_list_id": deals}
    answer = await shop.client.put("/api/audiences/settings", json=body, headers=shop.headers)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("leaves", [False, True], ids=["consent withdrawn", "leaves"])
async def test_a_withdrawal_that_waited_goes_to_an_audience_turned_off_since(
    newsletter: Shop, clock: ManualClock, leaves: bool
) -> None:
    """News is turned off once Mailchimp's word of the move is in, before the withdrawal is
    sent on: a withdrawal still goes (`turned_off`), though the record shows it made already."""
    shop = newsletter
    auth, permission = await _joined(shop)
    await _moved_in_mailchimp(shop)
    await _ask(shop, auth, _withdrawal(shop, leaves))
    await shop.work()
    clock.advance(10 * 60)
    await _upemail(shop)
    await _resumed(shop)

    await _turn_off_news(shop)
    await shop.work()

    _withdrawn_at_new(shop, permission, leaves)


async def test_a_sign_up_just_after_the_move_landed_is_not_undone(
    newsletter: Shop, clock: ManualClock
) -> None:
    """Max joins News again seconds after Mailchimp's word of his move came: his sign-up goes
    to his contact's new lane at once, where the older leaving, sent on from its wait, lands
    after it."""
    shop = newsletter
    news = shop.ids["news"]
    auth, permission = await _joined(shop)
    await _moved_in_mailchimp(shop)
    await _ask(shop, auth, _withdrawal(shop, leaves=True))
    await shop.work()
    clock.advance(10 * 60)
    await _upemail(shop)
    await _resumed(shop)

    clock.advance(5)
    joined = [{"list_id": news, "subscribed": True}]
    await _ask(shop, auth, {"audiences": joined, "permissions": [permission]})
    await shop.work()

    assert shop.member(news, NEW).status == "subscribed"
    assert shop.consents(NEW)[permission] is True
    state = await _record(shop)
    assert state.email == NEW and state.status == "subscribed"
    assert _enabled(state, permission) is True


async def test_an_address_erased_before_the_withdrawal_does_not_drop_it(
    newsletter: Shop, clock: ManualClock
) -> None:
    """Max's address was erased a year ago (a guest's, never in Mailchimp: his to use again,
    `mailchimp_hooks`); his leaving, asked while his move is not told yet, is still owed."""
    shop = newsletter
    auth, permission = await _joined(shop)
    async with shop.services.db.transaction() as session:
        installation_id = await session.scalar(select(Installation.id))
        assert installation_id is not None
        await remember_erased(session, installation_id, [MAX], utcnow() - timedelta(days=365))
    await _moved_in_mailchimp(shop)
    await _ask(shop, auth, _withdrawal(shop, leaves=True))
    await shop.work()
    clock.advance(10 * 60)
    await _upemail(shop)
    await shop.work()

    _withdrawn_at_new(shop, permission, leaves=True)


async def test_an_erasure_after_the_withdrawal_drops_it(
    newsletter: Shop, clock: ManualClock
) -> None:
    """Max is erased while his leaving waits: nothing of his address is kept, nor sent."""
    shop = newsletter
    auth, _ = await _joined(shop)
    customer = shop.saleor.store.find_customer_by_email(MAX)
    assert customer is not None
    await _moved_in_mailchimp(shop)
    await _ask(shop, auth, _withdrawal(shop, leaves=True))
    await shop.work()
    clock.advance(60)
    await shop.saleor.delete_customer(customer)
    await shop.work()

    async with shop.services.db.session() as session:
        jobs = list(await session.scalars(select(Job).where(Job.kind == APPLY_JOB)))
    assert jobs and all(j.status is JobStatus.DONE for j in jobs)
    assert not any(MAX in json.dumps(j.payload) for j in jobs)  # scrubbed
    clock.advance(MOVE_WAIT.total_seconds())
    await _upemail(shop)
    await shop.work()
    assert shop.member(shop.ids["news"], MAX) is None  # nothing made again at the address


async def test_the_wait_runs_from_when_no_member_was_found(
    newsletter: Shop, clock: ManualClock
) -> None:
    """Max's leaving runs late (a backlog): Mailchimp retries its word of the move for 75
    minutes from the move, which the missing member proves only then."""
    shop = newsletter
    auth, permission = await _joined(shop)
    await _ask(shop, auth, _withdrawal(shop, leaves=True))
    clock.advance(MOVE_WAIT.total_seconds())  # the backlog; Max moves meanwhile
    await _moved_in_mailchimp(shop)
    await shop.work()
    assert "not told the app yet" in str((await _record(shop)).last_problem)

    clock.advance(10 * 60)
    await _upemail(shop)
    await shop.work()

    _withdrawn_at_new(shop, permission, leaves=True)
