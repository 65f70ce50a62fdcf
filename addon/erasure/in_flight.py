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
* an initial sync's batch sent, or being sent, whose operations name one of the addresses,
  unless sent longer ago than a batch may wait there (a queued one is not sent yet: the
  erasure drops those operations). A running sync applies its batch once finished; a
  cancelled or failed sync's batch still runs at Mailchimp, but no one applies it: Mailchimp
  is asked whether it has finished (`InFlight.ask`);
* a running push of one of the customer's ledger records (the waiting ones it drops first).

Not for longer than a batch may wait at Mailchimp (`initial_sync_batch_wait_seconds`, after
which the initial sync gives such a batch up) after the erasure was asked: one that never
finishes must not keep the customer in Mailchimp for ever either.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import PUSH_JOB, BurstBatch, SyncRecord
from addon.ecommerce.push_queue import ledger_key
from addon.erasure.forget import address_pattern, ledger_records, names
from addon.initial_sync.models import BatchStatus, InitialSync, InitialSyncBatch
from addon.jobs.models import Job, JobStatus

# How often a waiting erasure looks again (a push ends in a second, a burst's batch in seconds).
RETRY_SECONDS = 15.0


async def written_since(
    session: AsyncSession,
    installation_id: int,
    records: Collection[SyncRecord],
    since: datetime | None,
    dropped: Collection[int] = (),
) -> bool:
    """Whether a push of one of `records` runs, or (`since`) one of them was written after it
    (pushed, settled by a batch, queued again) or a push of one ended after it (but the
    erasure's own `dropped` ones)."""
    if not records:
        return False
    if since is not None and any(record.updated_at > since for record in records):
        return True
    ended = Job.status == JobStatus.RUNNING
    if since is not None:
        ended = ended | (Job.finished_at > since)
    found = await session.scalar(
        select(Job.id)
        .where(
            Job.installation_id == installation_id,
            Job.kind == PUSH_JOB,
            Job.lane.in_(sorted(ledger_key(r.channel_slug, r.kind, r.saleor_id) for r in records)),
            ended,
            Job.id.not_in(sorted(dropped)),
        )
        .limit(1)
    )
    return found is not None


@dataclass(frozen=True)
class InFlight:
    """`waiting`: something is on its way; `ask`: the Mailchimp ids of batches of syncs no
    longer running, on their way unless Mailchimp says they finished."""

    waiting: bool = False
    ask: tuple[str, ...] = ()


async def in_flight(
    session: AsyncSession,
    installation_id: int,
    addresses: Collection[str],
    saleor_user_id: str | None,
    batch_wait: timedelta,
    since: datetime | None = None,
) -> InFlight:
    """What a batch Mailchimp may still run, or a push running now, carries of the customer
    (see the module); `batch_wait`: how long after its submission a batch may still run;
    `since`: a push of theirs that ended since then counts too (it may have written after the
    erasure began)."""
    if not addresses:
        return InFlight()
    records = await ledger_records(session, installation_id, addresses, saleor_user_id)
    keys = {(r.channel_slug, r.kind, r.saleor_id) for r in records}
    if keys:
        if await written_since(session, installation_id, records, since):
            return InFlight(waiting=True)
        bursts = await session.execute(
            select(BurstBatch.channel_slug, BurstBatch.kind, BurstBatch.records).where(
                BurstBatch.installation_id == installation_id
            )
        )
        for channel, kind, held in bursts:
            if any((channel, kind, saleor_id) in keys for saleor_id in held):
                return InFlight(waiting=True)
    pattern = address_pattern(addresses)
    batches = await session.execute(
        select(
            InitialSyncBatch.bodies,
            InitialSyncBatch.status,
            InitialSyncBatch.mailchimp_batch_id,
            InitialSync.status,
        )
        .join(InitialSync, InitialSync.id == InitialSyncBatch.sync_id)
        .where(
            InitialSyncBatch.installation_id == installation_id,
            InitialSyncBatch.status.in_((BatchStatus.UNKNOWN, BatchStatus.SUBMITTED)),
            InitialSyncBatch.bodies.is_not(None),
            InitialSyncBatch.submitted_at >= utcnow() - batch_wait,
        )
    )
    ask: list[str] = []
    for compressed, status, batch_id, sync_status in batches:
        # Each operation as the erasure's scrub reads it (`forget.forget`).
        operations = json.loads(zlib.decompress(compressed)) if compressed else []
        if not any(names(pattern, operation) for operation in operations):
            continue
        if sync_status is RunStatus.RUNNING or status is BatchStatus.UNKNOWN or not batch_id:
            return InFlight(waiting=True)
        ask.append(batch_id)
    return InFlight(ask=tuple(ask))


__all__ = ["RETRY_SECONDS", "InFlight", "in_flight", "written_since"]
