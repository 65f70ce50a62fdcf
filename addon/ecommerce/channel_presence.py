"""A tracked channel Saleor no longer has: deleted there, or its slug changed.

The app keys a channel's Mailchimp store, ledger and jobs by the channel's slug, and Saleor
answers a query in a slug no channel has with nothing rather than an error (`product` null,
`products` and `orders` empty: saleor/graphql/product/schema.py `resolve_products`, product/
managers.py `visible_to_user`, order/resolvers.py `resolve_orders`). Taken at its word, that
answer would hide every product of the channel in Mailchimp one push at a time, delete its
vouchers' promo rules and drop its carts. So where a push finds less than it expected (a product
or a voucher's listing missing, an order or a checkout now in another slug, the store's channel
missing), it asks Saleor's channel list first, and checks the channel's id where the store knows
it (a slug can be taken by another channel later). A tracked channel not in it is marked
(`MailchimpStore.channel_missing_since`): its pushes wait and say why, as those of a store deleted
in Mailchimp do (`store_state.park`), and so do those of what changes meanwhile.

Saleor sends CHANNEL_UPDATED and CHANNEL_DELETED only to apps with MANAGE_CHANNELS, which the
app does not ask for; the `channels` query needs none. The E-commerce page reads the list on
every load (`reconcile`): it marks what is gone, names the slug Saleor lists the channel's id
under now (`channel_follow.py` moves the store there), and unmarks a channel listed again,
sending what its pushes parked.

The list also says whether each channel is active. A deactivated channel shows and sells
nothing (saleor/product/managers.py `ProductsQueryset.published`, `ProductVariantQueryset.
visible_to_user`: "if not channel or not channel.is_active: return self.none()"), so its
products go to Mailchimp hidden (`publication.py`). Saleor tells of channelDeactivate and
channelActivate only by CHANNEL_STATUS_CHANGED, sent to apps with MANAGE_CHANNELS. So the page
load and the daily product sweep (`product_sweep.py`) compare the list with the state the store
last saw (`MailchimpStore.channel_inactive_since`, `note_activity`); a change queues a push of
each of the channel's products (`reprice.queue_reprice_now`), each sending what changed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce import store_state
from addon.ecommerce.context import Context
from addon.ecommerce.ledger_statements import locking_kinds
from addon.ecommerce.models import EntityKind, MailchimpStore, SyncRecord, SyncStatus
from addon.ecommerce.push_ledger import DependencyFailed
from addon.ecommerce.push_queue import enqueue_pushes
from addon.ecommerce.reprice import queue_reprice_now
from addon.ecommerce.saleor_schemas import ProductPublication, SaleorChannel
from addon.ecommerce.store_state import StoreStatus
from addon.ecommerce.stores_repository import StoreRepository
from addon.errors import Conflict, ErrorCode
from addon.services import Services

logger = logging.getLogger(__name__)


class ChannelGone(DependencyFailed):
    """Saleor lists no channel of the push's slug (confirmed by `ensure_listed`)."""


@dataclass(frozen=True)
class Whereabouts:
    """What Saleor's channel list says of a channel whose slug it no longer lists."""

    renamed_to: str | None = None  # the slug it lists the channel's id under now
    deleted: bool = False  # the channel's id is known and listed under no slug
    taken: bool = False  # the new slug has a Mailchimp store of its own: no following there

    @property
    def followable(self) -> bool:
        return self.renamed_to is not None and not self.taken

    def words(self) -> str:
        if self.renamed_to:
            return f"its slug changed to {self.renamed_to!r}"
        if self.deleted:
            return "it was deleted"
        return "it was deleted, or its slug changed"

    def card(self) -> str:
        """What happened, as the channel's card says it."""
        if self.renamed_to and self.taken:
            return (
                f"This channel's slug changed in Saleor to {self.renamed_to!r}, which has a "
                "Mailchimp store of its own"
            )
        if self.renamed_to:
            return f"This channel's slug changed in Saleor to {self.renamed_to!r}"
        if self.deleted:
            return "This channel was deleted in Saleor"
        return "This channel is no longer in Saleor (deleted, or its slug changed)"

    @classmethod
    def of(cls, channel_id: str | None, channels: list[SaleorChannel]) -> Whereabouts:
        if channel_id is None:
            return cls()
        renamed_to = next((c.slug for c in channels if c.id == channel_id), None)
        return cls(renamed_to=renamed_to, deleted=renamed_to is None)


def gone_message(name: str, slug: str, whereabouts: Whereabouts | None = None) -> str:
    return (
        f"Saleor has no channel {slug!r} ({name}) any more: "
        f"{(whereabouts or Whereabouts()).words()}. Its changes are not sent to Mailchimp."
    )


def listed_as(channel: SaleorChannel | None, channel_id: str | None) -> bool:
    """`channel` (Saleor's of the slug, if any) is the one the store was made for: a slug can
    be taken by another channel once its own was deleted or given another slug."""
    return channel is not None and (channel_id is None or channel.id in (None, channel_id))


def store_status(
    store: MailchimpStore | None, record: SyncRecord | None, waits: bool
) -> StoreStatus:
    """The store's status on the page; `waits`: Saleor no longer lists its channel. Then the
    store's own push waits too, with a note the card says in its words: no store failure."""
    status = store_state.store_status(store, record)
    if waits and status is StoreStatus.FAILED:
        created = record is not None and record.mailchimp_id is not None
        return StoreStatus.READY if created else StoreStatus.NOT_CREATED
    return status


def refuse_if_gone(store: MailchimpStore) -> None:
    """Sending a channel Saleor no longer has (a resync, a retry, an initial sync) is refused,
    rather than queued to wait."""
    if store.channel_missing_since is not None:
        raise Conflict(
            gone_message(store.name or store.channel_slug, store.channel_slug),
            code=ErrorCode.CHANNEL_MISSING,
        )


async def saleor_channels(services: Services, ctx: Context) -> list[SaleorChannel]:
    data = await services.saleor.execute(ctx.api_url, ctx.token, "ecommerce_channels", {})
    return [SaleorChannel.model_validate(c) for c in data.get("channels") or []]


async def ensure_listed(services: Services, ctx: Context) -> None:
    """`ChannelGone` unless Saleor still lists the push's channel. Asked only where an answer
    came back short, which a channel of that slug explains as well (a deleted product)."""
    channels = await saleor_channels(services, ctx)
    listed = next((c for c in channels if c.slug == ctx.channel), None)
    if not listed_as(listed, ctx.channel_id):
        raise channel_gone(ctx, channels)


def another_channel(ctx: Context, channel_id: str | None) -> bool:
    """What Saleor answered in the push's slug belongs to another channel than the store's: one
    that took the slug after the store's channel was given another or deleted."""
    return None not in (ctx.channel_id, channel_id) and channel_id != ctx.channel_id


def listing_id(listings: Sequence[ProductPublication] | None, slug: str) -> str | None:
    """The id of the channel a product is listed in under `slug`, if it says."""
    return next((cl.channel.id for cl in listings or [] if cl.channel.slug == slug), None)


def channel_gone(ctx: Context, channels: list[SaleorChannel]) -> ChannelGone:
    """The push's channel is not among `channels` (Saleor's list) under its slug."""
    whereabouts = Whereabouts.of(ctx.channel_id, channels)
    return ChannelGone(gone_message(ctx.store_name or ctx.channel, ctx.channel, whereabouts))


async def mark_gone(services: Services, installation_id: int, channel: str) -> None:
    """Record what `ensure_listed` found: the channel's pushes wait from now on."""
    async with services.db.transaction() as session:
        store = await StoreRepository(session).get(installation_id, channel)
        if store is not None and store.channel_missing_since is None:
            _mark(store)


def _mark(store: MailchimpStore) -> None:
    logger.warning(
        "Channel %s of installation %s is no longer in Saleor: its pushes wait",
        store.channel_slug,
        store.installation_id,
    )
    store.channel_missing_since = utcnow()


async def learn_id(services: Services, ctx: Context) -> None:
    """`remember_id` for a push that reads no channel list of its own."""
    channels = await saleor_channels(services, ctx)
    listed = next((c for c in channels if c.slug == ctx.channel), None)
    if listed is not None and listed.id:
        await remember_id(services, ctx, listed.id)


async def remember_id(services: Services, ctx: Context, channel_id: str) -> None:
    """A store tracked before the app kept channel ids learns its own at its channel's first
    read (`CatalogPusher.push_store`), so that a later new slug can be followed."""
    async with services.db.transaction() as session:
        store = await StoreRepository(session).get(ctx.installation_id, ctx.channel)
        if store is not None and store.channel_id is None:
            store.channel_id = channel_id
    ctx.channel_id = channel_id


async def reconcile(
    session: AsyncSession,
    stores: Iterable[MailchimpStore],
    channels: list[SaleorChannel],
    sending: bool,
) -> dict[str, Whereabouts]:
    """The stores against Saleor's channel list, as the E-commerce page reads it: a tracked
    store whose channel Saleor does not list under its slug is marked; a marked one listed
    again is unmarked and what its pushes parked is sent; each learns its channel's id; one
    whose channel was deactivated or activated again has its products pushed (`note_activity`).
    Returns what the list says of each store's channel it does not list under the store's
    slug, by slug."""
    by_slug = {c.slug: c for c in channels}
    stores = list(stores)
    slugs = {store.channel_slug for store in stores}
    gone: dict[str, Whereabouts] = {}
    for store in stores:
        listed = by_slug.get(store.channel_slug)
        if not store.tracked and listed is not None:
            # Untracked, and Saleor lists its slug: its card offers Track. The slug may be
            # another channel's now (one deleted and made again): tracking takes that one for
            # the store's (`track_channel` sets its id).
            continue
        if not listed_as(listed, store.channel_id):
            where = Whereabouts.of(store.channel_id, channels)
            gone[store.channel_slug] = replace(where, taken=where.renamed_to in slugs)
            if store.tracked and store.channel_missing_since is None:
                _mark(store)
            continue
        if listed is not None and listed.id and store.channel_id is None:
            store.channel_id = listed.id
        # One not sent to (untracked, or e-commerce tracking off: `sending`) keeps its mark
        # until it is: its parked records are queued here then (a push now would be dropped).
        if sending and store.tracked and store.channel_missing_since is not None:
            store.channel_missing_since = None
            await send_parked(session, store)
        if sending and store.tracked and listed is not None:
            await note_activity(session, store, listed)
    await session.flush()
    return gone


async def note_activity(
    session: AsyncSession, store: MailchimpStore, listed: SaleorChannel
) -> bool:
    """Record whether Saleor's list shows the store's channel active; whether that changed since
    the last read, when a push of each of the channel's products is queued: hidden in Mailchimp
    while the channel is inactive (`publication.on_offer`), shown again once it is active. A
    store not read since (the column's None) counts as active: a channel deactivated before is
    re-pushed once, and pushes whose product did not change send nothing."""
    inactive = not listed.is_active
    if inactive == (store.channel_inactive_since is not None):
        return False
    store.channel_inactive_since = utcnow() if inactive else None
    logger.info(
        "Channel %s of installation %s is %s in Saleor: its products are pushed again",
        store.channel_slug,
        store.installation_id,
        "deactivated" if inactive else "active again",
    )
    await queue_reprice_now(session, store.installation_id, store.channel_slug)
    return True


async def send_parked(session: AsyncSession, store: MailchimpStore) -> int:
    """A push of each record the channel's pushes parked while it was missing (how many): each
    sends what changed. Locked in the order every writer of many records takes them
    (`ledger_statements.locking_kinds`)."""
    parked = (
        (SyncRecord.installation_id == store.installation_id)
        & (SyncRecord.channel_slug == store.channel_slug)
        & (SyncRecord.status == SyncStatus.PENDING)
    )
    await session.execute(locking_kinds(select(SyncRecord.id).where(parked)))
    rows = await session.execute(
        select(SyncRecord.kind, SyncRecord.saleor_id).where(parked).order_by(SyncRecord.id)
    )
    keys: list[tuple[str, EntityKind, str]] = [
        (store.channel_slug, kind, saleor_id) for kind, saleor_id in rows
    ]
    logger.info(
        "Channel %s of installation %s is in Saleor again: %d records to send",
        store.channel_slug,
        store.installation_id,
        len(keys),
    )
    await enqueue_pushes(session, store.installation_id, keys)
    return len(keys)
