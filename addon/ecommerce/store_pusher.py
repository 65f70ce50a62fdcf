"""Pushing a channel's Mailchimp store (`StorePusher`), the first thing every other push
depends on: created, or updated when the channel's name or currency changed; a store Mailchimp
held already is adopted with the orders it holds."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select

from addon.ecommerce import payloads
from addon.ecommerce.channel_presence import (
    channel_gone,
    learn_id,
    listed_as,
    remember_id,
    saleor_channels,
)
from addon.ecommerce.fingerprints import fingerprint
from addon.ecommerce.models import EntityKind, MailchimpStore, SyncStatus
from addon.ecommerce.push_ledger import DependencyFailed, LedgerPusher, already_exists
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.saleor_schemas import ChannelRef
from addon.ecommerce.store_domain import (
    create_with_own_domain,
    store_domain,
    update_keeping_domain,
)
from addon.ecommerce.stores_repository import StoreRepository
from addon.mailchimp import BadRequest, MailchimpError, Store, StorePatch

# An adopted store's orders read a page at a time (`_adopt_orders`): Mailchimp's largest.
ADOPTION_PAGE = 1000
UUID_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _placed(text: str) -> datetime | None:
    """An order's `processed_at_foreign` (ISO 8601, as sent), in UTC; None if unreadable."""
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        return None
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


class StorePusher(LedgerPusher):
    """The channel's store, once per push (`ensure_store`)."""

    _store_synced = False  # the channel's store is in Mailchimp (read or pushed by this push)

    # stores

    async def push_store(self) -> None:
        channels = await saleor_channels(self.services, self.ctx)
        channel = next((c for c in channels if c.slug == self.ctx.channel), None)
        if channel is None or not listed_as(channel, self.ctx.channel_id):
            raise channel_gone(self.ctx, channels)
        if self.ctx.channel_id is None and channel.id:
            await remember_id(self.services, self.ctx, channel.id)
        domain = store_domain(self.ctx.product_url_template, self.ctx.channel, self.ctx.domain)
        body = payloads.store_input(
            self.ctx.store_id,
            self.ctx.list_id,
            channel,
            domain=domain,
            email_address=self.ctx.store_email,
            default_locale=self.ctx.default_locale,
            default_timezone=self.ctx.default_timezone,
        )
        digest = fingerprint(body)
        known = await self.known(EntityKind.STORE, self.ctx.channel)
        await self.remember_label(EntityKind.STORE, self.ctx.channel, known, channel.name)
        if known.holds(digest):
            return
        patch = StorePatch.model_validate(
            body.model_dump(exclude={"id", "list_id"}, exclude_none=True)
        )

        def update(patch: StorePatch) -> Awaitable[Store]:
            return self.client.update_store(self.ctx.store_id, patch)

        if known.mailchimp_id is None:
            # Created for a re-send, its automations paused until that ends (`resend.py`);
            # the flag is not the store's data: not in the fingerprint, never in a PATCH.
            created = body.model_copy(update={"is_syncing": True}) if self.ctx.resending else body
            try:
                await create_with_own_domain(self.client.create_store, created, self.ctx.channel)
            except BadRequest as exc:
                if not already_exists(exc):
                    raise
                await update_keeping_domain(update, patch)
                await self._adopt_orders()
        else:
            # A 404 here means the store was deleted in Mailchimp, with everything in it:
            # push_job marks it missing for the admin's re-create (store_state.py) rather
            # than re-creating an empty store under records the ledger calls synced.
            await update_keeping_domain(update, patch)
        await self.synced(EntityKind.STORE, self.ctx.channel, self.ctx.store_id, digest)
        async with self.services.db.transaction() as session:
            store = await StoreRepository(session).get(self.ctx.installation_id, self.ctx.channel)
            if store is not None:
                store.name = channel.name
                store.currency_code = channel.currency_code
        self.ctx.store_name, self.ctx.store_currency = channel.name, channel.currency_code

    async def _adopt_orders(self) -> None:
        """A store Mailchimp held before this installation pushed it (a previous installation's,
        or two first pushes at once): the orders it holds under Saleor's UUIDs keep them, or
        each would be sent again as a second order under its number (`sale_payloads.order_id`).
        They are the ones created up to the newest of them (an order kept under its UUID is
        dated by its `created`: `sale_payloads.processed_at`); later ones went by their number
        (a version since migration 0033), and so do the orders placed from now on. Read once,
        a thousand a page."""
        newest: datetime | None = None
        offset = 0
        while True:
            page = await self.client.order_refs(self.ctx.store_id, ADOPTION_PAGE, offset)
            for ref in page.orders:
                placed = _placed(ref.processed_at_foreign) if UUID_ID.fullmatch(ref.id) else None
                if placed is not None and (newest is None or placed > newest):
                    newest = placed
            offset += len(page.orders)
            if len(page.orders) < ADOPTION_PAGE or offset >= page.total_items:
                break
        # Mailchimp may keep the time to the second only: the newest one's whole second.
        cutoff = None if newest is None else newest.replace(microsecond=0) + timedelta(seconds=1)
        async with self.services.db.transaction() as session:
            store = await session.scalar(self._store_row().with_for_update())
            if store is None:
                return
            if store.uuid_orders_before is None:
                store.uuid_orders_before = cutoff
            # Another push of the channel may have adopted it first (and hold no cutoff of its
            # own in its context): every push goes by the one recorded, or sends the orders
            # held under their UUID under their number, as second orders.
            self.ctx.uuid_orders_before = store.uuid_orders_before

    def _store_row(self) -> Select[MailchimpStore]:
        return MailchimpStore.of_installation(self.ctx.installation_id).where(
            MailchimpStore.channel_slug == self.ctx.channel
        )

    async def _store_recorded(self) -> bool:
        """Whether the ledger holds the store synced; and the context takes the adoption's
        cutoff recorded meanwhile (`_adopt_orders`): a push that loaded its context before
        another adopted the store, then finds it synced, pushes no store of its own. Read
        after the record, in its session: the adoption records its cutoff before the record."""
        async with self.services.db.session() as session:
            record = await LedgerRepository(session).get(
                self.ctx.installation_id, self.ctx.channel, EntityKind.STORE, self.ctx.channel
            )
            cutoff = self._store_row().with_only_columns(MailchimpStore.uuid_orders_before)
            self.ctx.uuid_orders_before = await session.scalar(cutoff)
        return record is not None and record.status is SyncStatus.SYNCED

    async def ensure_store(self, seen: ChannelRef | None = None) -> None:
        """The store first; pushed again when the channel's name or currency changed."""
        changed = seen is not None and (
            (seen.name and seen.name != self.ctx.store_name)
            or (seen.currency_code and seen.currency_code != self.ctx.store_currency)
        )
        if not self._store_synced:
            # Read once per push: a push asks before its record and again with the channel it
            # read (an order's), and each read is a session on the way to Mailchimp.
            self._store_synced = await self._store_recorded()
        if self._store_synced and not changed and self.ctx.channel_id is None:
            # Tracked before the app kept channel ids: learnt from Saleor's list, once (a
            # channel not in it raises nothing here: a cart of a deleted one still goes).
            await learn_id(self.services, self.ctx)
        if not self._store_synced or changed:
            try:
                await self.push_store()
            except MailchimpError as exc:
                raise DependencyFailed(
                    f"The Mailchimp store of channel {self.ctx.channel!r} could not be "
                    f"created or updated: {exc}"
                ) from exc
            self._store_synced = True
