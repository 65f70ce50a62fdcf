"""The initial sync's step under the worker's retry policy: given up after
INITIAL_SYNC_MAX_ATTEMPTS runs (the sync fails with the step's error), except the step of an
ended sync, which only clears Mailchimp's `is_syncing` and never gives up."""

from __future__ import annotations

from sqlalchemy import select

from addon.ecommerce.channel_state import RunStatus
from addon.initial_sync.state import STEP_JOB
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.initial_sync.conftest import finish, make_due, run_jobs, start
from tests.initial_sync.test_initial_sync import is_syncing


async def _steps(shop: Shop) -> list[Job]:
    async with shop.services.db.session() as session:
        result = await session.execute(select(Job).where(Job.kind == STEP_JOB).order_by(Job.id))
        return list(result.scalars())


async def test_a_step_given_up_fails_the_sync_with_its_error_and_clears_is_syncing(
    small: Shop,
) -> None:
    shop = small
    shop.services.settings = shop.services.settings.model_copy(
        update={"initial_sync_max_attempts": 3}
    )
    shop.saleor.generate_store(products=5, customers=5, orders=0, seed=6)
    await start(shop)
    await run_jobs(shop, 1)  # the store is flagged
    assert is_syncing(shop)
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
    shop.services.settings = shop.services.settings.model_copy(
        update={"initial_sync_max_attempts": 2}
    )
    shop.saleor.generate_store(products=5, customers=5, orders=0, seed=6)
    await start(shop)
    await run_jobs(shop, 1)
    assert is_syncing(shop)
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
