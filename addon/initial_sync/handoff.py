"""Before an initial sync clears `is_syncing`: the pushes it handed to live sync are done.

A page's entities a batch cannot carry go to live sync's push instead (an order with a deleted
variant's line, whose placeholder product that push sends first; one whose product could not
be sent first, `products_first.py`; one Mailchimp holds an older version of): `Step._write`
queues their pushes with the batch. Clearing the store's `is_syncing` while one still waits
would send history with the store's automations on (a purchase follow-up, an invoice or a
refund e-mail for an order placed months ago). So once every batch is applied, the sync waits,
looking again every `LOOK_AGAIN` seconds, while
- a push job of its channel queued before then is still waiting or running (retried after a
  failure, it is the same job; one that found nothing to do, Mailchimp disconnected, is done);
- a burst of its channel is at Mailchimp (a burst takes pushes over, their jobs done, and sends
  them as a batch: `ecommerce/burst.py`);
- a push a burst handed back to run alone is waiting (made after the wait began).
Other pushes queued later are live changes, not the sync's.

It waits as long as they move: a backlog of thousands of them takes longer than any fixed
time, and each one cut off would go out with the automations on. They stall when for
`HANDOFF_LIMIT` none of them was done (sent, or taken into a burst), none still waits for its
first run (the worker has not reached it yet: no failure), and no burst Mailchimp may still be
running is among them (`batch_expected`, as the sync's own batches): they keep failing, and
must not keep the automations paused; the sync lets them go. However they move, it waits
`HANDOFF_CAP` at most in all: a sync ends some day.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.config import Settings
from addon.db.types import utcnow
from addon.ecommerce.models import PUSH_JOB, BurstBatch
from addon.ecommerce.push_queue import ALONE_PREFIX, ledger_prefix
from addon.initial_sync.models import InitialSync
from addon.initial_sync.state import batch_expected
from addon.jobs.models import Job, JobStatus
from addon.jobs.statements import in_state
from addon.services import Services

logger = logging.getLogger(__name__)

HANDOFF_LIMIT = timedelta(minutes=15)  # none of them moved for this long: a stall
HANDOFF_CAP = timedelta(hours=24)  # the whole wait, however they move
LOOK_AGAIN = 10.0

Then = Callable[[AsyncSession, float], Awaitable[None]]


async def wait_for_handoffs(services: Services, sync_id: int, then: Then) -> bool:
    """True: a push the sync handed over still waits, and the next step is queued (`then`)."""
    now = utcnow()
    async with services.db.transaction() as session:
        run = await session.get(InitialSync, sync_id, with_for_update=True)
        if run is None:
            return False
        if run.draining_since is None:
            run.draining_since = now
        waited = now - run.draining_since
        if not await _waiting(session, run):
            return False
        if waited >= HANDOFF_CAP:
            logger.warning(
                "Initial sync %s: pushes it handed over still wait after %s", sync_id, waited
            )
            return False
        if waited >= HANDOFF_LIMIT and not await _moving(session, run, now, services.settings):
            logger.warning(
                "Initial sync %s: the pushes it handed over made no progress for %s",
                sync_id,
                HANDOFF_LIMIT,
            )
            return False
        run.last_progress_at = now  # waiting on live sync, not stalled (the watchdog)
        await then(session, LOOK_AGAIN)
        return True


async def handed_waiting(session: AsyncSession, run: InitialSync) -> int:
    """How many records the sync waits for (its progress says so): those of the pushes it
    handed over not run yet, and of its channel's bursts at Mailchimp. 0 before the wait."""
    if run.draining_since is None:
        return 0
    pushes = await session.scalar(select(func.count()).where(*_handed(run), _unfinished()))
    bursts = await session.scalars(select(BurstBatch.records).where(*_bursts(run)))
    return int(pushes or 0) + sum(len(records or {}) for records in bursts)


def _handed(run: InitialSync) -> tuple[ColumnElement[bool], ...]:
    """The push jobs of the sync's channel it waits for (see the module docstring)."""
    return (
        Job.installation_id == run.installation_id,
        Job.kind == PUSH_JOB,
        Job.lane.startswith(ledger_prefix(run.channel_slug), autoescape=True),
        or_(
            Job.created_at <= run.draining_since,
            Job.coalesce_key.startswith(ALONE_PREFIX, autoescape=True),
        ),
    )


def _unfinished() -> ColumnElement[bool]:
    return or_(in_state(JobStatus.PENDING), in_state(JobStatus.RUNNING))


def _bursts(run: InitialSync) -> tuple[ColumnElement[bool], ...]:
    return (
        BurstBatch.installation_id == run.installation_id,
        BurstBatch.channel_slug == run.channel_slug,
    )


async def _waiting(session: AsyncSession, run: InitialSync) -> bool:
    pushing = await session.scalar(select(Job.id).where(*_handed(run), _unfinished()).limit(1))
    if pushing is not None:
        return True
    return await session.scalar(select(BurstBatch.id).where(*_bursts(run)).limit(1)) is not None


async def _moving(
    session: AsyncSession, run: InitialSync, now: datetime, settings: Settings
) -> bool:
    """Whether what the sync waits for made progress within `HANDOFF_LIMIT`, or has not had
    its first try yet (see the module docstring)."""
    finished = await session.scalar(
        select(Job.id)
        # Through the done jobs' index on `finished_at`: those of the last minutes only.
        .where(*_handed(run), in_state(JobStatus.DONE), Job.finished_at > now - HANDOFF_LIMIT)
        .limit(1)
    )
    if finished is not None:
        return True
    # Claimed, a push counts an attempt; one that only waited (`RetryLater`) gets it back, with
    # its reason as its error: neither is left on one the worker has not reached yet.
    untried = and_(in_state(JobStatus.PENDING), Job.attempts == 0, Job.last_error.is_(None))
    if await session.scalar(select(Job.id).where(*_handed(run), untried).limit(1)) is not None:
        return True
    bursts = await session.execute(
        select(BurstBatch.read_at, BurstBatch.submitted_at).where(*_bursts(run))
    )
    return any(batch_expected(settings, sent or read, now) for read, sent in bursts.all())
