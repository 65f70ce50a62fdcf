"""The initial sync's step under the worker's retry policy: given up after
INITIAL_SYNC_MAX_ATTEMPTS runs (the sync fails with the step's error), except the step of an
ended sync, which only clears Mailchimp's `is_syncing` and never gives up. Mailchimp throttling
the step's polls is waited out (as the worker's longest backoff at most), never a failure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from addon.clock import ManualClock
from addon.ecommerce.channel_state import RunStatus
from addon.initial_sync.state import STEP_JOB
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from addon.mailchimp import MailchimpClient, RateLimited
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.initial_sync.conftest import (
    assert_equal_to_saleor,
    finish,
    is_syncing,
    make_due,
    progress,
    run_jobs,
    start,
    throttle_first_poll,
)


async def _steps(shop: Shop) -> list[Job]:
    async with shop.services.db.session() as session:
        result = await session.execute(select(Job).where(Job.kind == STEP_JOB).order_by(Job.id))
        return list(result.scalars())


async def _flagged(shop: Shop, max_attempts: int, **generated: int) -> None:
    """A generated store's sync, whose steps get `max_attempts` runs, started: its first job has
    run, and the store is flagged `is_syncing` in Mailchimp."""
    settings = shop.services.settings
    shop.services.settings = settings.model_copy(update={"initial_sync_max_attempts": max_attempts})
    shop.saleor.generate_store(**generated)
    await start(shop)
    await run_jobs(shop, 1)
    assert is_syncing(shop)


async def test_a_step_given_up_fails_the_sync_with_its_error_and_clears_is_syncing(
    small: Shop,
) -> None:
    shop = small
    await _flagged(shop, 3, products=5, customers=5, orders=0, seed=6)
    shop.mailchimp.faults.outage(account=shop.account)  # Mailchimp answers 503 to everything
    worker = Worker(shop.services)
    # The first step writes its batches, whose submission's outcome the 503 leaves unknown (no
    # failure: `initial_sync/unknown.py`); the next three fail to look at Mailchimp's batches.
    for _ in range(4):
        await make_due(shop)
        assert await worker.run_once()
    [*_, given_up, unflag] = await _steps(shop)
    assert given_up.status is JobStatus.QUARANTINED and given_up.attempts == 3
    assert unflag.status is JobStatus.PENDING  # queued with the end, to clear is_syncing
    shop.mailchimp.faults.reset(shop.account)
    run = await finish(shop)
    assert run.status is RunStatus.FAILED
    assert run.error and run.error == given_up.last_error
    assert not is_syncing(shop)


async def test_clearing_is_syncing_after_a_cancel_never_gives_up(small: Shop) -> None:
    shop = small
    await _flagged(shop, 2, products=5, customers=5, orders=0, seed=6)
    cancelled = await shop.api("DELETE", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
    assert cancelled.status_code == 200
    shop.mailchimp.faults.outage(account=shop.account)  # Mailchimp answers 503 to everything
    worker = Worker(shop.services)
    for _ in range(5):  # more runs than INITIAL_SYNC_MAX_ATTEMPTS
        await make_due(shop)
        assert await worker.run_once()
    [*_, step] = await _steps(shop)
    assert step.status is JobStatus.PENDING and step.attempts == 5
    assert is_syncing(shop)
    shop.mailchimp.faults.reset(shop.account)
    run = await finish(shop)
    assert run.status is RunStatus.CANCELLED
    assert not is_syncing(shop)


async def test_a_failing_sync_ends_failed_and_clears_is_syncing(small: Shop) -> None:
    shop = small
    await _flagged(shop, 2, products=10, customers=5, orders=5, seed=2)
    store = shop.saleor.store
    channel = store.channel_by_slug(CHANNEL)
    # Deleted in Saleor: every page in it comes back empty, as Saleor answers for a slug it
    # does not have, which is no success.
    del store.channels[channel.id]
    run = await finish(shop)
    assert run.status is RunStatus.FAILED
    assert run.error and "Saleor has no channel 'default-channel'" in run.error
    assert not is_syncing(shop)
    assert (await progress(shop))["status"] == "failed"


@pytest.mark.parametrize(("asked", "poll_max"), [(None, 30.0), (864_000.0, 30.0), (None, 7200.0)])
async def test_mailchimp_throttling_polls_and_resends_makes_the_sync_wait_not_fail(
    small: Shop,
    monkeypatch: pytest.MonkeyPatch,
    clock: ManualClock,
    asked: float | None,
    poll_max: float,
) -> None:
    """A Retry-After of days, or a poll wait longer than the worker's longest backoff, is
    waited out as that backoff."""
    shop = small
    shop.services.settings = shop.services.settings.model_copy(
        update={"initial_sync_max_attempts": 2, "initial_sync_poll_max_seconds": poll_max}
    )
    shop.saleor.generate_store(products=30, customers=30, orders=30, seed=6)
    real = MailchimpClient.get_batch
    refused: list[str] = []

    async def throttled(self: MailchimpClient, batch_id: str) -> Any:
        if len(refused) < 5:
            refused.append(batch_id)
            raise RateLimited("Too many requests", status=429, retry_after=asked)
        return await real(self, batch_id)

    monkeypatch.setattr(MailchimpClient, "get_batch", throttled)
    await start(shop)
    await run_jobs(shop, 3)  # flag; submit; a poll refused
    async with shop.services.db.session() as session:
        [step] = (
            await session.execute(
                select(Job).where(Job.kind == STEP_JOB, Job.status == JobStatus.PENDING)
            )
        ).scalars()
    # The next step waits (rather than asking again at once, or failing the step).
    wait = min(asked or poll_max, shop.services.settings.worker_backoff_max_seconds)
    assert step.attempts == 0 and step.run_after == clock.now() + timedelta(seconds=wait)
    run = await finish(shop)
    assert len(refused) == 5
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert_equal_to_saleor(shop)


async def test_a_mailchimp_wait_longer_than_the_stall_time_is_waited_out_not_failed(
    small: Shop, monkeypatch: pytest.MonkeyPatch, clock: ManualClock
) -> None:
    """Mailchimp's 429 asks the step to wait an hour (the worker's longest backoff), longer
    than the stall time: the watchdog, due meanwhile, leaves the sync to its wait."""
    shop = small
    settings = shop.services.settings
    stall = settings.initial_sync_stall_seconds
    asked = settings.worker_backoff_max_seconds
    assert asked > stall  # the case: the wait outlasts the stall time
    shop.saleor.generate_store(products=10, customers=10, orders=10, seed=7)
    refused = throttle_first_poll(monkeypatch, asked)
    await start(shop)
    await run_jobs(shop, 3)  # flag; submit; a poll refused: the next step waits an hour
    assert refused
    worker = Worker(shop.services)
    clock.advance(stall + 1)  # the watchdog is due, the step is not
    await worker.run_until_idle()
    assert (await progress(shop))["status"] == "running"
    clock.advance(asked - stall - 1)  # the wait is over: the sync goes on to its end
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert_equal_to_saleor(shop)
