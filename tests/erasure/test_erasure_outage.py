"""An erasure while Mailchimp is down or throttling waits for it as it waits for a disconnected
account: tried again with the worker's backoff, capped, never quarantined with the address in
its payload (and the customer left in Mailchimp) after a few attempts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from addon.db.types import utcnow
from addon.erasure.jobs import ERASE_JOB
from addon.erasure.unavailable import RECONNECT_WAIT
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import Shop
from tests.erasure.test_erasure import ANN, _assert_erased, _customer_with_history


async def _erase_job(shop: Shop) -> Job:
    async with shop.services.db.session() as session:
        [job] = await session.scalars(select(Job).where(Job.kind == ERASE_JOB))
        return job


async def _fail(shop: Shop, worker: Worker, runs: int) -> Job:
    """Run the erasure `runs` times while Mailchimp is down, made due each time (the clock is
    left alone: Mailchimp's client sleeps on it between its own attempts)."""
    settings = shop.services.settings
    for _ in range(runs):
        await worker.run_until_idle()
        job = await _erase_job(shop)
        assert job.status is JobStatus.PENDING, job.last_error
        wait = (job.run_after - utcnow()).total_seconds()
        assert 0 < wait <= settings.worker_backoff_max_seconds  # the backoff, capped
        await _make_due(shop, job)
    return job


async def _make_due(shop: Shop, job: Job, asked_earlier: timedelta = timedelta()) -> None:
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(run_after=utcnow(), created_at=job.created_at - asked_earlier)
        )


async def test_an_erasure_waits_out_a_mailchimp_outage(shop: Shop) -> None:
    customer, order, checkout = await _customer_with_history(shop)
    shop.mailchimp.faults.outage(account=shop.account)  # 503 to everything until reset
    await shop.saleor.delete_account(customer)
    worker = Worker(shop.services)
    runs = shop.services.settings.worker_max_attempts + 3  # more than any other kind gets
    job = await _fail(shop, worker, runs)
    assert job.attempts == runs
    assert "Mailchimp is temporarily unavailable" in (job.last_error or "")
    assert shop.mailchimp.member(shop.account, shop.list_id, ANN) is not None

    shop.mailchimp.faults.reset()
    await _make_due(shop, job)
    await shop.drain()
    await _assert_erased(shop, True, order, checkout)


async def test_an_outage_longer_than_mailchimps_deadline_is_left_to_the_retry_policy(
    shop: Shop,
) -> None:
    """Waited for as long as Mailchimp gives a controller (30 days), the erasure is no longer
    kept from the kind's retry policy: its attempts spent, it is quarantined for an admin."""
    customer, _, _ = await _customer_with_history(shop)
    shop.mailchimp.faults.outage(account=shop.account)
    await shop.saleor.delete_account(customer)
    worker = Worker(shop.services)
    job = await _fail(shop, worker, shop.services.settings.worker_max_attempts)
    await _make_due(shop, job, asked_earlier=RECONNECT_WAIT)
    await worker.run_until_idle()
    assert (await _erase_job(shop)).status is JobStatus.QUARANTINED
