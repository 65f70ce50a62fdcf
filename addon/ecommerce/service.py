"""The E-commerce page's logic: settings, tracked channels and their stores, counts, Retry and
Resync. Mailchimp is never called here but by the stores' check (store creation and every
push run as jobs); Mailchimp and Saleor are asked before the request's transaction begins."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.repository import AudienceRepository
from addon.audiences.service import default_audience_id
from addon.connection.models import ConnectionStatus
from addon.connection.repository import ConnectionRepository
from addon.ecommerce import channel_follow, channel_presence, currencies, resend, store_state
from addon.ecommerce.cart_sweep import schedule_sweep
from addon.ecommerce.channel_state import LATEST_INITIAL_SYNC, ChannelFacts, next_action
from addon.ecommerce.models import EntityKind, MailchimpStore, SyncStatus
from addon.ecommerce.page_schemas import (
    ActionResult,
    ChannelRead,
    ChannelTracking,
    EcommerceRead,
    KindCounts,
    RecordRead,
)
from addon.ecommerce.push_queue import enqueue_pushes
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.saleor_schemas import SaleorChannel
from addon.ecommerce.settings_api import SettingsRead, SettingsUpdate
from addon.ecommerce.settings_changes import queue_settings_changes
from addon.ecommerce.store_state import StoreStatus
from addon.ecommerce.stores_repository import SettingsRepository, StoreRepository, stable_store_id
from addon.ecommerce.subjects import describe_record
from addon.ecommerce.sync import enqueue_push
from addon.errors import BadRequest, Conflict, ErrorCode, NotFound, UpstreamUnavailable
from addon.explain import Where, explain
from addon.installations.models import Installation
from addon.saleor.client import SaleorError
from addon.services import Services

logger = logging.getLogger(__name__)

SYNCED_KINDS = (EntityKind.PRODUCT, EntityKind.CUSTOMER, EntityKind.ORDER, EntityKind.CART)
# Settings an explicit null leaves as they are (they have no "unset" value).
KEPT_WHEN_NULL = {
    "tracking_enabled",
    "abandoned_carts_enabled",
    "product_vendor",
    "product_type",
    "tracking_rules",
}


async def _default_audience(session: AsyncSession, installation_id: int) -> str | None:
    """The audience chosen on the Audiences page."""
    return await default_audience_id(session, installation_id)


async def _has_audience(session: AsyncSession, installation_id: int) -> bool:
    """Whether an imported audience still exists in Mailchimp (a store needs one)."""
    audiences = await AudienceRepository(session).audiences(installation_id)
    return any(a.removed_at is None for a in audiences)


class EcommerceService:
    def __init__(self, session: AsyncSession, services: Services) -> None:
        self.session = session
        self.services = services
        self.settings = SettingsRepository(session)
        self.stores = StoreRepository(session)
        self.ledger = LedgerRepository(session)

    async def saleor_channels(self, installation: Installation) -> list[SaleorChannel]:
        """Saleor's channels; ask before the request's transaction has begun (no statement
        on `self.session` yet)."""
        try:
            data = await self.services.saleor.execute(
                installation.saleor_api_url, installation.app_token, "ecommerce_channels"
            )
        except SaleorError as exc:
            raise UpstreamUnavailable(
                f"Could not read the store's channels from Saleor: {exc}",
                code=ErrorCode.SALEOR_ERROR,
            ) from exc
        return [SaleorChannel.model_validate(c) for c in data.get("channels") or []]

    async def read(
        self, installation: Installation, channels: list[SaleorChannel] | None = None
    ) -> EcommerceRead:
        """The page's state; `channels`: Saleor's, asked before the request's transaction
        began (asked here first otherwise, before this reads or creates anything: on SQLite
        the transaction holds the write lock from its first statement)."""
        if channels is None:
            channels = await self.saleor_channels(installation)
        installation_id = installation.id
        settings = await self.settings.get_or_create(installation_id)
        stores = {s.channel_slug: s for s in await self.stores.list(installation_id)}
        # Tracked channels Saleor no longer lists wait, and say where they went if it knows.
        gone = await channel_presence.reconcile(
            self.session, stores.values(), channels, settings.tracking_enabled
        )
        counts = await self.ledger.counts(installation_id)
        last_push = await self.ledger.last_push(installation_id)
        store_records = {
            r.channel_slug: r
            for r in await self.ledger.select(installation_id, kinds=[EntityKind.STORE])
        }
        known = {c.slug for c in channels}
        # Stores of channels Saleor no longer lists stay visible so their data can be found.
        extra = [
            SaleorChannel(slug=s.channel_slug, name=s.name, currencyCode=s.currency_code)
            for slug, s in stores.items()
            if slug not in known
        ]
        connection = await ConnectionRepository(self.session).get(installation_id)
        connected = bool(connection and connection.status is ConnectionStatus.CONNECTED)
        has_audience = await _has_audience(self.session, installation_id)
        latest_initial_sync = self.services.ports[LATEST_INITIAL_SYNC]
        rows = []
        for channel in [*channels, *extra]:
            store = stores.get(channel.slug)
            record = store_records.get(channel.slug)
            tracked = bool(store and store.tracked)
            waits = channel.slug in gone  # its pushes wait for the channel, store's included
            status = channel_presence.store_status(store, record, waits)
            facts = ChannelFacts(
                name=channel.name or channel.slug,
                connected=connected,
                revoked=bool(connection and connection.status is ConnectionStatus.REVOKED),
                has_audience=has_audience,
                tracked=tracked,
                tracking_enabled=settings.tracking_enabled,
                store_status=status,
                initial_sync=await latest_initial_sync(self.session, installation_id, channel.slug),
                currency_refused=None if store else _currency_refused(channel),
                channel_gone=gone.get(channel.slug),
            )
            per_kind = None
            if tracked:  # no rows of zeros before tracking
                per_kind = {
                    kind: KindCounts(
                        synced=counts.get((channel.slug, kind, SyncStatus.SYNCED), 0),
                        pending=counts.get((channel.slug, kind, SyncStatus.PENDING), 0),
                        quarantined=counts.get((channel.slug, kind, SyncStatus.QUARANTINED), 0),
                        removed=counts.get((channel.slug, kind, SyncStatus.REMOVED), 0),
                    )
                    for kind in SYNCED_KINDS
                }
            where = Where(channel.slug, channel.name, status is StoreStatus.MISSING)
            problem = (
                explain(record.last_error if record else None, where)
                if status in (StoreStatus.MISSING, StoreStatus.FAILED)
                else None
            )
            rows.append(
                ChannelRead(
                    slug=channel.slug,
                    name=channel.name,
                    currency_code=channel.currency_code,
                    tracked=tracked,
                    list_id=store.list_id if store else None,
                    store_id=store.store_id if store else None,
                    store_status=status,
                    store_message=problem.reason if problem else None,
                    # A channel Saleor no longer lists (`extra`) has no state to show.
                    channel_active=channel.is_active,
                    channel_inactive_since=store.channel_inactive_since if store else None,
                    store_record_status=record.status if record else None,
                    store_error=record.last_error if record and not waits else None,
                    next_action=next_action(facts),
                    counts=per_kind,
                    last_push_at=last_push.get(channel.slug),
                )
            )
        return EcommerceRead(
            connected=connected,
            settings=SettingsRead.model_validate(settings, from_attributes=True),
            channels=rows,
            last_push_at=max(last_push.values(), default=None),
        )

    async def update_settings(self, installation: Installation, update: SettingsUpdate) -> None:
        settings = await self.settings.get_or_create(installation.id)
        was_enabled = settings.tracking_enabled
        before = SettingsRead.model_validate(settings, from_attributes=True)
        for name, value in update.model_dump(exclude_unset=True).items():
            if name in KEPT_WHEN_NULL and value is None:
                continue
            setattr(settings, name, value)
        await self.session.flush()
        if not settings.tracking_enabled:
            return
        after = SettingsRead.model_validate(settings, from_attributes=True)
        changed = {
            name
            for name in SettingsRead.model_fields
            if getattr(before, name) != getattr(after, name)
        }
        stores = await self.stores.tracked(installation.id)
        await queue_settings_changes(
            self.session,
            installation.id,
            stores,
            changed,
            was_enabled,
            settings.abandoned_carts_enabled,
        )

    async def track_channel(
        self,
        installation: Installation,
        slug: str,
        tracking: ChannelTracking,
        channels: list[SaleorChannel],
    ) -> None:
        """`channels`: Saleor's, asked before the request's transaction began."""
        store = await self.stores.get(installation.id, slug)
        if not tracking.tracked:
            if store is not None:
                store.tracked = False
            return
        channel = next((c for c in channels if c.slug == slug), None)
        if channel is None:
            raise NotFound(f"Saleor has no channel {slug!r}.", code=ErrorCode.UNKNOWN_CHANNEL)
        list_id = tracking.list_id or (store.list_id if store else None)
        list_id = list_id or await _default_audience(self.session, installation.id)
        if not list_id:
            raise BadRequest(
                "Choose the Mailchimp audience for this channel's store (Mailchimp cannot "
                "change a store's audience later).",
                code=ErrorCode.AUDIENCE_REQUIRED,
            )
        # Only a new store is refused: one Mailchimp holds already keeps its currency.
        refused = _currency_refused(channel)
        if refused is not None and (store is None or store.list_id != list_id):
            raise BadRequest(refused, code=ErrorCode.CURRENCY_NOT_ACCEPTED)
        store_id = stable_store_id(installation.saleor_api_url, slug, list_id)
        if store is None:
            # The same channel tracked from two tabs at once: one row, not a failed insert.
            new = {
                "installation_id": installation.id,
                "channel_slug": slug,
                "store_id": store_id,
                "list_id": list_id,
                "currency_code": channel.currency_code,
                "name": channel.name,
                "tracked": True,
                "channel_id": channel.id,
            }
            store = await self.stores.get_or_insert(
                MailchimpStore,
                lambda: self.stores.get(installation.id, slug),
                new,
                key=("installation_id", "channel_slug"),
            )
        elif store.list_id != list_id:
            # Another audience means another store: everything is sent to it afresh, and
            # the old store keeps its history in Mailchimp.
            store.list_id, store.store_id = list_id, store_id
            store.missing_since = None  # the missing store was the old one
            await self.ledger.forget_channel(installation.id, slug)
        store.tracked = True
        store.name, store.currency_code = channel.name, channel.currency_code
        store.channel_id = channel.id
        await self.session.flush()
        await enqueue_push(self.session, installation.id, slug, EntityKind.STORE, slug)
        await schedule_sweep(self.session, installation.id)

    async def records(
        self,
        installation: Installation,
        *,
        channel: str | None,
        kind: EntityKind | None,
        status: SyncStatus | None,
        limit: int,
    ) -> list[RecordRead]:
        rows = await self.ledger.select(
            installation.id,
            channel=channel,
            kinds=[kind] if kind else [],
            status=status,
            limit=limit,
        )
        stores = {s.channel_slug: s for s in await self.stores.list(installation.id)}
        return [describe_record(row, stores.get(row.channel_slug)) for row in rows]

    async def retry(self, installation: Installation, record_id: int) -> ActionResult:
        record = await self.ledger.by_id(installation.id, record_id)
        if record is None:
            raise NotFound("There is no such e-commerce record.", code=ErrorCode.UNKNOWN_RECORD)
        store = await self.stores.get(installation.id, record.channel_slug)
        if store is not None:
            channel_presence.refuse_if_gone(store)
        if store is not None and store.missing_since is not None:
            raise Conflict(
                store_state.missing_message(store.name or store.channel_slug),
                code=ErrorCode.STORE_MISSING,
            )
        record.attempts = 0
        record.last_error = None
        await enqueue_push(
            self.session, installation.id, record.channel_slug, record.kind, record.saleor_id
        )
        return ActionResult(queued=1, message="The record will be sent to Mailchimp again.")

    async def check_stores(self, installation: Installation) -> EcommerceRead:
        # Mailchimp and Saleor first, with no transaction open; then the short write.
        gone = await store_state.check_stores(self.services, installation.id)
        channels = await self.saleor_channels(installation)
        await store_state.mark_gone(self.session, installation.id, gone)
        return await self.read(installation, channels)

    async def recreate_store(self, installation: Installation, slug: str) -> ActionResult:
        """Re-create a store deleted in Mailchimp and send everything to it again."""
        store = await self.stores.get(installation.id, slug)
        if store is None or not store.tracked:
            raise NotFound(
                f"The channel {slug!r} is not tracked.", code=ErrorCode.CHANNEL_NOT_TRACKED
            )
        channel_presence.refuse_if_gone(store)
        if store.missing_since is None:
            raise Conflict(
                f"The Mailchimp store for {store.name or slug} exists; use Resync to send "
                "the channel's data again.",
                code=ErrorCode.STORE_NOT_MISSING,
            )
        await store_state.forget_store_contents(self.session, store)
        result = await self.resync(installation, slug, None)
        await resend.start_resend(self.session, store)
        return ActionResult(
            queued=result.queued,
            message=f"The Mailchimp store for {store.name or slug} will be created again and "
            f"{max(result.queued - 1, 0)} records sent to it. Its automations are paused "
            "until they have all gone, so old orders e-mail no one.",
        )

    async def follow_channel(
        self, installation: Installation, slug: str, channels: list[SaleorChannel]
    ) -> ActionResult:
        """Follow a tracked channel to its new slug (`channel_follow.py`); `channels`:
        Saleor's, asked before the request's transaction began."""
        store = await self.stores.get(installation.id, slug)
        sending = (await self.settings.get_or_create(installation.id)).tracking_enabled
        return await channel_follow.follow(
            self.session, self.services, slug, store, channels, sending
        )

    async def resync(
        self, installation: Installation, slug: str, kind: EntityKind | None
    ) -> ActionResult:
        store = await self.stores.get(installation.id, slug)
        if store is None or not store.tracked:
            raise NotFound(
                f"The channel {slug!r} is not tracked.", code=ErrorCode.CHANNEL_NOT_TRACKED
            )
        channel_presence.refuse_if_gone(store)
        kinds = [kind] if kind else [EntityKind.STORE, *SYNCED_KINDS]
        records = await self.ledger.reset_for_resync(installation.id, slug, kinds)
        await enqueue_pushes(
            self.session, installation.id, ((slug, kind, saleor_id) for kind, saleor_id in records)
        )
        noun = "record" if len(records) == 1 else "records"
        what = f"{kind.value} {noun}" if kind else noun
        return ActionResult(
            queued=len(records),
            message=f"{len(records)} {what} of channel {slug!r} will be sent to Mailchimp again.",
        )


def _currency_refused(channel: SaleorChannel) -> str | None:
    """Why the channel cannot have a Mailchimp store for its currency, if it cannot."""
    if currencies.accepted_by_mailchimp(channel.currency_code):
        return None
    return currencies.refusal(channel.name or channel.slug, channel.currency_code)
