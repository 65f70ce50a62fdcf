"""Following a tracked channel to the slug Saleor lists it under now (`channelUpdate` changed it):
the page's *Switch to 'new-slug'*.

The app knows a channel by its slug (`channel_presence.py`): after the change, its store, ledger
and carts' records are under a slug Saleor no longer has, and the channel's webhooks come under
the new one, which is not tracked. Following moves them to the new slug in one transaction, so
the same Mailchimp store goes on with the same records (nothing is sent again that Mailchimp
holds), and queues the pushes its records parked, which send what changed meanwhile; a re-created
store's re-send is watched under the new slug. What was created under the new slug before
(orders placed, checkouts started) reached no push: the answer says so, and the initial sync,
offered next, sends it.

Found by the channel's Saleor id (kept since tracking, or learnt at the first push after the
upgrade that kept it); without it, the channel cannot be followed (Stop tracking, then track the
new slug). Its initial syncs move with it (`MOVE_INITIAL_SYNCS`: one cancelled but still to
clear the store's `is_syncing` finds the store there); one running refuses the follow.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce import resend
from addon.ecommerce.cart_models import RestoredCheckout, StoreCheck
from addon.ecommerce.channel_presence import Whereabouts, listed_as, send_parked
from addon.ecommerce.channel_state import LATEST_INITIAL_SYNC, MOVE_INITIAL_SYNCS, RunStatus
from addon.ecommerce.ledger_statements import locking_kinds
from addon.ecommerce.models import BurstBatch, EntityKind, MailchimpStore, SyncRecord
from addon.ecommerce.offer_dates import OFFER_JOB
from addon.ecommerce.page_schemas import ActionResult
from addon.ecommerce.promo_codes import CODES_JOB
from addon.ecommerce.promo_models import PromoUsage
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.reprice import REPRICE_JOB
from addon.ecommerce.saleor_schemas import SaleorChannel
from addon.ecommerce.stores_repository import StoreRepository
from addon.errors import Conflict, ErrorCode, NotFound
from addon.jobs.models import Job, JobStatus
from addon.services import Services

# Jobs waiting with the channel's slug in their payload, keys and lane (`<prefix>:<slug>:…`): a
# re-price pass, a product's push at its offer date, a voucher's promo-code batch to apply. Left
# under the old slug, each would find no store there and do nothing.
WAITING_JOBS = (REPRICE_JOB, OFFER_JOB, CODES_JOB)


async def follow(
    session: AsyncSession,
    services: Services,
    old: str,
    store: MailchimpStore | None,
    channels: list[SaleorChannel],
    sending: bool,
) -> ActionResult:
    """Move the store of channel `old` to its new slug (`channels`: Saleor's, read before the
    transaction began). 409 `CHANNEL_NOT_RENAMED` unless Saleor lists the store's channel id
    under another slug that has no store of its own; 409 `INITIAL_SYNC_RUNNING` while one runs
    (its steps know the channel by its old slug)."""
    if store is None or not store.tracked:
        raise NotFound(f"The channel {old!r} is not tracked.", code=ErrorCode.CHANNEL_NOT_TRACKED)
    if not sending:
        # What its pushes parked is queued by the follow: dropped while nothing is sent.
        raise Conflict(
            "E-commerce tracking is off: turn sending on first.", code=ErrorCode.TRACKING_OFF
        )
    latest = services.ports[LATEST_INITIAL_SYNC]
    if await latest(session, store.installation_id, old) is RunStatus.RUNNING:
        raise Conflict(
            f"An initial sync of {store.name or old} is running: cancel it or let it end first.",
            code=ErrorCode.INITIAL_SYNC_RUNNING,
        )
    new = Whereabouts.of(store.channel_id, channels).renamed_to if store.channel_id else None
    listed = next((c for c in channels if c.slug == old), None)
    if listed_as(listed, store.channel_id) or new is None:
        raise Conflict(
            f"Saleor lists no channel {old!r} under another slug to follow: stop tracking it "
            "instead.",
            code=ErrorCode.CHANNEL_NOT_RENAMED,
        )
    installation_id = store.installation_id
    if await StoreRepository(session).get(installation_id, new) is not None:
        raise Conflict(
            f"The channel {new!r} has a Mailchimp store of its own: stop tracking {old!r} instead.",
            code=ErrorCode.CHANNEL_NOT_RENAMED,
        )
    ledger = LedgerRepository(session)
    await ledger.forget_channel(installation_id, new)  # leftovers of an earlier store, if any
    await _move(session, installation_id, old, new)
    await _move_jobs(session, installation_id, old, new)
    await services.ports[MOVE_INITIAL_SYNCS](session, installation_id, old, new)
    now = next(c for c in channels if c.slug == new)
    store.channel_slug, store.name, store.channel_missing_since = new, now.name, None
    await session.flush()
    queued = await send_parked(session, store)
    if store.resend_started_at is not None:
        # A re-created store being sent again: its watch, queued under the old slug, would
        # find no store and leave its automations paused.
        await resend.watch(session, store)
    return ActionResult(
        queued=queued,
        message=f"{now.name} now goes to Mailchimp as {new!r}, in the same store. Orders "
        "and carts created after the slug changed were not sent: run the initial sync to "
        "send them.",
    )


async def _move(session: AsyncSession, installation_id: int, old: str, new: str) -> None:
    """Every row of the channel under its new slug. Its batches and records are locked first,
    in the order a burst takes them (`LedgerRepository.forget_channel` says why)."""
    batches = (BurstBatch.installation_id == installation_id) & (BurstBatch.channel_slug == old)
    records = (SyncRecord.installation_id == installation_id) & (SyncRecord.channel_slug == old)
    await session.execute(
        select(BurstBatch.id).where(batches).order_by(BurstBatch.id).with_for_update()
    )
    locked = locking_kinds(select(SyncRecord.id).where(records)).scalar_subquery()
    await session.execute(
        update(SyncRecord).where(SyncRecord.id.in_(locked)).values(channel_slug=new)
    )
    # The store's own record is named by its channel's slug.
    await session.execute(
        update(SyncRecord)
        .where(
            SyncRecord.installation_id == installation_id,
            SyncRecord.channel_slug == new,
            SyncRecord.kind == EntityKind.STORE,
            SyncRecord.saleor_id == old,
        )
        .values(saleor_id=new)
    )
    await session.execute(update(BurstBatch).where(batches).values(channel_slug=new))
    # Rows unique by slug: any left under the new one (an earlier store's) make way.
    for unique in (StoreCheck, PromoUsage):
        await session.execute(
            delete(unique).where(
                unique.installation_id == installation_id, unique.channel_slug == new
            )
        )
    for table in (StoreCheck, PromoUsage, RestoredCheckout):
        await session.execute(
            update(table)
            .where(table.installation_id == installation_id, table.channel_slug == old)
            .values(channel_slug=new)
        )


async def _move_jobs(session: AsyncSession, installation_id: int, old: str, new: str) -> None:
    """The `WAITING_JOBS` of the channel under its new slug; any under the new slug already (an
    earlier store's) make way, as at most one job waits per key."""
    waiting = await session.scalars(
        select(Job)
        .where(
            Job.installation_id == installation_id,
            Job.kind.in_(WAITING_JOBS),
            Job.status == JobStatus.PENDING,
        )
        .order_by(Job.id)
        .with_for_update()
    )
    jobs = list(waiting)
    for job in jobs:
        if job.payload.get("channel") == new:
            await session.delete(job)
    await session.flush()
    for job in jobs:
        if job.payload.get("channel") == old:
            job.payload = {**job.payload, "channel": new}
            job.coalesce_key = _renamed(job.coalesce_key, old, new)
            job.lane = _renamed(job.lane, old, new)


def _renamed(key: str | None, old: str, new: str) -> str | None:
    """`<prefix>:<old>:…` as `<prefix>:<new>:…`. A slug holds no colon: Saleor slugifies it
    (saleor/graphql/channel/mutations/channel_create.py and channel_update.py, `slugify`)."""
    if key is None:
        return None
    prefix, found, rest = key.partition(f":{old}:")
    return f"{prefix}:{new}:{rest}" if found and ":" not in prefix else key
