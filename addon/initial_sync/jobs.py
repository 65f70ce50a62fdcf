"""The initial sync's worker jobs: the step that moves a sync on, and its watchdog.

Owns what a job does with its sync, and the step's retry policy (the worker applies it): a
failing Mailchimp or Saleor call is retried with the worker's backoff (or the wait Mailchimp
asked for) up to `INITIAL_SYNC_MAX_ATTEMPTS` runs, then the job is given up and the sync fails
with the error (`step_failed`). A lost Mailchimp connection fails the sync at once, and so does
its store recorded deleted in Mailchimp (`store_state`), saying so. Mailchimp's 429 inside a
step is no failure at all, nor a stall: the step waits (see `step`), however long Mailchimp
asks. The step of a sync that has ended only clears Mailchimp's `is_syncing` (every end -
success, cancel, failure - does); it never gives up, or the store would show as syncing for
ever (a store deleted in Mailchimp took its flag with it: nothing to clear).

The watchdog fails a sync that made no progress for `INITIAL_SYNC_STALL_SECONDS`: its step was
lost (no step job waiting or running, say quarantined by hand), shows running with a lease run
out a stall time ago (no worker took it over), or keeps running without moving the sync on (a
batch Mailchimp never finishes: `state.batch_expected`). A step the worker retries after failed
runs is left to the retries (`state.retried_step`): through a Mailchimp or Saleor outage they go
on for up to `WORKER_OUTAGE_MAX_ATTEMPTS` runs (about seven hours), far longer than the stall
time, and end either with the step run again or given up, which fails the sync with its error
(`step_failed`). Meanwhile the sync's status says why it waits (`InitialSyncRead.retrying`, and
the step's row on the Activity page), as it does of a wait Mailchimp asked for
(`InitialSyncRead.throttled_until`).

Letting go of the account (a reset, another account connected in its place) first ends the
syncs running, then clears the flag of every store a sync holds with the credentials about to
go, its batches still at Mailchimp stopped first when the account's data goes (`release.py`,
the connection's `LET_GO`): no job run afterwards has them. After a reset keeping the data, a
store whose sync has batches at Mailchimp keeps its flag: the ended sync settles them, then
clears it, once the same account is connected again (`_until_connected`). A flag left set is
named on the reset's or switch's answer and on the Activity page; another account connected
drops the sync with the first account's data (`account_data.py`), its wait included.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.reconnect import RECONNECT_WAIT
from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.ecommerce.catalog import DependencyFailed
from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.context import load_context
from addon.ecommerce.stores_repository import StoreRepository
from addon.initial_sync import ended
from addon.initial_sync.handoff import Then, wait_for_handoffs
from addon.initial_sync.models import InitialSync
from addon.initial_sync.state import (
    STEP_JOB,
    WATCHDOG_JOB,
    Flight,
    Snapshot,
    SyncRef,
    deleted_message,
    end,
    end_in,
    enqueue_step,
    enqueue_watchdog,
    flag_held_elsewhere,
    load,
    retried_step,
)
from addon.initial_sync.step import Step
from addon.jobs.registry import HandlerRegistry
from addon.jobs.retry import Failure, RetryPolicy, error_text
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.mailchimp import InvalidCredentials, MailchimpError, NotFound, StorePatch
from addon.saleor.client import SaleorError
from addon.services import Services

STALLED = "The sync stopped making progress."

# An ended sync waiting for Mailchimp to be connected again looks this often (one read of the
# connection): the store's automations wait at most this long after the reconnection.
RECONNECT_LOOK_SECONDS = 300.0

STEP_RETRY = RetryPolicy(
    max_attempts=lambda settings: settings.initial_sync_max_attempts,
    expected=(MailchimpError, SaleorError, DependencyFailed),
)


async def _until_connected(services: Services, run: Snapshot) -> None:
    """Mailchimp is not connected (or refuses the credentials): raise `RetryLater` while the
    ended sync still waits for the account (`RECONNECT_WAIT` after its end); return when it
    lets go. Its batches and the store's `is_syncing` are the account's: only a connection
    reaches them, and reconnecting the same account keeps the sync's state (another account,
    or the account's data forgotten, deletes the sync, and with it this wait, once the flag
    was released or named as left: see the module docstring)."""
    async with services.db.session() as session:
        row = await session.get(InitialSync, run.id)
        ended = row.finished_at if row is not None else None
    if ended is not None and utcnow() - ended < RECONNECT_WAIT:
        raise RetryLater(
            "Waiting for Mailchimp to be connected again: the initial sync's batches and the "
            "store's syncing flag (its automations held) are the account's",
            RECONNECT_LOOK_SECONDS,
        )


async def _unflag(services: Services, run: Snapshot) -> None:
    async with services.db.session() as session:
        store = await StoreRepository(session).get(run.installation_id, run.channel)
        # A re-created store's re-send clears the flag at its own end (ecommerce/resend.py),
        # and another sync holding it too, at its own (`flag_held_elsewhere`).
        resending = store is not None and store.resend_started_at is not None
        elsewhere = await flag_held_elsewhere(session, run)
        # A store deleted in Mailchimp took its flag with it.
        gone = store is not None and store.missing_since is not None
        held = store is not None and not (resending or elsewhere or gone)
        store_id = store.store_id if store is not None and held else None
    if store_id is not None:
        try:
            async with mailchimp_for(services, run.installation_id) as client:
                await client.update_store(store_id, StorePatch(is_syncing=False))
        except (NotConnected, InvalidCredentials):
            # Not reachable now: waited for (`_until_connected`), then let go.
            await _until_connected(services, run)
        except NotFound:
            pass  # the store is gone (deleted in Mailchimp), and its flag with it
    async with services.db.transaction() as session:
        row = await session.get(InitialSync, run.id)
        if row is not None:
            row.store_flagged = False


async def _settle(services: Services, run: Snapshot, flights: list[Flight]) -> bool:
    """An ended sync's batches still at Mailchimp, looked at (`ended`); True: the next step is
    queued. Without a Mailchimp connection nothing of them can be known or run: waited for
    (`_until_connected`), then let go."""
    try:
        async with mailchimp_for(services, run.installation_id) as client:
            delay = await ended.settle(services, client, run, flights)
    except (NotConnected, InvalidCredentials):
        await _until_connected(services, run)
        return False
    async with services.db.transaction() as session:
        await enqueue_step(session, run.installation_id, run.id, run.channel, delay)
    return True


def _then(run: Snapshot) -> Then:
    async def then(session: AsyncSession, delay: float) -> None:
        await enqueue_step(session, run.installation_id, run.id, run.channel, delay)

    return then


async def step_job(job: ClaimedJob, ref: SyncRef, services: Services) -> None:
    loaded = await load(services, ref.sync_id)
    if loaded is None:
        return
    run, flights = loaded
    if run.status is not RunStatus.RUNNING:
        try:
            if flights and await _settle(services, run, flights):
                return
            if run.store_flagged and await wait_for_handoffs(services, run.id, _then(run)):
                return  # the pushes it handed over go first, the automations still held
            if run.store_flagged:
                await _unflag(services, run)
        except STEP_RETRY.expected as exc:
            # Not given up (see the module docstring): looked at again after a backoff.
            delay = STEP_RETRY.delay(job.attempts, services.settings)
            raise RetryLater(error_text(exc), delay, counted=True) from exc
        return
    try:
        context = await load_context(services, run.installation_id, run.channel)
        if context is None:
            await end(
                services, run.id, RunStatus.FAILED, "E-commerce tracking of the channel is off."
            )
            return
        if context.store_missing:
            # Deleted in Mailchimp (`store_state`): every batch would be refused; the admin
            # re-creates the store.
            name = context.store_name or run.channel
            await end(services, run.id, RunStatus.FAILED, deleted_message(name))
            return
        async with mailchimp_for(services, run.installation_id) as client:
            await Step(services, run, context, client).execute(flights)
    except NotConnected as exc:
        await end(services, run.id, RunStatus.FAILED, str(exc))
    except InvalidCredentials as exc:
        await end(services, run.id, RunStatus.FAILED, f"Mailchimp is not connected: {exc}")


async def step_failed(
    session: AsyncSession, job: ClaimedJob, ref: SyncRef, failure: Failure
) -> None:
    """The worker gave the step up: the sync fails with the step's last error."""
    if failure.gave_up:
        await end_in(session, ref.sync_id, RunStatus.FAILED, failure.reason)


async def watchdog_job(job: ClaimedJob, ref: SyncRef, services: Services) -> None:
    """Fail a sync that stopped making progress (see the module docstring)."""
    sync_id = ref.sync_id
    stall = timedelta(seconds=services.settings.initial_sync_stall_seconds)
    async with services.db.transaction() as session:
        run = await session.get(InitialSync, sync_id, with_for_update=True)
        if run is None or run.status is not RunStatus.RUNNING:
            return
        now = utcnow()
        if now - run.last_progress_at >= stall:
            if await retried_step(session, run, services.settings) is None:
                await end_in(session, sync_id, RunStatus.FAILED, STALLED)
                return
            # Waiting for the worker's retries, not stalled; once the service answers again,
            # the sync has a stall time to move on.
            run.last_progress_at = now
        await enqueue_watchdog(session, run.installation_id, sync_id, run.last_progress_at + stall)


def register(registry: HandlerRegistry[Services]) -> None:
    registry.register(STEP_JOB, step_job, payload=SyncRef, retry=STEP_RETRY, on_failure=step_failed)
    registry.register(WATCHDOG_JOB, watchdog_job, payload=SyncRef)
