"""Pushing the catalog: the channel's store (`store_pusher.py`) and its products
(`CatalogPusher`), on which every other push depends.

Create versus update comes from the ledger and is corrected by Mailchimp's answer (400 "already
exists" → update; 404 on update → create). A product's fields and each variant are hashed apart
(`fingerprints.py`), so a change sends only what changed; a variant no longer sold is hidden,
never deleted, and stays in its product's record, so the orders that reference it still resolve.

The ledger I/O every push shares is `push_ledger.py`'s; its names are importable from here too,
where the other pushers and the initial sync import them.
"""

from __future__ import annotations

from collections.abc import Sequence

from addon.db.types import utcnow
from addon.ecommerce import payloads
from addon.ecommerce.cart_recheck import recheck_carts
from addon.ecommerce.channel_presence import (
    another_channel,
    ensure_listed,
    listing_id,
)
from addon.ecommerce.fingerprints import (
    fingerprint,
    hidden_variants,
    referable,
    sold_variants,
    with_hidden,
)
from addon.ecommerce.models import EntityKind, Fingerprint, SyncStatus
from addon.ecommerce.offer_dates import look_again_when_on_offer
from addon.ecommerce.orphans import is_placeholder_key, orphan_lines, placeholder_product
from addon.ecommerce.publication import on_offer
from addon.ecommerce.push_ledger import (
    DependencyFailed,
    Known,
    admin_label,
    already_exists,
    parent_missing,
)
from addon.ecommerce.record_states import settled
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.saleor_schemas import SaleorOrderLine, SaleorProduct
from addon.ecommerce.store_pusher import StorePusher
from addon.ecommerce.variant_ledger import VariantLedger
from addon.mailchimp import (
    BadRequest,
    MailchimpError,
    NotFound,
    ProductVariantPatch,
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


class CatalogPusher(StorePusher):
    """What everything else depends on: the channel's store (`StorePusher`) and its products
    (`Pusher` adds customers, orders and carts; the ledger I/O is `LedgerPusher`'s). One per
    push job."""

    async def push_product(self, product_id: str, *, orders: bool = False) -> set[str]:
        """Bring one product up to date; return the Mailchimp ids of its variants that lines may
        reference (`referable`; `orders`: an order's lines)."""
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
                showing = sold_variants(known.children)  # not hidden already
                for variant_id in showing:
                    await self._hide_variant(known.mailchimp_id, variant_id)
                await self._recheck_carts()
                hid = bool(showing)
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
        if known.holds(with_hidden(pushing, hidden_variants(known.children))):
            return referable(known.children, orders)
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
                    await self.client.upsert_product_variant(
                        self.ctx.store_id, body.id, payloads.variant_put(variant)
                    )
                except MailchimpError as exc:
                    if not parent_missing(exc):
                        raise
                    await self.client.create_product(self.ctx.store_id, body)  # every variant
                    pushed_variants = variants  # the loop sends nothing more
        # Variants no longer sold stay in Mailchimp, hidden, and in the record (the orders that
        # bought them still find this product); those hidden before are not hidden again.
        hidden = hidden_variants(pushed_variants) - set(variants)
        hiding = set(pushed_variants) - set(variants) - hidden
        for variant_id in hiding:
            if await self._hide_variant(body.id, variant_id):
                hidden.add(variant_id)
        if hiding or (not offered and known.mailchimp_id is not None):
            await self._recheck_carts()  # their lines of it go (a cart's push leaves them out)
        recorded = with_hidden(pushing, hidden)
        await self.synced(EntityKind.PRODUCT, product_id, body.id, recorded)
        return referable(recorded.children, orders)

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
        """A deleted variant leaves every checkout with no webhook (Saleor deletes checkout
        lines with their variant, saleor/checkout/models.py `CheckoutLine.variant`
        on_delete=CASCADE), and the ledger does not know which carts held it; so do a variant
        no longer sold and a product no longer on offer (`publication.py`): `cart_recheck`."""
        async with self.services.db.transaction() as session:
            await recheck_carts(
                session,
                self.ctx.installation_id,
                self.ctx.channel,
                self.services.settings.ecommerce_cart_debounce_seconds,
            )

    async def _hide_variant(self, product_id: str, variant_id: str) -> bool:
        """Whether Mailchimp holds the variant (now hidden)."""
        try:
            await self.client.update_product_variant(
                self.ctx.store_id, product_id, variant_id, HIDDEN
            )
        except NotFound:
            return False
        return True

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
            held = referable(record.children or {}, orders) if record is not None else set()
            if record is not None and record.status is SyncStatus.SYNCED and wanted <= held:
                available |= held
                continue
            hidden = record is not None and record.status is SyncStatus.REMOVED
            if orders and hidden and record is not None and record.mailchimp_id and wanted <= held:
                available |= held
                continue
            try:
                available |= await self.push_product(product_id, orders=orders)
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
