"""An initial-sync batch whose submission has an unknown outcome.

A batch is written `unknown` (with the slices' positions it feeds) just before `POST /batches`
is sent, and becomes `submitted` once Mailchimp's answer gives its id. It stays `unknown` when
the send failed once it may have reached Mailchimp (`OutcomeUnknown`: a timeout, a dropped
connection, a 5xx) or when the step never recorded the answer (its worker crashed, it was
stopped, a bug): Mailchimp may hold the batch under an id never learnt, and run it later
(sometimes minutes after). Sending it again at once could let that one land its older content
after the newer one (a resend, a live push) with the ledger saying synced.

So a step looks at Mailchimp's list of batches (`addon.mailchimp.lost`, one read for every
due batch) until none it does not know, submitted since the send began, is unfinished; then
the batch is queued again: the step's normal resend (`Step.resend`) sends it as it was, and
the applier records it as any resent batch (a record pushed live since it was read is pushed
live once more). A definite refusal (4xx, 429, Mailchimp not reached) queues it at once:
Mailchimp holds nothing of it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce.models import BurstBatch
from addon.initial_sync.models import BatchStatus, InitialSync, InitialSyncBatch
from addon.initial_sync.state import Flight, batch_expected
from addon.mailchimp import MailchimpClient
from addon.mailchimp.lost import may_be_among, unfinished_unknown
from addon.services import Services

logger = logging.getLogger(__name__)

# The first look waits this long: a send that timed out may still be on its way to Mailchimp.
FIRST_LOOK_SECONDS = 30.0


async def known_batches(session: AsyncSession, installation_id: int) -> set[str]:
    """The Mailchimp ids of the installation's batches not applied yet (initial syncs' and
    bursts'; an applied one has finished): none of them is one a lost send created."""
    syncs = await session.scalars(
        select(InitialSyncBatch.mailchimp_batch_id).where(
            InitialSyncBatch.installation_id == installation_id,
            InitialSyncBatch.status != BatchStatus.APPLIED,
            InitialSyncBatch.mailchimp_batch_id != "",
        )
    )
    bursts = await session.scalars(
        select(BurstBatch.mailchimp_batch_id).where(
            BurstBatch.installation_id == installation_id,
            BurstBatch.mailchimp_batch_id.is_not(None),
        )
    )
    return {*syncs, *(str(batch_id) for batch_id in bursts)}


async def look(
    services: Services, client: MailchimpClient, sync: tuple[int, int], due: list[Flight]
) -> None:
    """Queue again each due batch of the sync (installation id, sync id) no lost send can
    still be running for; the others are looked at again later."""
    installation_id, sync_id = sync
    async with services.db.session() as session:
        known = await known_batches(session, installation_id)
    unfinished = await unfinished_unknown(client, known)
    now = utcnow()
    settings = services.settings
    async with services.db.transaction() as session:
        # The sync's row before its batches' (as a step and an apply take them).
        run = await session.get(InitialSync, sync_id, with_for_update=True)
        for flight in due:
            row = await session.get(InitialSyncBatch, flight.id, with_for_update=True)
            if row is None or row.status is not BatchStatus.UNKNOWN:
                continue
            if may_be_among(unfinished, row.submitted_at):
                delay = min(
                    settings.initial_sync_poll_base_seconds * 2 ** min(row.polls, 16),
                    settings.initial_sync_poll_max_seconds,
                )
                row.polls += 1
                row.next_poll_at = now + timedelta(seconds=delay)
                if run is not None and batch_expected(settings, row.submitted_at, now):
                    run.last_progress_at = now  # Mailchimp's queue, not a stall
                continue
            logger.info(
                "Initial sync batch %s (unknown outcome) can no longer run at Mailchimp: "
                "queued to be sent again",
                row.id,
            )
            row.status = BatchStatus.QUEUED
            row.attempt += 1  # the lost send counts as one
            row.polls = 0
            row.next_poll_at = None


def sending(row: InitialSyncBatch) -> None:
    """About to be sent: from now on, a failure or a crash leaves it `unknown`."""
    now = utcnow()
    row.status = BatchStatus.UNKNOWN
    row.mailchimp_batch_id = ""
    row.submitted_at = now
    row.polls = 0
    row.next_poll_at = now + timedelta(seconds=FIRST_LOOK_SECONDS)
