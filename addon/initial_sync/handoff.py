"""Before an initial sync clears `is_syncing`: the pushes it handed to live sync are done.

A page's entities a batch cannot carry go to live sync's push instead (an order with a deleted
variant's line, whose placeholder product that push sends first; one whose product could not
be sent first, `products_first.py`; one Mailchimp holds an older version of): `Step._write`
queues their pushes with the batch. Clearing the store's `is_syncing` while one still waits
would send history with the store's automations on (a purchase follow-up for an order placed
months ago). So once every batch is applied, the sync waits, looking again every `LOOK_AGAIN`
seconds, while
- a push job of its channel queued before then is still waiting or running (retried after a
  failure, it is the same job; one that found nothing to do, Mailchimp disconnected, is done);
- a burst of its channel is at Mailchimp (a burst takes pushes over, their jobs done, and sends
  them as a batch: `ecommerce/burst.py`);
- a push a burst handed back to run alone is waiting (made after the wait began);
for `HANDOFF_LIMIT` at most: a push that keeps failing must not keep the automations paused.
Other pushes queued later are live changes, not the sync's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce.models import PUSH_JOB, BurstBatch
from addon.ecommerce.push_queue import ALONE_PREFIX, ledger_prefix
from addon.initial_sync.models import InitialSync
from addon.jobs.models import Job, JobStatus
from addon.jobs.statements import in_state
from addon.services import Services

HANDOFF_LIMIT = timedelta(minutes=15)
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
        if now - run.draining_since >= HANDOFF_LIMIT:
            return False
        pushing = await session.scalar(
            select(Job.id)
            .where(
                Job.installation_id == run.installation_id,
                Job.kind == PUSH_JOB,
                Job.lane.startswith(ledger_prefix(run.channel_slug), autoescape=True),
                or_(in_state(JobStatus.PENDING), in_state(JobStatus.RUNNING)),
                or_(
                    Job.created_at <= run.draining_since,
                    Job.coalesce_key.startswith(ALONE_PREFIX, autoescape=True),
                ),
            )
            .limit(1)
        )
        bursting = await session.scalar(
            select(BurstBatch.id)
            .where(
                BurstBatch.installation_id == run.installation_id,
                BurstBatch.channel_slug == run.channel_slug,
            )
            .limit(1)
        )
        if pushing is None and bursting is None:
            return False
        run.last_progress_at = now  # waiting on live sync, not stalled (the watchdog)
        await then(session, LOOK_AGAIN)
        return True
