"""What was on its way to Mailchimp about a customer when their erasure runs: it waits for it.

A batch sent before an erasure (a burst's, an initial sync's) runs at Mailchimp in its turn (an
account's batches one at a time), maybe after the erasure deleted the customer there: its
operations would create them again (their e-commerce customer, an order or a cart naming their
address) in a Mailchimp the app had reported them erased from, and the batch's apply would
then find records the erasure forgot. A push running meanwhile (it read Saleor before) would do
the same, and write the address back into its ledger record's label. So the erasure waits
while one of these may still write:

* a burst's row holding one of the customer's ledger records (its leader reading Saleor or its
  batch at Mailchimp: the row is deleted once its results are in the ledger);
* a running initial sync's batch sent, or being sent, whose operations name one of the
  addresses (a queued one is not sent yet: the erasure drops those operations);
* a running push of one of the customer's ledger records (the waiting ones it drops).

Not for longer than a batch may wait at Mailchimp (`initial_sync_batch_wait_seconds`, after
which the initial sync gives such a batch up): one that never finishes must not keep the
customer in Mailchimp for ever either.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import PUSH_JOB, BurstBatch
from addon.ecommerce.push_queue import ledger_key
from addon.erasure.forget import address_pattern, ledger_records
from addon.initial_sync.models import BatchStatus, InitialSync, InitialSyncBatch
from addon.jobs.models import Job, JobStatus

# How often a waiting erasure looks again (a push ends in a second, a burst's batch in seconds).
RETRY_SECONDS = 15.0


async def in_flight(
    session: AsyncSession,
    installation_id: int,
    addresses: Collection[str],
    saleor_user_id: str | None,
) -> bool:
    """Whether a batch Mailchimp may still run, or a push running now, carries the customer
    (see the module)."""
    if not addresses:
        return False
    records = await ledger_records(session, installation_id, addresses, saleor_user_id)
    keys = {(r.channel_slug, r.kind, r.saleor_id) for r in records}
    if keys:
        running = await session.scalar(
            select(Job.id)
            .where(
                Job.installation_id == installation_id,
                Job.kind == PUSH_JOB,
                Job.status == JobStatus.RUNNING,
                Job.lane.in_(sorted(ledger_key(*key) for key in keys)),
            )
            .limit(1)
        )
        if running is not None:
            return True
        bursts = await session.execute(
            select(BurstBatch.channel_slug, BurstBatch.kind, BurstBatch.records).where(
                BurstBatch.installation_id == installation_id
            )
        )
        for channel, kind, held in bursts:
            if any((channel, kind, saleor_id) in keys for saleor_id in held):
                return True
    pattern = address_pattern(addresses)
    bodies = await session.scalars(
        select(InitialSyncBatch.bodies)
        .join(InitialSync, InitialSync.id == InitialSyncBatch.sync_id)
        .where(
            InitialSyncBatch.installation_id == installation_id,
            InitialSyncBatch.status.in_((BatchStatus.UNKNOWN, BatchStatus.SUBMITTED)),
            InitialSyncBatch.bodies.is_not(None),
            InitialSync.status == RunStatus.RUNNING,
        )
    )
    for compressed in bodies:
        # Each operation as the erasure's scrub reads it (`forget.forget`).
        operations = json.loads(zlib.decompress(compressed)) if compressed else []
        if any(pattern.search(json.dumps(operation)) for operation in operations):
            return True
    return False


__all__ = ["RETRY_SECONDS", "in_flight"]
