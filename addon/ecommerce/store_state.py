"""A channel's Mailchimp store as it really is: found missing after it was deleted in Mailchimp.

A store deleted in Mailchimp takes its products, customers, orders and carts with it. The app
notices on a 404 for the store in any push (confirmed by ``GET /ecommerce/stores/{id}``) and on
the E-commerce page's explicit check; from then on pushes of the channel wait (their records
stay pending and say why) until the admin re-creates the store, which resends everything.
Nothing re-creates it silently: the admin may have deleted it on purpose.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.ecommerce.ledger_statements import locking_kinds
from addon.ecommerce.models import EntityKind, MailchimpStore, SyncRecord, SyncStatus
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.stores_repository import StoreRepository
from addon.mailchimp import InvalidCredentials, MailchimpClient, MailchimpError, NotFound, paths
from addon.services import Services

logger = logging.getLogger(__name__)


class StoreStatus(StrEnum):
    NOT_CREATED = "not_created"  # never tracked, or tracked and not pushed yet
    CREATING = "creating"  # the store's push is queued or running
    READY = "ready"  # Mailchimp holds the store
    MISSING = "missing"  # deleted in Mailchimp: re-create it
    FAILED = "failed"  # creating or updating it failed; the store message says why


def missing_message(name: str) -> str:
    return (
        f"The Mailchimp store for {name} no longer exists in Mailchimp (it was deleted there). "
        "Re-create it to send the channel's data again."
    )


def store_status(store: MailchimpStore | None, record: SyncRecord | None) -> StoreStatus:
    if store is not None and store.missing_since is not None:
        return StoreStatus.MISSING
    if store is None or record is None:
        return StoreStatus.NOT_CREATED
    if record.status is SyncStatus.QUARANTINED or record.last_error:
        return StoreStatus.FAILED
    if record.status is SyncStatus.SYNCED or record.mailchimp_id is not None:
        return StoreStatus.READY  # a queued update of an existing store changes nothing here
    return StoreStatus.CREATING if store.tracked else StoreStatus.NOT_CREATED


def is_store_404(exc: BaseException, store_id: str) -> bool:
    """A 404 for the store or anything in it (possibly the cause of a wrapped failure)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, NotFound) and paths.store(store_id) in seen.path:
            return True
        seen = seen.__cause__
    return False


async def store_exists(client: MailchimpClient, store_id: str) -> bool:
    """One cheap GET; only a 404 means missing (other errors propagate)."""
    try:
        await client.get_store(store_id)
    except NotFound:
        return False
    return True


async def mark_missing(session: AsyncSession, store: MailchimpStore) -> None:
    if store.missing_since is not None:
        return
    logger.warning(
        "Mailchimp store %s of channel %s is missing (deleted in Mailchimp)",
        store.store_id,
        store.channel_slug,
    )
    store.missing_since = utcnow()
    record = await LedgerRepository(session).get_or_create(
        store.installation_id, store.channel_slug, EntityKind.STORE, store.channel_slug
    )
    record.status = SyncStatus.PENDING
    record.mailchimp_id = None
    record.content_hash = None
    record.last_error = missing_message(store.name or store.channel_slug)
    await session.flush()


async def forget_store_contents(session: AsyncSession, store: MailchimpStore) -> None:
    """The store is gone with everything in it: every record is to be created afresh."""
    store.missing_since = None
    channel = (SyncRecord.installation_id == store.installation_id) & (
        SyncRecord.channel_slug == store.channel_slug
    )
    # Locked kind by kind in id order before any is written, as every writer of many records
    # does (`ledger_statements.locking_kinds`): one UPDATE took them in its scan's order.
    locked = locking_kinds(select(SyncRecord.id).where(channel))
    await session.execute(
        update(SyncRecord)
        .where(SyncRecord.id.in_(locked.scalar_subquery()))
        .values(mailchimp_id=None, content_hash=None, children={}, last_error=None)
    )
    await session.flush()


async def park(
    services: Services,
    installation_id: int,
    channel: str,
    kind: EntityKind,
    saleor_id: str,
    why: str | None = None,
) -> None:
    """A push of a channel whose store is missing (or `why` else, a channel Saleor no longer
    has: `channel_presence.py`): the record waits and says why."""
    async with services.db.transaction() as session:
        store = await StoreRepository(session).get(installation_id, channel)
        if store is None or not store.tracked:
            # Switched to a new slug (`channel_follow.py`) or untracked while the push ran: its
            # record moved with the store (pending, so the switch queued it again) or waits for
            # the channel to be tracked again. A record made here would never be sent.
            return
        record = await LedgerRepository(session).get_or_create(
            installation_id, channel, kind, saleor_id
        )
        if record.status is not SyncStatus.REMOVED:
            record.status = SyncStatus.PENDING
        record.next_attempt_at = None
        record.last_error = why or missing_message(store.name if store and store.name else channel)


async def confirm_missing(
    services: Services, client: MailchimpClient, installation_id: int, channel: str, store_id: str
) -> bool:
    """After a 404 under the store: ask Mailchimp whether the store itself is gone."""
    if await store_exists(client, store_id):
        return False
    async with services.db.transaction() as session:
        store = await StoreRepository(session).get(installation_id, channel)
        if store is not None and store.store_id == store_id:
            await mark_missing(session, store)
    return True


async def check_stores(services: Services, installation_id: int) -> list[tuple[str, str]]:
    """The E-commerce page's check: is every created store still in Mailchimp? Answers the
    (channel, store id) of those Mailchimp no longer has; `mark_gone` records them.

    One ``GET /ecommerce/stores/{id}`` per tracked channel, with no transaction open while
    Mailchimp answers (the stores are read in a short session; a revoked key is recorded by
    ``mailchimp_for`` in a transaction of its own). Mailchimp being unreachable or unconnected
    skips the check: the page still loads.
    """
    async with services.db.session() as session:
        stores = await StoreRepository(session).tracked(installation_id)
        created = {
            r.channel_slug
            for r in await LedgerRepository(session).select(
                installation_id, kinds=[EntityKind.STORE]
            )
            if r.mailchimp_id is not None or r.status is SyncStatus.SYNCED
        }
        wanted = [
            (s.channel_slug, s.store_id)
            for s in stores
            if s.channel_slug in created and s.missing_since is None
        ]
    if not wanted:
        return []
    gone: list[tuple[str, str]] = []
    try:
        async with mailchimp_for(services, installation_id) as client:
            for channel, store_id in wanted:
                if not await store_exists(client, store_id):
                    gone.append((channel, store_id))
    except (NotConnected, InvalidCredentials):
        return []
    except MailchimpError as exc:
        logger.warning("Could not check the Mailchimp stores: %r", exc)
    return gone


async def mark_gone(
    session: AsyncSession, installation_id: int, gone: list[tuple[str, str]]
) -> None:
    """Mark missing the stores `check_stores` found gone (unless re-created since)."""
    stores = StoreRepository(session)
    for channel, store_id in gone:
        store = await stores.get(installation_id, channel)
        if store is not None and store.store_id == store_id:
            await mark_missing(session, store)
