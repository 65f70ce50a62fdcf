"""Pushing the catalog: the channel's store and its products (`CatalogPusher`), on which every
other push depends.

Create versus update comes from the ledger and is corrected by Mailchimp's answer (400 "already
exists" → update; 404 on update → create). A product's fields and each variant are hashed apart
(`fingerprints.py`), so a change sends only what changed; a variant no longer sold is hidden,
never deleted, so the orders that reference it still resolve.

The ledger I/O every push shares is `push_ledger.py`'s; its names are importable from here too,
where the other pushers and the initial sync import them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime, timedelta

from addon.db.types import utcnow
from addon.ecommerce import payloads
from addon.ecommerce.channel_presence import (
    another_channel,
    channel_gone,
    ensure_listed,
    learn_id,
    listed_as,
    listing_id,
    remember_id,
    saleor_channels,
)
from addon.ecommerce.fingerprints import fingerprint
from addon.ecommerce.models import EntityKind, Fingerprint, SyncStatus
from addon.ecommerce.offer_dates import look_again_when_on_offer
from addon.ecommerce.orphans import is_placeholder_key, orphan_lines, placeholder_product
from addon.ecommerce.publication import on_offer
from addon.ecommerce.push_ledger import (
    DependencyFailed,
    Known,
    LedgerPusher,
    admin_label,
    already_exists,
    parent_missing,
)
from addon.ecommerce.push_queue import enqueue_push
from addon.ecommerce.record_states import settled
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.schemas import ChannelRef, SaleorOrderLine, SaleorProduct
from addon.ecommerce.store_domain import (
    create_with_own_domain,
    store_domain,
    update_keeping_domain,
)
from addon.ecommerce.stores_repository import StoreRepository
from addon.ecommerce.variant_ledger import VariantLedger
from addon.mailchimp import (
    BadRequest,
    MailchimpError,
    NotFound,
    ProductVariantPatch,
    Store,
    StorePatch,
)

__all__ = [
    "HIDDEN",
    "CatalogPusher",
    "DependencyFailed",
    "Known",
    "admin_label",
    "already_exists",
]


# A variant no longer sold: hidden rather than deleted, so the orders that reference it
# still resolve in Mailchimp.
HIDDEN = ProductVariantPatch(inventory_quantity=0, visibility="hidden")
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


class CatalogPusher(LedgerPusher):
    """What everything else depends on: the channel's store and its products (`Pusher` adds
    customers, orders and carts; the ledger I/O is `LedgerPusher`'s). One per push job."""

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
        They are the ones placed up to the newest of them; later ones went by their number
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
        if newest is None:
            return
        # Mailchimp may keep the time to the second only: the newest one's whole second.
        cutoff = newest.replace(microsecond=0) + timedelta(seconds=1)
        async with self.services.db.transaction() as session:
            store = await StoreRepository(session).get(self.ctx.installation_id, self.ctx.channel)
            if store is not None and store.uuid_orders_before is None:
                store.uuid_orders_before = cutoff
                self.ctx.uuid_orders_before = cutoff

    async def ensure_store(self, seen: ChannelRef | None = None) -> None:
        """The store first; pushed again when the channel's name or currency changed."""
        changed = seen is not None and (
            (seen.name and seen.name != self.ctx.store_name)
            or (seen.currency_code and seen.currency_code != self.ctx.store_currency)
        )
        if not self._store_synced:
            # Read once per push: a push asks before its record and again with the channel it
            # read (an order's), and each read is a session on the way to Mailchimp.
            known = await self.known(EntityKind.STORE, self.ctx.channel)
            self._store_synced = known.status is SyncStatus.SYNCED
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

    # products

    async def push_product(self, product_id: str) -> set[str]:
        """Bring one product up to date; return the Mailchimp ids of its visible variants."""
        if is_placeholder_key(product_id):
            await self._placeholder_pushed(product_id)
            return set()
        variables = {"id": product_id, "channel": self.ctx.channel}
        data = await self.saleor(
            "ecommerce_product", variables | self.ctx.product_options.read_variables()
        )
        raw = data.get("product")
        product = SaleorProduct.model_validate(raw) if raw else None
        if product is None or another_channel(
            self.ctx, listing_id(product.channel_listings, self.ctx.channel)
        ):
            # Deleted, or not in the channel; or the channel is gone (its slug another's now),
            # which hides nothing and sends nothing of another channel.
            await ensure_listed(self.services, self.ctx)
        now = utcnow()
        body = (
            payloads.product_input(
                product,
                self.ctx.channel,
                self.ctx.product_options,
                currency=self.ctx.store_currency,
                now=now,
            )
            if product
            else None
        )
        offered = product is not None and on_offer(product.channel_listings, self.ctx.channel, now)
        known = await self.known(EntityKind.PRODUCT, product_id)
        if product is not None:
            await self.remember_label(EntityKind.PRODUCT, product_id, known, product.name)
            await look_again_when_on_offer(self.services, self.ctx, product, now)
        if body is None:
            # Deleted (or no longer sold in this channel): hide it rather than delete it, so
            # the orders that reference it still resolve in Mailchimp.
            hid = False  # by this push (a removed product's variants were hidden before)
            if known.mailchimp_id is not None and known.status is not SyncStatus.REMOVED:
                for variant_id in known.children:
                    await self._hide_variant(known.mailchimp_id, variant_id)
                await self._recheck_carts()
                hid = bool(known.children)
            # Its variants' ids are kept (content unknown: hidden now, all sent again if it is
            # sold again), so the lines of deleted variants still find it (`orphans.py`).
            if known.mailchimp_id is None:
                await self._removed_unless_held(product_id)
                return set()
            await self._settle(
                EntityKind.PRODUCT,
                product_id,
                SyncStatus.REMOVED,
                known.mailchimp_id,
                Fingerprint.unknown(known.children),
                hid,
            )
            return set()
        pushing = fingerprint(body)
        digest, variants = pushing.content_hash, pushing.children
        if known.holds(pushing):
            return set(variants)
        pushed_top, pushed_variants = known.fingerprint.content_hash, known.children
        if known.mailchimp_id is None:
            try:
                await self.client.create_product(self.ctx.store_id, body)
                pushed_top, pushed_variants = digest, variants
            except BadRequest as exc:
                if not already_exists(exc):
                    raise
                pushed_top, pushed_variants = None, {}
        if pushed_top != digest:
            patch = payloads.product_patch(body)
            try:
                await self.client.update_product(self.ctx.store_id, body.id, patch)
            except NotFound:
                await self.client.create_product(self.ctx.store_id, body)
                pushed_variants = variants
        for variant in body.variants:
            if pushed_variants.get(variant.id) != variants[variant.id]:
                try:
                    await self.client.upsert_product_variant(self.ctx.store_id, body.id, variant)
                except MailchimpError as exc:
                    if not parent_missing(exc):
                        raise
                    await self.client.create_product(self.ctx.store_id, body)  # every variant
                    pushed_variants = variants  # the loop sends nothing more
        hidden = set(pushed_variants) - set(variants)
        for gone in hidden:
            await self._hide_variant(body.id, gone)
        if hidden or (not offered and known.mailchimp_id is not None):
            await self._recheck_carts()  # their lines of it go (a cart's push leaves them out)
        await self.synced(EntityKind.PRODUCT, product_id, body.id, pushing)
        return set(variants)

    async def _placeholder_pushed(self, saleor_id: str) -> None:
        """A placeholder's record was queued (an admin's retry, a re-created store): Saleor has
        nothing to read for it. It stays as created while Mailchimp holds it with known
        content; otherwise it is forgotten, and the next push of an order that needs it
        creates it again (`ensure_orphans`)."""
        known = await self.known(EntityKind.PRODUCT, saleor_id)
        if known.mailchimp_id is not None and known.fingerprint.content_hash is not None:
            await self.synced(EntityKind.PRODUCT, saleor_id, known.mailchimp_id, known.fingerprint)
        else:
            await self.removed(EntityKind.PRODUCT, saleor_id, pushed=False)

    async def _recheck_carts(self) -> None:
        """Queue the pushes of the carts Mailchimp holds for the channel: a deleted variant
        leaves every checkout with no webhook (Saleor deletes checkout lines with their
        variant, saleor/checkout/models.py `CheckoutLine.variant` on_delete=CASCADE), and the
        ledger does not know which carts held it. A variant no longer sold, or a product no
        longer on offer (`publication.py`), also lands here; its carts' pushes leave their lines
        out, or find nothing changed."""
        async with self.services.db.transaction() as session:
            carts = await LedgerRepository(session).select(
                self.ctx.installation_id, channel=self.ctx.channel, kinds=[EntityKind.CART]
            )
            # Pending ones too: a push running now may have read its checkout before.
            for cart in (c for c in carts if c.status in (SyncStatus.SYNCED, SyncStatus.PENDING)):
                await enqueue_push(
                    session,
                    self.ctx.installation_id,
                    self.ctx.channel,
                    EntityKind.CART,
                    cart.saleor_id,
                    delay=self.services.settings.ecommerce_cart_debounce_seconds,
                )

    async def _hide_variant(self, product_id: str, variant_id: str) -> None:
        with contextlib.suppress(NotFound):
            await self.client.update_product_variant(
                self.ctx.store_id, product_id, variant_id, HIDDEN
            )

    async def _removed_unless_held(self, product_id: str) -> None:
        """Record a product Mailchimp did not hold as removed, unless another push made it
        meanwhile (an order's, hidden from its lines' copies: `unlisted.py`): read before that,
        this push's copy would wipe the id and variants that one recorded."""
        async with self.services.db.transaction() as session:
            records = await LedgerRepository(session).get_or_create_many(
                self.ctx.installation_id,
                self.ctx.channel,
                EntityKind.PRODUCT,
                [product_id],
                locked=True,
            )
            record = records[product_id]
            if record.mailchimp_id is None:
                settled(record, SyncStatus.REMOVED, None, None, None)

    async def ensure_products(
        self, lines: list[tuple[str, str]], *, orders: bool = False
    ) -> set[str]:
        """Push the products of (product id, variant id) lines that Mailchimp lacks; return the
        Mailchimp ids of the variants that lines may reference. An order's line may reference
        a product no longer sold in the channel (or deleted): Mailchimp holds it hidden
        (`push_product`), and the order's revenue and lines stay whole, as Mailchimp for
        WooCommerce keeps them; a cart's may not (nobody can buy it)."""
        available: set[str] = set()
        products = list(dict.fromkeys(product for product, _ in lines))
        if not products:
            return available
        async with self.services.db.session() as session:  # one read for all of them
            records = await LedgerRepository(session).by_saleor_ids(
                self.ctx.installation_id, self.ctx.channel, EntityKind.PRODUCT, products
            )
        for product_id in products:
            wanted = {payloads.mailchimp_id(v) for p, v in lines if p == product_id}
            record = records.get(product_id)
            held = set(record.children or {}) if record is not None else set()
            if record is not None and record.status is SyncStatus.SYNCED and wanted <= held:
                available |= held
                continue
            hidden = record is not None and record.status is SyncStatus.REMOVED
            if orders and hidden and record is not None and record.mailchimp_id and wanted <= held:
                available |= held
                continue
            try:
                available |= await self.push_product(product_id)
            except MailchimpError as exc:
                raise DependencyFailed(
                    f"Product {payloads.mailchimp_id(product_id)} could not be sent to "
                    f"Mailchimp first: {exc}"
                ) from exc
        return available

    async def ensure_orphans(self, lines: Sequence[SaleorOrderLine]) -> dict[str, str]:
        """The Mailchimp product of each deleted variant among an order's lines (Mailchimp
        variant id → product id, see `orphans.py`): the product the ledger recorded it in, else
        a placeholder created now (once per variant: recorded in the ledger as a product keyed
        by the line's `productVariantId`)."""
        orphans = orphan_lines(lines)
        if not orphans:
            return {}
        async with self.services.db.session() as session:
            found = await VariantLedger(session).orphan_products(
                self.ctx.installation_id, self.ctx.channel, list(orphans)
            )
        for variant_id, line in orphans.items():
            if variant_id in found or line.product_variant_id is None:
                continue
            body = placeholder_product(variant_id, line, self.ctx.store_currency)
            try:
                await self.client.create_product(self.ctx.store_id, body)
            except BadRequest as exc:
                if not already_exists(exc):
                    raise DependencyFailed(
                        f"The placeholder of deleted variant {variant_id} could not be sent "
                        f"to Mailchimp first: {exc}"
                    ) from exc
            except MailchimpError as exc:
                raise DependencyFailed(
                    f"The placeholder of deleted variant {variant_id} could not be sent to "
                    f"Mailchimp first: {exc}"
                ) from exc
            saleor_id = line.product_variant_id
            known = await self.known(EntityKind.PRODUCT, saleor_id)
            await self.remember_label(EntityKind.PRODUCT, saleor_id, known, body.title)
            await self.synced(EntityKind.PRODUCT, saleor_id, body.id, fingerprint(body))
            found[variant_id] = body.id
        return found
