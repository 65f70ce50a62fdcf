"""Helpers for initial-sync tests: a shop (see tests/ecommerce/conftest.py) with small batches."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from addon.db.types import utcnow
from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.sync import PUSH_JOB
from addon.initial_sync.models import InitialSync, InitialSyncBatch
from addon.initial_sync.state import STEP_JOB
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import CHANNEL, Shop, shop  # noqa: F401

CHAIN = (STEP_JOB, PUSH_JOB)
SMALL = {
    "initial_sync_batch_size": 40,
    "initial_sync_page_size": 25,
    "initial_sync_max_in_flight": 2,
    "initial_sync_poll_base_seconds": 0.0,
    "initial_sync_poll_max_seconds": 0.0,
    "worker_batch_size": 1,
}
HELD_POLLS = {"initial_sync_poll_base_seconds": 3600.0, "initial_sync_poll_max_seconds": 3600.0}


@pytest.fixture
def small(shop: Shop) -> Shop:  # noqa: F811
    shop.services.settings = shop.services.settings.model_copy(update=SMALL)
    return shop


async def start(tracked: Shop, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await tracked.api("POST", f"/api/ecommerce/channels/{CHANNEL}/initial-sync", body)
    assert response.status_code == 202, response.text
    return dict(response.json())


async def progress(tracked: Shop) -> dict[str, Any]:
    response = await tracked.api("GET", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def make_due(tracked: Shop) -> int:
    """Steps and pushes waiting for a poll interval or a backoff are due now, and so are the
    Mailchimp batches a step waits to poll (a step looks at a batch only once its
    `next_poll_at` has come: under the default settings 2 s of the real clock, which a fast
    machine's rounds may never let pass)."""
    async with tracked.services.db.transaction() as session:
        now = utcnow()
        await session.execute(
            update(InitialSyncBatch)
            .where(InitialSyncBatch.next_poll_at > now)
            .values(next_poll_at=now)
        )
        result = await session.execute(
            update(Job)
            .where(Job.status == JobStatus.PENDING, Job.kind.in_(CHAIN))
            .values(run_after=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def hold_batches(tracked: Shop) -> None:
    """Mailchimp holds the batches sent from now on (paused: `pending`), and a step looks at a
    batch again only once `make_due` says it may (a poll interval of an hour): with none, a
    step finding its batch still held would be due again at once, and `run_until_idle` would
    spin through its thousand rounds."""
    tracked.services.settings = tracked.services.settings.model_copy(update=HELD_POLLS)
    tracked.mailchimp.batches_paused = True


async def first_batch_held(tracked: Shop) -> Worker:
    """Start a sync with Mailchimp holding its batches (`hold_batches`), and run its steps
    until the first is submitted; answer the worker that ran them."""
    hold_batches(tracked)
    await start(tracked)
    worker = Worker(tracked.services)
    while not tracked.mailchimp.batches(tracked.account):
        await make_due(tracked)
        assert await worker.run_once()
    return worker


async def run_jobs(tracked: Shop, limit: int) -> None:
    """Process at most `limit` jobs (one per round) with a fresh worker, then "crash"."""
    worker = Worker(tracked.services)
    for _ in range(limit):
        await tracked.mailchimp.drain_batches()
        await make_due(tracked)
        if not await worker.run_once():
            break


async def finish(tracked: Shop, rounds: int = 300) -> InitialSync:
    """Run the worker (draining Mailchimp's batches in between) until the sync has ended and
    no step or push is left."""
    worker = Worker(tracked.services)
    for _ in range(rounds):
        await tracked.mailchimp.drain_batches()
        await make_due(tracked)
        await worker.run_until_idle()
        async with tracked.services.db.session() as session:
            run = (
                (await session.execute(select(InitialSync).order_by(InitialSync.id.desc())))
                .scalars()
                .first()
            )
            pending = (
                await session.execute(
                    select(func.count()).where(
                        Job.status.in_([JobStatus.PENDING, JobStatus.RUNNING]),
                        Job.kind.in_(CHAIN),
                    )
                )
            ).scalar_one()
        assert run is not None
        if run.status is not RunStatus.RUNNING and not pending:
            return run
    async with tracked.services.db.session() as session:
        jobs = (
            (await session.execute(select(Job).where(Job.status != JobStatus.DONE))).scalars().all()
        )
        left = [
            (j.id, j.kind, j.status, j.lane, j.run_after, j.attempts, j.last_error) for j in jobs
        ]
    raise AssertionError(f"the initial sync did not finish: {run.status if run else None}, {left}")
