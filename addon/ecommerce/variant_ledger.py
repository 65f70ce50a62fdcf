"""The ledger's products as order lines see them: which Mailchimp variants a line may
reference, and which product holds a variant Saleor deleted (`orphans.py`)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import String, cast, or_, select

from addon.ecommerce.models import PLACEHOLDER_PREFIX, EntityKind, SyncRecord, SyncStatus
from addon.ecommerce.repository import LedgerRepository


class VariantLedger(LedgerRepository):
    async def available_variants(
        self, installation_id: int, channel: str, product_ids: Collection[str]
    ) -> set[str]:
        """Mailchimp variant ids an order line may reference: those of the products Mailchimp
        holds (its id recorded, even while a live push updates it; not quarantined). Core
        rows: an initial sync asks this for every page of orders, a few hundred products each,
        and loading them as ORM objects cost more than the query."""
        records = await self.held_by_saleor_ids(
            installation_id, channel, EntityKind.PRODUCT, product_ids
        )
        # A removed product (deleted, or no longer sold in the channel) is hidden in Mailchimp,
        # not deleted, and keeps its variants' ids, as a product keeps those of its variants no
        # longer sold (`fingerprints.HIDDEN_VARIANT`): past orders' lines still reference them,
        # as live sync's (`CatalogPusher.ensure_products(orders=True)`).
        return {
            variant
            for record in records.values()
            if record.mailchimp_id is not None and record.status is not SyncStatus.QUARANTINED
            for variant in record.children
        }

    async def never_held(
        self, installation_id: int, channel: str, product_ids: Collection[str]
    ) -> set[str]:
        """Of these products, those Mailchimp never held and no failure holds back: no record
        (an initial sync sends only the products the channel lists), or one without an id that
        is not quarantined. An order's line of one goes to live sync, which sends the product
        (hidden from the line's copies when the channel no longer lists it:
        `ecommerce/unlisted.py`)."""
        records = await self.held_by_saleor_ids(
            installation_id, channel, EntityKind.PRODUCT, product_ids
        )
        return {
            product
            for product in product_ids
            if (record := records.get(product)) is None
            or (record.mailchimp_id is None and record.status is not SyncStatus.QUARANTINED)
        }

    async def orphan_products(
        self, installation_id: int, channel: str, variant_ids: Collection[str]
    ) -> dict[str, str]:
        """The Mailchimp product that holds each of these Mailchimp variant ids (of variants
        Saleor deleted, see `orphans.py`): the product the variant was pushed in (its record
        keeps it, hidden), else its placeholder. Variants Mailchimp never held are left out."""
        if not variant_ids:
            return {}
        # The JSON text as a coarse filter (both databases store it as written), checked below.
        text = cast(SyncRecord.children, String)
        result = await self.session.execute(
            select(SyncRecord).where(
                SyncRecord.installation_id == installation_id,
                SyncRecord.channel_slug == channel,
                SyncRecord.kind == EntityKind.PRODUCT,
                SyncRecord.mailchimp_id.is_not(None),
                SyncRecord.status != SyncStatus.QUARANTINED,
                or_(*(text.contains(f'"{variant}"', autoescape=True) for variant in variant_ids)),
            )
        )
        found: dict[str, str] = {}
        # Placeholders last: the product the variant was pushed in wins.
        held = [(r.mailchimp_id, r.children or {}) for r in result.scalars() if r.mailchimp_id]
        held.sort(key=lambda item: item[0].startswith(PLACEHOLDER_PREFIX))
        for product_id, children in held:
            for variant in set(variant_ids) & set(children):
                found.setdefault(variant, product_id)
        return found
