"""What Mailchimp refused "for now" (the address signed up to many lists very recently) is tried
again later, a few times, without holding the contact's other changes back meanwhile: the move
of a contact held at its old address, and a subscription."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from addon.db.types import utcnow
from addon.jobs.models import Job, JobStatus
from addon.subscriptions.email_change import REFUSED_NOTE
from addon.subscriptions.email_move import EMAIL_CHANGE_JOB
from addon.subscriptions.for_now import HELD_RETRY_JOB, RETRIES, SIGNUP_RETRY_JOB
from addon.subscriptions.models import ContactState
from addon.subscriptions.service import APPLY_JOB
from tests.subscriptions.conftest import Shop
from tests.subscriptions.test_held_contact import (
    LATER,
    OLD,
    REFUSED,
    _account_page,
    _held,
    _rows,
)


async def _held_for_now(shop: Shop) -> Any:
    """Ann's contact held at OLD: Mailchimp refused REFUSED "for now"."""
    customer = await _held(shop, "signups")
    assert await _rows(shop) == {OLD: ("subscribed", REFUSED)}
    return customer


async def _pending(shop: Shop, kind: str = HELD_RETRY_JOB) -> list[Job]:
    async with shop.services.db.session() as session:
        rows = await session.scalars(
            select(Job).where(Job.kind == kind, Job.status == JobStatus.PENDING)
        )
        return list(rows)


async def _due(shop: Shop, kind: str = HELD_RETRY_JOB) -> None:
    """The day passes: the pending retry is due."""
    async with shop.services.db.transaction() as session:
        await session.execute(update(Job).where(Job.kind == kind).values(run_after=utcnow()))


async def _notes(shop: Shop) -> list[str]:
    async with shop.services.db.session() as session:
        rows = await session.scalars(select(Job).where(Job.kind == REFUSED_NOTE).order_by(Job.id))
        return [job.last_error or "" for job in rows]


async def test_a_move_refused_for_now_is_tried_again_a_day_later_and_then_moves(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _held_for_now(shop)

    [retry] = await _pending(shop)
    hours = shop.services.settings.for_now_retry_hours
    assert retry.lane is None  # waiting outside the contact's lane
    assert retry.run_after > utcnow() + timedelta(hours=hours - 1)
    assert retry.payload["list_ids"] == [news] and retry.payload["attempt"] == 1
    [note] = await _notes(shop)
    assert "for now" in note and f"again in {hours:g} hours" in note
    activity = await shop.client.get(
        "/api/activity", params={"status": "pending"}, headers=shop.headers
    )
    assert activity.status_code == 200, activity.text
    assert f"E-mail change to {REFUSED}, refused for now: to be tried again" in activity.text

    # Meanwhile the customer's own changes are not held back behind the wait.
    await _account_page(shop, customer, news, subscribed=False)
    assert shop.member(news, OLD).status == "unsubscribed"

    shop.mailchimp.refuse_address(shop.account, REFUSED, None)  # the guard has passed
    await _due(shop)
    await shop.work()
    assert shop.member(news, REFUSED).status == "unsubscribed"  # as the contact stood
    assert await _rows(shop) == {REFUSED: ("unsubscribed", None)}
    assert await _pending(shop) == []


async def test_the_retries_stop_after_a_few_refusals(newsletter: Shop) -> None:
    shop = newsletter
    await _held_for_now(shop)
    for attempt in range(1, RETRIES + 1):
        [retry] = await _pending(shop)
        assert retry.payload["attempt"] == attempt
        await _due(shop)
        await shop.work()
    assert await _pending(shop) == []
    assert await _rows(shop) == {OLD: ("subscribed", REFUSED)}
    notes = await _notes(shop)
    assert len(notes) == RETRIES + 1
    assert f"tried the move again {RETRIES} times" in notes[-1]


async def test_a_retry_after_the_hold_ended_moves_nothing(newsletter: Shop) -> None:
    """The customer changed their address again meanwhile: that change moved the contact."""
    shop = newsletter
    customer = await _held_for_now(shop)
    await shop.saleor.confirm_email_change(customer, LATER)
    await shop.work()
    assert await _rows(shop) == {LATER: ("subscribed", None)}

    shop.mailchimp.refuse_address(shop.account, REFUSED, None)
    async with shop.services.db.session() as session:
        moves_before = len(
            list(await session.scalars(select(Job.id).where(Job.kind == EMAIL_CHANGE_JOB)))
        )
    await _due(shop)
    await shop.work()
    async with shop.services.db.session() as session:
        moves_after = len(
            list(await session.scalars(select(Job.id).where(Job.kind == EMAIL_CHANGE_JOB)))
        )
    assert moves_after == moves_before
    assert await _rows(shop) == {LATER: ("subscribed", None)}
    assert shop.member(shop.ids["news"], REFUSED) is None


BUSY = "busy@example.com"


async def _subscribe(shop: Shop, email: str) -> None:
    """The storefront's newsletter form."""
    response = await shop.client.post(
        "/api/storefront/subscribe",
        params={"saleor_api_url": shop.saleor.api_url},
        json={"email": email},
    )
    assert response.status_code == 202, response.text
    await shop.work()


async def _problem(shop: Shop, email: str) -> str | None:
    async with shop.services.db.session() as session:
        [problem] = await session.scalars(
            select(ContactState.last_problem).where(ContactState.email == email)
        )
        return problem


async def test_a_subscription_refused_for_now_is_asked_again_a_day_later(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    shop.mailchimp.refuse_address(shop.account, BUSY, "signups")
    await _subscribe(shop, BUSY)
    assert shop.member(news, BUSY) is None

    [retry] = await _pending(shop, SIGNUP_RETRY_JOB)
    hours = shop.services.settings.for_now_retry_hours
    assert retry.lane is None and retry.payload["change"]["attempt"] == 1
    assert retry.run_after > utcnow() + timedelta(hours=hours - 1)
    assert f"asks again in {hours:g} hours" in (await _problem(shop, BUSY) or "")
    activity = await shop.client.get(
        "/api/activity", params={"status": "pending"}, headers=shop.headers
    )
    assert f"Subscription of {BUSY}, refused for now: to be asked again" in activity.text

    shop.mailchimp.refuse_address(shop.account, BUSY, None)  # the guard has passed
    await _due(shop, SIGNUP_RETRY_JOB)
    await shop.work()
    assert shop.member(news, BUSY).status == "subscribed"
    assert await _problem(shop, BUSY) is None
    assert await _pending(shop, SIGNUP_RETRY_JOB) == []


async def test_subscription_retries_stop_after_a_few_refusals(newsletter: Shop) -> None:
    shop = newsletter
    shop.mailchimp.refuse_address(shop.account, BUSY, "signups")
    await _subscribe(shop, BUSY)
    for attempt in range(1, RETRIES + 1):
        [retry] = await _pending(shop, SIGNUP_RETRY_JOB)
        assert retry.payload["change"]["attempt"] == attempt
        await _due(shop, SIGNUP_RETRY_JOB)
        await shop.work()
    assert await _pending(shop, SIGNUP_RETRY_JOB) == []
    assert f"asked again {RETRIES} times" in (await _problem(shop, BUSY) or "")
    assert shop.member(shop.ids["news"], BUSY) is None


async def test_a_retry_after_the_address_subscribed_meanwhile_asks_nothing(
    newsletter: Shop,
) -> None:
    """The shopper subscribed again once the guard had passed: the retry finds a contact."""
    shop = newsletter
    shop.mailchimp.refuse_address(shop.account, BUSY, "signups")
    await _subscribe(shop, BUSY)
    shop.mailchimp.refuse_address(shop.account, BUSY, None)
    await _subscribe(shop, BUSY)
    assert shop.member(shop.ids["news"], BUSY).status == "subscribed"
    async with shop.services.db.session() as session:
        applies = len(list(await session.scalars(select(Job.id).where(Job.kind == APPLY_JOB))))

    await _due(shop, SIGNUP_RETRY_JOB)
    await shop.work()
    async with shop.services.db.session() as session:
        after = len(list(await session.scalars(select(Job.id).where(Job.kind == APPLY_JOB))))
    assert after == applies


async def test_a_retry_after_the_shopper_said_no_meanwhile_asks_nothing(
    newsletter: Shop,
) -> None:
    """Fails before the fix: the shopper unticked the box before the retry; their unsubscribe
    found no member and left nothing dated, so the retry subscribed them against their "no"."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await shop.saleor.create_customer(BUSY, is_confirmed=True)
    await shop.work()
    shop.mailchimp.refuse_address(shop.account, BUSY, "signups")
    await _account_page(shop, customer, news, subscribed=True)
    assert shop.member(news, BUSY) is None
    assert len(await _pending(shop, SIGNUP_RETRY_JOB)) == 1

    await _account_page(shop, customer, news, subscribed=False)  # no member to unsubscribe
    shop.mailchimp.refuse_address(shop.account, BUSY, None)  # the guard has passed
    await _due(shop, SIGNUP_RETRY_JOB)
    await shop.work()

    assert shop.member(news, BUSY) is None
