"""A burst's batch whose submission has an unknown outcome: `POST /batches` failed once it may have
reached Mailchimp (`OutcomeUnknown`: a timeout, a dropped connection, a 5xx), or its push job
crashed, was stopped or failed while sending it (`burst.release`, `burst_release.release_unsent`).
A definite refusal (a 4xx, a 429, a connection never made) created no batch: its records are handed
back at once instead. A batch held by a rerun (the lease lost) while the first run was still
sending it takes the id Mailchimp then answers, and is polled as any batch.

Mailchimp may have created the batch, under an id never learnt, and may run it later (batches
run asynchronously, sometimes minutes after): handing its records straight back to their own
pushes would let it land their older content over the newer one those pushes send, with the
ledger saying synced. So the batch row is *held*: still `submitted`, with no Mailchimp id, since
the send began (`submitted_at`). Its `ecommerce.burst` job looks at Mailchimp's list of batches
(`addon.mailchimp.lost`) until none it does not know, submitted since then, is unfinished; then
what Mailchimp holds of each record is forgotten (as after a batch that overtook a newer push)
and each gets a push of its own, which lands after anything the lost batch could write. A
record changed meanwhile is pushed as usual, and once more after the hold.

Held rows count as records in batches on the Activity page (no error: nothing failed that a
push would not redo). Looking never gives up on a Mailchimp failure (looked at again after the
worker's backoff, `RetryLater`): releasing unseen could let the lost batch win. A lost
connection releases them (their pushes wait for a connection as usual); an erased installation
or a reset connection deletes them with the account's data.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.service import NotConnected, mailchimp_for
from addon.ecommerce.burst_apply import apply_unknown
from addon.ecommerce.burst_queue import alone, poll_later
from addon.ecommerce.models import BurstBatch, BurstStatus
from addon.ecommerce.repository import LedgerRepository
from addon.jobs.retry import error_text
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.mailchimp import InvalidCredentials, MailchimpError
from addon.mailchimp.lost import may_still_run
from addon.services import Services

logger = logging.getLogger(__name__)

# The first look waits this long: a send that timed out may still be on its way to Mailchimp.
FIRST_LOOK_SECONDS = 30.0


def held(row: BurstBatch) -> bool:
    """Submitted with an unknown outcome: no Mailchimp id to poll."""
    return row.status is BurstStatus.SUBMITTED and row.mailchimp_batch_id is None


async def hold(session: AsyncSession, row: BurstBatch, since: datetime) -> None:
    """Hold the row's records: a batch with them may have reached Mailchimp from `since`."""
    row.status = BurstStatus.SUBMITTED
    row.mailchimp_batch_id = None
    row.submitted_at = since
    row.polls = 0
    await poll_later(session, row, FIRST_LOOK_SECONDS)


async def look(
    services: Services,
    job: ClaimedJob,
    batch_id: int,
    installation_id: int,
    since: datetime,
    polls: int,
) -> None:
    """Release the held records once no batch the send may have created can still run; else
    look again later."""
    try:
        async with mailchimp_for(services, installation_id) as client:
            async with services.db.session() as session:
                known = set(
                    await session.scalars(
                        select(BurstBatch.mailchimp_batch_id).where(
                            BurstBatch.installation_id == installation_id,
                            BurstBatch.mailchimp_batch_id.is_not(None),
                        )
                    )
                )
            running = await may_still_run(client, since, {str(k) for k in known})
    except (NotConnected, InvalidCredentials):
        running = False  # their pushes wait for a connection as usual
    except MailchimpError as exc:
        delay = services.settings.initial_sync_poll_max_seconds
        raise RetryLater(error_text(exc), delay, counted=True) from exc
    async with services.db.transaction() as session:
        row = await session.get(BurstBatch, batch_id, with_for_update=True)
        if row is None or not held(row):
            return
        if running:
            row.polls += 1
            settings = services.settings
            delay = min(
                settings.initial_sync_poll_base_seconds * 2 ** min(polls, 16),
                settings.initial_sync_poll_max_seconds,
            )
            await poll_later(session, row, delay)
            return
        await settle_unknown(session, row)


async def settle_unknown(session: AsyncSession, row: BurstBatch) -> None:
    """What Mailchimp holds of each record is forgotten and it gets a push of its own."""
    scope = (row.installation_id, row.channel_slug, row.kind)
    # Locked, as when a batch's results are applied (`burst_poll.apply`).
    ledger = LedgerRepository(session)
    records = await ledger.get_or_create_many(*scope, list(row.records), locked=True)
    again = [
        saleor_id
        for saleor_id, meta in row.records.items()
        if not apply_unknown(records[saleor_id], meta, row.read_at)
    ]
    logger.info(
        "A burst's batch of unknown outcome can no longer run at Mailchimp: %d records pushed "
        "again",
        len(again),
    )
    await session.delete(row)
    await session.flush()
    await alone(session, scope, again)
