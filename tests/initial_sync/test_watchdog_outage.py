"""The watchdog and the worker's outage retries: a step retried through a Mailchimp outage
longer than the stall time (`INITIAL_SYNC_STALL_SECONDS`) makes no progress, yet the sync is not
stuck: the worker runs the step again (up to `WORKER_OUTAGE_MAX_ATTEMPTS` runs) or gives it up,
which fails the sync with the step's error (`step_failed`). So the watchdog leaves such a sync
running, and it finishes once Mailchimp answers again; before, it failed it after half an hour
and the admin had to start it all over. A sync whose step was lost, or whose step's lease ran
out long ago with no worker taking it over, is still failed (tests/initial_sync/test_watchdog.py
for a lost one)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from addon.clock import ManualClock
from addon.config import Settings
from addon.db.types import utcnow
from addon.ecommerce.channel_state import RunStatus
from addon.initial_sync.jobs import watchdog_job
from addon.initial_sync.models import InitialSync
from addon.initial_sync.state import STEP_JOB, WATCHDOG_JOB, SyncRef
from addon.jobs.models import Job, JobStatus
from addon.jobs.schemas import ClaimedJob
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import (
    assert_equal_to_saleor,
    finish,
    is_syncing,
    progress,
    run_jobs,
    start,
)

# The production retries: a backoff from 2 s to an hour, an outage retried up to 20 runs (the
# suite's default turns the outage limit off, see tests/conftest.py).
PRODUCTION_RETRIES = {
    "worker_backoff_base_seconds": 2.0,
    "worker_backoff_max_seconds": 3600.0,
    "worker_outage_max_attempts": Settings.model_fields["worker_outage_max_attempts"].default,
}


async def _flagged(shop: Shop) -> None:
    """A generated store's sync started under the production retries, its store flagged
    `is_syncing`; each Mailchimp call is tried once per run (the client's own retries sleep on
    the test's clock: the worker's backoff is what is looked at here)."""
    shop.services.settings = shop.services.settings.model_copy(update=PRODUCTION_RETRIES)
    shop.services.mailchimp.max_attempts = 1
    shop.saleor.generate_store(products=5, customers=5, orders=0, seed=6)
    await start(shop)
    await run_jobs(shop, 1)
    assert is_syncing(shop)


async def _steps(shop: Shop) -> list[Job]:
    async with shop.services.db.session() as session:
        found = await session.scalars(
            select(Job).where(
                Job.kind == STEP_JOB, Job.status.in_([JobStatus.PENDING, JobStatus.RUNNING])
            )
        )
        return list(found)


async def test_a_mailchimp_outage_longer_than_the_stall_time_does_not_fail_the_sync(
    small: Shop, clock: ManualClock
) -> None:
    shop = small
    await _flagged(shop)
    shop.mailchimp.faults.outage(account=shop.account)  # 503 to everything, until reset
    worker = Worker(shop.services)
    stall = shop.services.settings.initial_sync_stall_seconds
    for _ in range(round(3 * stall / 300)):  # an hour and a half, five minutes at a time
        await worker.run_until_idle()
        clock.advance(300)
    await worker.run_until_idle()

    sync = await progress(shop)
    assert sync["status"] == "running", sync["error"]
    async with shop.services.db.session() as session:
        looks = list(await session.scalars(select(Job.status).where(Job.kind == WATCHDOG_JOB)))
    assert looks.count(JobStatus.DONE) >= 2  # the watchdog looked, and let it wait
    # The worker's outage retries hold the step: more runs than its own limit, not given up.
    [step] = await _steps(shop)
    assert step.status is JobStatus.PENDING
    assert step.attempts > shop.services.settings.initial_sync_max_attempts
    # What the admin is told: the sync waits for the step's retry, and why.
    assert sync["retrying"] is not None
    assert sync["retrying"]["attempts"] == step.attempts
    assert "503 Service Unavailable" in sync["retrying"]["last_error"]
    assert is_syncing(shop)

    shop.mailchimp.faults.reset(shop.account)  # Mailchimp answers again
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert_equal_to_saleor(shop)
    assert not is_syncing(shop)
    assert (await progress(shop))["retrying"] is None


async def test_a_step_whose_lease_ran_out_long_ago_is_stuck_and_fails_the_sync(
    small: Shop, clock: ManualClock
) -> None:
    """A retried step shown running, its lease run out a stall time ago (no worker took it
    over): not waiting for the worker's retry, so the watchdog fails the sync."""
    shop = small
    await _flagged(shop)
    stall = timedelta(seconds=shop.services.settings.initial_sync_stall_seconds)
    long_ago = utcnow() - 2 * stall
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.kind == STEP_JOB, Job.status == JobStatus.PENDING)
            .values(
                status=JobStatus.RUNNING,
                attempts=2,
                last_error="Service Unavailable",
                locked_by="a worker that died",
                locked_until=long_ago,
            )
        )
        await session.execute(update(InitialSync).values(last_progress_at=long_ago))
        run = (await session.execute(select(InitialSync))).scalar_one()
        watchdog = (await session.execute(select(Job).where(Job.kind == WATCHDOG_JOB))).scalar_one()
    # The watchdog's handler alone (a worker would first take the lapsed step over).
    await watchdog_job(ClaimedJob.model_validate(watchdog), SyncRef(sync_id=run.id), shop.services)
    async with shop.services.db.session() as session:
        run = (await session.execute(select(InitialSync))).scalar_one()
    assert run.status is RunStatus.FAILED and "progress" in (run.error or "")
