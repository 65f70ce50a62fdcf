"""The initial sync's watchdog: a sync that stopped making progress fails and clears the
store's `is_syncing`; one that progresses, or whose batches wait their turn in Mailchimp's
queue, is left alone, but a batch Mailchimp never finishes counts as progress for
`INITIAL_SYNC_BATCH_WAIT_SECONDS` only."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from addon.db.types import utcnow
from addon.ecommerce.channel_state import RunStatus
from addon.initial_sync.models import InitialSync, InitialSyncBatch
from addon.initial_sync.state import STEP_JOB, WATCHDOG_JOB
from addon.jobs.models import Job, JobStatus
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import (
    assert_equal_to_saleor,
    finish,
    first_batch_held,
    is_syncing,
    make_due,
    progress,
    run_jobs,
    start,
)


async def test_the_watchdog_fails_a_sync_that_stopped_and_clears_is_syncing(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=5, customers=5, orders=5, seed=6)
    await start(shop)
    await run_jobs(shop, 1)
    assert is_syncing(shop)
    async with shop.services.db.transaction() as session:
        # The chain is lost (say its step was quarantined) and nothing moved for a long time.
        await session.execute(delete(Job).where(Job.kind == STEP_JOB))
        await session.execute(
            update(InitialSync).values(last_progress_at=utcnow() - timedelta(hours=2))
        )
        await session.execute(
            update(Job).where(Job.kind == WATCHDOG_JOB).values(run_after=utcnow())
        )
    run = await finish(shop)
    assert run.status is RunStatus.FAILED and "progress" in (run.error or "")
    assert not is_syncing(shop)


async def test_the_watchdog_leaves_a_progressing_sync_alone(small: Shop) -> None:
    shop = small
    await start(shop)
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job).where(Job.kind == WATCHDOG_JOB).values(run_after=utcnow())
        )
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED
    async with shop.services.db.session() as session:
        watchdogs = (
            (await session.execute(select(Job).where(Job.kind == WATCHDOG_JOB).order_by(Job.id)))
            .scalars()
            .all()
        )
    # It ran, found progress, and looks again one stall period after the last progress.
    assert [j.status for j in watchdogs] == [JobStatus.DONE, JobStatus.PENDING]


async def test_the_watchdog_leaves_a_sync_waiting_for_mailchimps_queue_alone(
    small: Shop,
) -> None:
    """Its batches wait `pending` in Mailchimp (an account's batches run one at a time, another
    app's long one first, say) for longer than the stall time: each look at them shows the
    sync alive, so the watchdog lets it wait."""
    shop = small
    shop.saleor.generate_store(products=5, customers=5, orders=0, seed=3)
    worker = await first_batch_held(shop)
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(InitialSync).values(last_progress_at=utcnow() - timedelta(hours=2))
        )
    await make_due(shop)  # the step looks at its batch: still pending
    await worker.run_until_idle()
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job).where(Job.kind == WATCHDOG_JOB).values(run_after=utcnow())
        )
    await worker.run_until_idle()
    assert (await progress(shop))["status"] == "running"
    assert all(b.status == "pending" for b in shop.mailchimp.batches(shop.account))

    shop.mailchimp.batches_paused = False
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED
    assert_equal_to_saleor(shop)


@pytest.mark.parametrize("held", ["pending", "started"])
async def test_a_batch_mailchimp_never_finishes_fails_the_sync_in_the_end(
    small: Shop, held: str
) -> None:
    """A batch Mailchimp holds unfinished (waiting its turn, or running) counts as progress for
    `INITIAL_SYNC_BATCH_WAIT_SECONDS` only: still `pending` or `started` after that, it no
    longer keeps the sync (and the store's `is_syncing`) alive."""
    shop = small
    shop.saleor.generate_store(products=5, customers=5, orders=0, seed=3)
    worker = await first_batch_held(shop)
    if held == "started":
        # It starts, and its first operation never ends.
        shop.mailchimp.batch_operation_latency = 3600
        shop.mailchimp.batches_paused = False
        while shop.mailchimp.batches(shop.account)[0].status != "started":  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    long_ago = utcnow() - timedelta(
        seconds=shop.services.settings.initial_sync_batch_wait_seconds + 3600
    )
    async with shop.services.db.transaction() as session:
        await session.execute(update(InitialSyncBatch).values(submitted_at=long_ago))
        await session.execute(
            update(InitialSync).values(last_progress_at=utcnow() - timedelta(hours=2))
        )
    await make_due(shop)  # the step looks at its batch: still unfinished, for too long
    await worker.run_until_idle()
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job).where(Job.kind == WATCHDOG_JOB).values(run_after=utcnow())
        )
    await worker.run_until_idle()

    sync = await progress(shop)
    assert sync["status"] == "failed" and "progress" in (sync["error"] or "")
    assert not is_syncing(shop)
