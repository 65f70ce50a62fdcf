"""The initial sync's worker jobs: the step that moves a sync on, and its watchdog.

Owns what a job does with its sync and with failures: a step of a sync no longer running
clears Mailchimp's `is_syncing` (every end — success, cancel, failure — does); a lost connection
fails the sync; a failing Mailchimp or Saleor call is retried with the worker's backoff until
`INITIAL_SYNC_MAX_ATTEMPTS`, then fails it. The watchdog fails a sync that made no progress for
`INITIAL_SYNC_STALL_SECONDS` (its steps keep failing or were lost).
"""

from __future__ import annotations

from datetime import timedelta

from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.ecommerce.repository import StoreRepository
from addon.ecommerce.sync import DependencyFailed, load_context
from addon.initial_sync.models import InitialSync, RunStatus
from addon.initial_sync.state import (
    STEP_JOB,
    WATCHDOG_JOB,
    Snapshot,
    end,
    enqueue_watchdog,
    load,
)
from addon.initial_sync.step import Step
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.jobs.worker import HandlerRegistry, backoff_delay
from addon.mailchimp import InvalidCredentials, MailchimpError, StorePatch
from addon.saleor.client import SaleorError
from addon.services import Services


async def _unflag(services: Services, run: Snapshot) -> None:
    async with services.db.session() as session:
        store = await StoreRepository(session).get(run.installation_id, run.channel)
        store_id = store.store_id if store is not None else None
    if store_id is not None:
        try:
            async with mailchimp_for(services, run.installation_id) as client:
                await client.update_store(store_id, StorePatch(is_syncing=False))
        except (NotConnected, InvalidCredentials):
            pass  # the account is gone: there is no flag left to clear
    async with services.db.transaction() as session:
        row = await session.get(InitialSync, run.id)
        if row is not None:
            row.store_flagged = False


async def step_job(job: ClaimedJob, services: Services) -> None:
    loaded = await load(services, int(job.payload["sync_id"]))
    if loaded is None:
        return
    run, flights = loaded
    settings = services.settings
    try:
        if run.status is not RunStatus.RUNNING:
            if run.store_flagged:
                await _unflag(services, run)
            return
        context = await load_context(services, run.installation_id, run.channel)
        if context is None:
            await end(
                services, run.id, RunStatus.FAILED, "E-commerce tracking of the channel is off."
            )
            return
        async with mailchimp_for(services, run.installation_id) as client:
            await Step(services, run, context, client).execute(flights)
    except (NotConnected, InvalidCredentials) as exc:
        await end(services, run.id, RunStatus.FAILED, f"Mailchimp is not connected: {exc}")
    except (MailchimpError, SaleorError, DependencyFailed) as exc:
        reason = str(exc)[:2000] or type(exc).__name__
        if run.status is RunStatus.RUNNING and job.attempts >= settings.initial_sync_max_attempts:
            await end(services, run.id, RunStatus.FAILED, reason)
            return
        raise RetryLater(
            reason,
            backoff_delay(
                job.attempts,
                settings.worker_backoff_base_seconds,
                settings.worker_backoff_max_seconds,
            ),
        ) from exc


async def watchdog_job(job: ClaimedJob, services: Services) -> None:
    """Fail a sync that stopped making progress (its steps keep failing or were lost)."""
    sync_id = int(job.payload["sync_id"])
    stall = timedelta(seconds=services.settings.initial_sync_stall_seconds)
    async with services.db.session() as session:
        run = await session.get(InitialSync, sync_id)
        if run is None or run.status is not RunStatus.RUNNING:
            return
        last, installation_id = run.last_progress_at, run.installation_id
    if utcnow() - last >= stall:
        await end(services, sync_id, RunStatus.FAILED, "The sync stopped making progress.")
        return
    async with services.db.transaction() as session:
        await enqueue_watchdog(session, installation_id, sync_id, last + stall)


def register(registry: HandlerRegistry) -> None:
    registry.register(STEP_JOB, step_job)
    registry.register(WATCHDOG_JOB, watchdog_job)
