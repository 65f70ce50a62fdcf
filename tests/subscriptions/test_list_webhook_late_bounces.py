"""A bounce (`cleaned`) delivered late: Mailchimp retries a failed delivery for up to 75 minutes
(its guide "Synchronize Audience Data with Webhooks"), so it may arrive after the member moved
(tests/subscriptions/test_list_webhook_late_leaving.py), or before the move to the address that
bounced.

The member is read before a bounce is applied. Before, a read failing otherwise than with a 404
(an outage, a timeout) had the bounce applied unread: a late bounce of an address the member
had left marked their customer cleaned, at the old address, though Mailchimp still mails them
at the new one. Now the read is retried by the worker as any outage, and the bounce applied as
the member then reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from addon.clock import ManualClock
from addon.jobs.models import Job, JobStatus
from addon.subscriptions.mailchimp_hooks import EVENT_JOB
from addon.subscriptions.metadata import EMAIL_PREFIX, STATUS_PREFIX
from tests.subscriptions.conftest import Shop, _fire, _metadata, _subscribed_customer
from tests.subscriptions.test_list_webhook_late_leaving import LATE, NEW, OLD, _moved, _statuses


async def _event_jobs(shop: Shop) -> list[JobStatus]:
    async with shop.services.db.session() as session:
        return list(await session.scalars(select(Job.status).where(Job.kind == EVENT_JOB)))


def _customer_has(shop: Shop, customer: Any, status: str, email: str) -> None:
    news = shop.ids["news"]
    assert _metadata(shop, customer)[STATUS_PREFIX + news] == status
    assert _metadata(shop, customer)[EMAIL_PREFIX + news] == email


async def test_a_late_bounce_of_an_address_left_waits_out_an_outage(
    newsletter: Shop, clock: ManualClock
) -> None:
    shop = newsletter
    customer = await _moved(shop)
    shop.services.mailchimp.max_attempts = 1  # its own retries sleep on the test clock
    shop.mailchimp.faults.outage(account=shop.account)

    await _fire(shop, "cleaned", {"email": OLD, **LATE["cleaned"]})
    await shop.work()
    _customer_has(shop, customer, "subscribed", NEW)
    assert (await _statuses(shop)).get(OLD, "none") == "none"
    assert JobStatus.PENDING in await _event_jobs(shop)  # to be tried again

    shop.mailchimp.faults.reset(shop.account)
    clock.advance(3600)  # the worker's longest backoff
    await shop.work()
    _customer_has(shop, customer, "subscribed", NEW)
    assert (await _statuses(shop)).get(OLD, "none") == "none"
    assert set(await _event_jobs(shop)) == {JobStatus.DONE}


async def test_a_bounce_read_through_an_outage_is_applied_once_mailchimp_answers(
    newsletter: Shop, clock: ManualClock
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, OLD)
    shop.mailchimp.set_member_status(shop.account, news, OLD, "cleaned")
    shop.services.mailchimp.max_attempts = 1  # its own retries sleep on the test clock
    shop.mailchimp.faults.outage(account=shop.account)

    await _fire(shop, "cleaned", {"email": OLD, **LATE["cleaned"]})
    await shop.work()
    shop.mailchimp.faults.reset(shop.account)
    clock.advance(3600)
    await shop.work()

    _customer_has(shop, customer, "cleaned", OLD)
    assert (await _statuses(shop))[OLD] == "cleaned"


async def test_a_bounce_of_the_current_address_marks_the_customer_cleaned(
    newsletter: Shop,
) -> None:
    """Ann moved in Mailchimp; her new address then bounces."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _moved(shop)
    shop.mailchimp.set_member_status(shop.account, news, NEW, "cleaned")

    await _fire(shop, "cleaned", {"email": NEW, **LATE["cleaned"]})
    await shop.work()

    _customer_has(shop, customer, "cleaned", NEW)
    statuses = await _statuses(shop)
    assert (statuses.get(NEW), statuses.get(OLD, "none")) == ("cleaned", "none")


async def test_a_bounce_of_the_current_address_delivered_before_the_move(
    newsletter: Shop,
) -> None:
    """Ann moved in Mailchimp and her new address bounced; the move's delivery failed, and
    Mailchimp's retry of it arrives after the bounce."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, OLD)
    await shop.mc("PATCH", f"/lists/{news}/members/{OLD}", {"email_address": NEW})
    shop.mailchimp.set_member_status(shop.account, news, NEW, "cleaned")

    await _fire(shop, "cleaned", {"email": NEW, **LATE["cleaned"]})
    await shop.work()
    await _fire(shop, "upemail", {"old_email": OLD, "new_email": NEW, "new_id": "x"})
    await shop.work()

    _customer_has(shop, customer, "cleaned", NEW)
    statuses = await _statuses(shop)
    assert (statuses.get(NEW), statuses.get(OLD, "none")) == ("cleaned", "none")
