"""An audience-webhook body the app received before: Mailchimp's retry of a delivery, or a new
change whose body happens to be the same.

Mailchimp retries a delivery it did not see taken ("Retries happen at increasing intervals over
the course of 75 minutes", its guide "Synchronize Audience Data with Webhooks"), so the app takes
a body once. But a body names the change's type, the member as it is, and `fired_at` to the
second ("fired_at": "2009-03-26 21:35:57" in the same guide): a member who unsubscribes and
subscribes again within a second sends, the second time, the body of the first.

Before, that body was dropped as a retry: the store showed the member as they were one change
before (unsubscribed while subscribed again, or the other way round) until the engagement
collection's member reads caught up, hours later. Now a body seen before that would change the
contact has the member read from Mailchimp at once; one that would not costs nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from addon.clock import ManualClock
from addon.jobs.models import Job, JobStatus
from addon.subscriptions.mailchimp_hooks import EVENT_JOB
from addon.subscriptions.metadata import STATUS_PREFIX
from addon.subscriptions.models import ContactState
from tests.subscriptions.conftest import Shop, _metadata, _subscribed_customer

ANN = "ann@example.com"
FIRED_AT = "2026-12-07 00:30:00"  # every change below within this second


async def _fire_in_the_second(shop: Shop, event: str, data: dict[str, Any]) -> None:
    answers = await shop.mailchimp.fire_list_webhook(
        shop.account, shop.ids["news"], event, data, fired_at=FIRED_AT
    )
    assert answers and all(a.status_code == 200 for a in answers)


async def _status(shop: Shop, email: str) -> str | None:
    async with shop.services.db.session() as session:
        return await session.scalar(
            select(ContactState.status).where(
                ContactState.list_id == shop.ids["news"], ContactState.email == email
            )
        )


async def _unsubscribes(shop: Shop) -> None:
    shop.mailchimp.set_member_status(shop.account, shop.ids["news"], ANN, "unsubscribed")
    await _fire_in_the_second(shop, "unsubscribe", {"email": ANN, "action": "unsub"})


async def _subscribes_again(shop: Shop) -> None:
    shop.mailchimp.set_member_status(shop.account, shop.ids["news"], ANN, "subscribed")
    await _fire_in_the_second(shop, "subscribe", {"email": ANN})


async def _ends(shop: Shop, customer: Any, status: str) -> None:
    news = shop.ids["news"]
    assert shop.member(news, ANN).status == status
    assert await _status(shop, ANN) == status
    assert _metadata(shop, customer)[STATUS_PREFIX + news] == status


async def test_changes_within_one_second_each_reach_the_store(newsletter: Shop) -> None:
    """Ann unsubscribes, subscribes again, unsubscribes and subscribes again, all within a
    second: the third and fourth bodies are the first and second again."""
    shop = newsletter
    customer = await _subscribed_customer(shop, ANN)

    await _unsubscribes(shop)
    await shop.work()
    await _ends(shop, customer, "unsubscribed")
    await _subscribes_again(shop)
    await shop.work()
    await _ends(shop, customer, "subscribed")

    await _unsubscribes(shop)  # the first body again
    await shop.work()
    await _ends(shop, customer, "unsubscribed")
    await _subscribes_again(shop)  # the second body again
    await shop.work()
    await _ends(shop, customer, "subscribed")


async def test_changes_within_one_second_received_before_the_worker_runs(
    newsletter: Shop,
) -> None:
    """The same, every body received before the worker gets to the first."""
    shop = newsletter
    customer = await _subscribed_customer(shop, ANN)

    await _unsubscribes(shop)
    await _subscribes_again(shop)
    await _unsubscribes(shop)
    await shop.work()
    await _ends(shop, customer, "unsubscribed")


async def test_a_retry_of_a_change_applied_reads_nothing_and_changes_nothing(
    newsletter: Shop,
) -> None:
    """Mailchimp's retry of a delivery the app took (its answer lost): the contact has the
    status the body says already, so Mailchimp is not asked again."""
    shop = newsletter
    customer = await _subscribed_customer(shop, ANN)
    await _unsubscribes(shop)
    await shop.work()
    asked = len(shop.mailchimp.requests)

    await _fire_in_the_second(shop, "unsubscribe", {"email": ANN, "action": "unsub"})
    await shop.work()

    assert shop.mailchimp.requests[asked:] == []
    await _ends(shop, customer, "unsubscribed")


async def test_a_late_retry_of_an_older_change_leaves_the_member_as_mailchimp_has_them(
    newsletter: Shop,
) -> None:
    """A retry of Ann's unsubscribe arrives after her subscribing again was applied: the
    member read (as she is now) wins over the body's word."""
    shop = newsletter
    customer = await _subscribed_customer(shop, ANN)
    await _unsubscribes(shop)
    await shop.work()
    await _subscribes_again(shop)
    await shop.work()

    await _fire_in_the_second(shop, "unsubscribe", {"email": ANN, "action": "unsub"})
    await shop.work()

    await _ends(shop, customer, "subscribed")


async def test_a_body_seen_before_is_read_again_once_mailchimp_answers(
    newsletter: Shop, clock: ManualClock
) -> None:
    """The read a body seen before calls for fails (an outage): its job is retried by the
    worker, never applied on the body's word nor dropped."""
    shop = newsletter
    customer = await _subscribed_customer(shop, ANN)
    await _unsubscribes(shop)
    await shop.work()
    await _subscribes_again(shop)
    await shop.work()
    await _unsubscribes(shop)
    shop.services.mailchimp.max_attempts = 1  # its own retries sleep on the test clock
    shop.mailchimp.faults.outage(account=shop.account)
    await shop.work()

    async with shop.services.db.session() as session:
        waiting = list(
            await session.scalars(
                select(Job.status).where(Job.kind == EVENT_JOB, Job.status != JobStatus.DONE)
            )
        )
    assert waiting == [JobStatus.PENDING]
    assert await _status(shop, ANN) == "subscribed"

    shop.mailchimp.faults.reset(shop.account)
    clock.advance(3600)  # the worker's longest backoff
    await shop.work()
    await _ends(shop, customer, "unsubscribed")
