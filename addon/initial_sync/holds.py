"""What holds each store's `is_syncing` when the connection lets go of the account (`release`).

A store is held by the initial syncs of its channel that set the flag and have not cleared it
(`InitialSync.store_flagged`), by a sync running (it may be setting it at this moment: `Step.
flag_store`), and by a re-created store's re-send (`MailchimpStore.resend_started_at`,
`ecommerce/resend.py`, whose records are pushed live, not in batches). The syncs' batches
Mailchimp may still run (submitted and not applied, or sent with an unknown outcome:
`unknown.py`) hold it too: cleared under them, they would land with the store's automations on
(order notifications for old orders), which an ended sync never allows (`ended.py`). So they
are stopped first (`DELETE /batches/{batch_id}`) when the account's data goes; when it is
kept, the store stays held until that account is connected again and they are settled. A send
with an unknown outcome created no batch the app could stop: it holds the store only while
Mailchimp lists an unfinished batch it may have created (`addon.mailchimp.lost`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import PUSH_JOB, BurstBatch
from addon.ecommerce.push_queue import ledger_prefix
from addon.ecommerce.stores_repository import StoreRepository
from addon.initial_sync.models import BatchStatus, InitialSync, InitialSyncBatch
from addon.initial_sync.state import Snapshot, end_in, enqueue_step, flag_held_elsewhere
from addon.initial_sync.unknown import FIRST_LOOK_SECONDS
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.jobs.statements import in_state
from addon.mailchimp import MailchimpClient, MailchimpError, NotFound, StorePatch
from addon.mailchimp.http import DEFAULT_TIMEOUT
from addon.mailchimp.lost import may_still_run
from addon.services import Services

logger = logging.getLogger(__name__)

LEFT_NOTE = "initial_sync.store_left_syncing"
# How long a batch's send may still reach Mailchimp: a step the reset or the switch ended (not
# stopped) may be inside its `POST /batches` until the request's timeout, and a little more.
SEND_MAY_LAND = timedelta(seconds=(DEFAULT_TIMEOUT.read or 120.0) + FIRST_LOOK_SECONDS)


@dataclass
class Hold:
    """One store held, as read before Mailchimp is asked anything."""

    channel: str
    store_id: str
    name: str | None
    resending: bool = False
    batch_ids: list[str] = field(default_factory=list)  # submitted, not applied
    unknown_since: datetime | None = None  # the first send with an unknown outcome
    # What may reach Mailchimp later whoever is connected: a batch queued to be sent (again,
    # by a step running now), a burst of its channel at Mailchimp (those a sync hands over
    # carry old orders: `handoff`).
    pending: bool = False
    # Pushes of its channel not done: sent to this store only if the same account comes back.
    pushing: bool = False

    @property
    def batches_out(self) -> bool:
        """Whether Mailchimp may still run, or get, some of its syncs' batches."""
        return bool(self.batch_ids) or self.unknown_since is not None or self.pending

    @property
    def named(self) -> str:
        return f"{self.name} ({self.store_id})" if self.name else self.store_id


class BatchesStillOut(Exception):
    """The store's syncs may still send work to Mailchimp: a batch queued to be sent again,
    pushes or bursts of its channel not done."""


class LostSendMayRun(Exception):
    """A batch sent with an unknown outcome may be among the unfinished ones Mailchimp lists
    (or still on its way): its id is not known, so it cannot be stopped. Once Mailchimp lists
    none it may be, it holds nothing: asking again later may release the store."""


async def end_running(services: Services, installation_id: int, error: str) -> set[str]:
    """End the installation's running syncs, committed before any flag is read or cleared: a
    step flagging its store afterwards sees its sync ended and clears the flag itself
    (`Step.flag_store`). The channels of the syncs ended."""
    async with services.db.transaction() as session:
        running = list(
            await session.scalars(
                select(InitialSync).where(
                    InitialSync.installation_id == installation_id,
                    InitialSync.status == RunStatus.RUNNING,
                )
            )
        )
        return {
            run.channel_slug
            for run in running
            if await end_in(session, run.id, RunStatus.FAILED, error)
        }


async def read_holds(services: Services, installation_id: int, ended: set[str]) -> list[Hold]:
    """Every store held (see the module docstring); a store deleted in Mailchimp took its flag
    with it."""
    async with services.db.session() as session:
        flagged = set(
            await session.scalars(
                select(InitialSync.channel_slug).where(
                    InitialSync.installation_id == installation_id,
                    InitialSync.store_flagged.is_(True),
                )
            )
        )
        channels = flagged | ended
        holds = {
            store.channel_slug: Hold(
                store.channel_slug,
                store.store_id,
                store.name,
                resending=store.resend_started_at is not None,
            )
            for store in await StoreRepository(session).list(installation_id)
            if store.missing_since is None
            and (store.channel_slug in channels or store.resend_started_at is not None)
        }
        await _batches_out(session, installation_id, holds)
        await _handed_over(session, installation_id, holds)
    return list(holds.values())


async def _handed_over(session: AsyncSession, installation_id: int, holds: dict[str, Hold]) -> None:
    """Mark the stores whose channel has pushes not done yet or bursts at Mailchimp: the
    records a sync hands over to live sync go that way (`handoff.py`), and the sync's own end
    waits for them before it clears the flag; so does letting go."""
    for channel, hold in holds.items():
        pushing = await session.scalar(
            select(Job.id)
            .where(
                Job.installation_id == installation_id,
                Job.kind == PUSH_JOB,
                Job.lane.startswith(ledger_prefix(channel), autoescape=True),
                or_(in_state(JobStatus.PENDING), in_state(JobStatus.RUNNING)),
            )
            .limit(1)
        )
        bursting = await session.scalar(
            select(BurstBatch.id)
            .where(
                BurstBatch.installation_id == installation_id, BurstBatch.channel_slug == channel
            )
            .limit(1)
        )
        hold.pushing = pushing is not None
        hold.pending = hold.pending or bursting is not None


async def _batches_out(session: AsyncSession, installation_id: int, holds: dict[str, Hold]) -> None:
    rows = await session.execute(
        select(InitialSync.channel_slug, InitialSyncBatch)
        .join(InitialSync, InitialSync.id == InitialSyncBatch.sync_id)
        .where(
            InitialSyncBatch.installation_id == installation_id,
            InitialSyncBatch.status != BatchStatus.APPLIED,
        )
        .order_by(InitialSyncBatch.id)
    )
    for channel, batch in rows:
        hold = holds.get(channel)
        if hold is None:
            continue
        if batch.status is BatchStatus.SUBMITTED:
            hold.batch_ids.append(batch.mailchimp_batch_id)
        elif batch.status is BatchStatus.QUEUED:
            hold.pending = True  # a step may send it (again) at any moment, `Step.resend`
        elif hold.unknown_since is None or batch.submitted_at < hold.unknown_since:
            hold.unknown_since = batch.submitted_at


async def stop_batches(
    client: MailchimpClient,
    hold: Hold,
    *,
    nothing_sent: bool = False,
    known: Collection[str] = (),
) -> int:
    """Stop the batches of the store's syncs Mailchimp may still run (how many were stopped).
    Stopping nothing, raises `BatchesStillOut` when some of its work may reach Mailchimp after
    the flag is cleared: a batch queued to be sent again, pushes or bursts of its channel not
    done (`Hold.pending`); `nothing_sent`: no job will send anything more (an uninstall
    dropped them). Raises `LostSendMayRun` when a batch sent with no answer (its id unknown)
    may still run: the send may still be on its way (`SEND_MAY_LAND`), or Mailchimp lists
    an unfinished batch, none of `known` (the installation's), that it may have created. Held,
    the store's automations stay off under them."""
    if hold.pending and not nothing_sent:
        raise BatchesStillOut
    if hold.unknown_since is not None and (
        utcnow() - hold.unknown_since < SEND_MAY_LAND
        or await may_still_run(client, hold.unknown_since, known)
    ):
        raise LostSendMayRun
    for batch_id in hold.batch_ids:
        # Gone already: Mailchimp deleted it (its results kept a limited time).
        with contextlib.suppress(NotFound):
            await client.delete_batch(batch_id)
    return len(hold.batch_ids)


async def unflag_dropped(
    services: Services, client: MailchimpClient, run: Snapshot, store_id: str
) -> None:
    """Clear the flag a step set on a sync no longer running (`Step.flag_store`: it ended, or
    was dropped with the account's data, while the PATCH was answered), unless a re-send or
    another sync holds it (as `jobs._unflag`). When Mailchimp does not clear it, the ended
    sync's row keeps it for its own step (`jobs._unflag`); a row dropped meanwhile leaves it
    named on the Activity page."""
    async with services.db.session() as session:
        store = await StoreRepository(session).get(run.installation_id, run.channel)
        resending = store is not None and store.resend_started_at is not None
        if resending or await flag_held_elsewhere(session, run):
            return
    try:
        await client.update_store(store_id, StorePatch(is_syncing=False))
    except NotFound:
        return  # deleted in Mailchimp: the flag went with it
    except MailchimpError as exc:
        async with services.db.transaction() as session:
            row = await session.get(InitialSync, run.id, with_for_update=True)
            if row is not None:
                row.store_flagged = True
                await enqueue_step(session, run.installation_id, run.id, run.channel)
                return
            sentence = (
                f"Mailchimp store {store_id} is still marked as syncing, so Mailchimp holds its "
                "automations (abandoned-cart e-mails, order notifications): the initial sync "
                "set it as the app let go of the account, and Mailchimp did not clear it then "
                f"({exc}). Clear it through Mailchimp's API (PATCH /ecommerce/stores/{store_id} "
                "with is_syncing false)."
            )
            payload = {"channel": run.channel, "store_id": store_id}
            await JobRepository(session).record_note(
                run.installation_id, LEFT_NOTE, payload, sentence
            )
        logger.warning("Initial sync %s: store %s left syncing", run.id, store_id)
