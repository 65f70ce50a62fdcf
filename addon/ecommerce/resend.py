"""A re-created store is sent the channel's records again with its automations paused.

Re-creating a store deleted in Mailchimp sends every record of the ledger to the new, empty
store, each as new. Mailchimp runs the store's automations on what it receives unless the
store `is_syncing` ("Whether to disable automations because the store is currently syncing",
the spec's `E-commerce Store`), so old orders could start order notifications or
purchase follow-ups to shoppers about purchases long past, as Mailchimp's own integrations
avoid by syncing history under the flag (the initial sync does too, `addon/initial_sync`).

So the re-create records since when and up to which ledger record the channel is being sent
again (`MailchimpStore.resend_started_at`, `resend_up_to`); the store is created with
`is_syncing` (`CatalogPusher.push_store`), and `ecommerce.resend_watch` clears the flag once
none of those records waits any more (each synced, quarantined or removed). Records made or
changed since are live and do not hold it. A channel's initial sync running then keeps the
flag for its own end, and its end leaves the flag to the watch while a re-send runs. After
`RESEND_LIMIT` the flag is cleared whatever still waits: automations paused for good would be
worse than a few late records. Letting go of the account mid-re-send clears the flag with the
credentials about to go when the account's data goes (the re-send goes with it), and keeps it
for this watch once the same account is reconnected after a reset keeping the data
(`initial_sync/release.py`, the connection's `LET_GO`).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.ecommerce.channel_state import LATEST_INITIAL_SYNC, RunStatus
from addon.ecommerce.models import MailchimpStore, SyncRecord, SyncStatus
from addon.ecommerce.stores_repository import StoreRepository
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.mailchimp import MailchimpError, NotFound, StorePatch
from addon.services import Services

logger = logging.getLogger(__name__)

RESEND_WATCH_JOB = "ecommerce.resend_watch"
WATCH_SECONDS = 30.0
RESEND_LIMIT = timedelta(hours=12)


class ResendWatch(BaseModel):
    """The `ecommerce.resend_watch` job: clear a re-created store's `is_syncing` when done."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str


async def start_resend(session: AsyncSession, store: MailchimpStore) -> None:
    """Mark the channel's records queued so far as a re-send, and watch for its end."""
    store.resend_started_at = utcnow()
    store.resend_up_to = await session.scalar(
        select(func.max(SyncRecord.id)).where(
            SyncRecord.installation_id == store.installation_id,
            SyncRecord.channel_slug == store.channel_slug,
        )
    )
    await watch(session, store)


async def watch(session: AsyncSession, store: MailchimpStore) -> None:
    """Watch the store's re-send for its end (again, once its channel has a new slug)."""
    await JobRepository(session).enqueue(
        store.installation_id,
        RESEND_WATCH_JOB,
        ResendWatch(channel=store.channel_slug).model_dump(),
        coalesce_key=f"{RESEND_WATCH_JOB}:{store.channel_slug}",
        run_after=utcnow() + timedelta(seconds=WATCH_SECONDS),
    )


def end_resend(store: MailchimpStore) -> None:
    store.resend_started_at = None
    store.resend_up_to = None


async def _waiting(session: AsyncSession, store: MailchimpStore) -> int:
    """The re-send's records still to go: pending, and not pushed since it began."""
    assert store.resend_started_at is not None
    statement = select(func.count(SyncRecord.id)).where(
        SyncRecord.installation_id == store.installation_id,
        SyncRecord.channel_slug == store.channel_slug,
        SyncRecord.id <= (store.resend_up_to or 0),
        SyncRecord.status == SyncStatus.PENDING,
        or_(SyncRecord.pushed_at.is_(None), SyncRecord.pushed_at < store.resend_started_at),
    )
    return int(await session.scalar(statement) or 0)


async def handle_resend_watch(job: ClaimedJob, request: ResendWatch, services: Services) -> None:
    installation_id = job.installation_id
    async with services.db.session() as session:
        store = await StoreRepository(session).get(installation_id, request.channel)
        if store is None or store.resend_started_at is None:
            return
        started, store_id = store.resend_started_at, store.store_id
        waiting = await _waiting(session, store)
        latest = services.ports[LATEST_INITIAL_SYNC]
        syncing = await latest(session, installation_id, request.channel) is RunStatus.RUNNING
    expired = utcnow() - started >= RESEND_LIMIT
    if (waiting or syncing) and not expired:
        raise RetryLater(f"{waiting} records of the re-created store still to send", WATCH_SECONDS)
    if waiting:
        logger.warning(
            "Re-created store of channel %s: automations resumed with %d records still to send",
            request.channel,
            waiting,
        )
    if not syncing:
        try:
            async with mailchimp_for(services, installation_id) as client:
                await client.update_store(store_id, StorePatch(is_syncing=False))
        except NotFound:
            pass  # deleted again: nothing to resume; the pushes will notice
        except NotConnected as exc:
            raise RetryLater(f"Mailchimp is not connected: {exc}", WATCH_SECONDS) from exc
        except MailchimpError as exc:
            # Never given up: quarantined, the watch would leave the store's automations
            # paused for good. Backs off by its attempts.
            raise RetryLater(
                f"Mailchimp did not resume the store's automations: {exc}",
                WATCH_SECONDS,
                counted=True,
            ) from exc
    async with services.db.transaction() as session:
        store = await StoreRepository(session).get(installation_id, request.channel)
        if store is not None and store.resend_started_at == started:
            end_resend(store)


def register(registry: HandlerRegistry) -> None:
    registry.register(RESEND_WATCH_JOB, handle_resend_watch, payload=ResendWatch)
