"""Order lines of a product Saleor no longer lists in the channel and Mailchimp never held
(taken off before the app first sent it): the product is made hidden and out of stock from
the lines' copies (`orphans.unlisted_product`), as the placeholder of a deleted variant is, but
under its own id, and recorded removed with its variants, as a product hidden after its last
sale is: the lines keep the order's revenue and purchase segments whole, and sold again, the
product's own push updates and shows it.

Two orders of the product pushed at once both send it: a creation answered "already exists"
upserts the variants (a PUT: twice does no harm), and the record's variants are merged under
its row lock; a push that read the record before the other made it does not wipe it
(`CatalogPusher._removed_unless_held`). A product listed again meanwhile keeps what its own
push recorded, and is pushed again (this push may have hidden variants it showed).
"""

from __future__ import annotations

from collections.abc import Sequence

from addon.db.types import utcnow
from addon.ecommerce import payloads
from addon.ecommerce.catalog import CatalogPusher, DependencyFailed, Known, already_exists
from addon.ecommerce.models import EntityKind, Fingerprint, SyncStatus
from addon.ecommerce.orphans import unlisted_product
from addon.ecommerce.push_queue import enqueue_push
from addon.ecommerce.record_states import settled
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.saleor_schemas import SaleorOrderLine
from addon.mailchimp import BadRequest, MailchimpError, ProductInput


async def ensure_unlisted(
    catalog: CatalogPusher, lines: Sequence[SaleorOrderLine], available: set[str]
) -> set[str]:
    """The Mailchimp variant ids an order's lines of such products may now reference. Called
    after `ensure_products(orders=True)`, which records such a product removed."""
    missing: dict[str, list[SaleorOrderLine]] = {}
    for line in lines:
        if line.variant is not None and payloads.mailchimp_id(line.variant.id) not in available:
            missing.setdefault(line.variant.product.id, []).append(line)
    added: set[str] = set()
    for product_id, product_lines in missing.items():
        known = await catalog.known(EntityKind.PRODUCT, product_id)
        if known.status is not SyncStatus.REMOVED:
            # Listed, and only that variant is not sold, never held by Mailchimp (one it held
            # is kept hidden and available: `CatalogPusher.push_product`); or quarantined.
            continue
        body = unlisted_product(
            payloads.mailchimp_id(product_id), product_lines, catalog.ctx.store_currency
        )
        await _send(catalog, body, known)
        await catalog.remember_label(EntityKind.PRODUCT, product_id, known, body.title)
        added |= await _record(catalog, product_id, body)
    return added


async def _send(catalog: CatalogPusher, body: ProductInput, known: Known) -> None:
    store_id = catalog.ctx.store_id
    try:
        if known.mailchimp_id is None:
            try:
                await catalog.client.create_product(store_id, body)
                return
            except BadRequest as exc:
                if not already_exists(exc):
                    raise
                known = Known()  # held already (another push's, a previous installation's)
        for variant in body.variants:
            if variant.id not in known.children:
                await catalog.client.upsert_product_variant(
                    store_id, body.id, payloads.variant_put(variant)
                )
    except MailchimpError as exc:
        raise DependencyFailed(
            f"Product {body.id}, no longer sold, could not be sent to Mailchimp first: {exc}"
        ) from exc


async def _record(catalog: CatalogPusher, product_id: str, body: ProductInput) -> set[str]:
    """Its variants merged into its record (locked); the ones lines may reference."""
    ctx = catalog.ctx
    sent = [variant.id for variant in body.variants]
    async with catalog.services.db.transaction() as session:
        records = await LedgerRepository(session).get_or_create_many(
            ctx.installation_id, ctx.channel, EntityKind.PRODUCT, [product_id], locked=True
        )
        record = records[product_id]
        children = dict(record.children or {})
        if record.status is not SyncStatus.REMOVED:
            # Listed again meanwhile: its push recorded it; another shows what this hid.
            await enqueue_push(
                session, ctx.installation_id, ctx.channel, EntityKind.PRODUCT, product_id
            )
            return set(sent) & set(children)
        merged = {**dict.fromkeys(sent, ""), **children}
        settled(record, SyncStatus.REMOVED, body.id, Fingerprint(None, merged), utcnow())
    return set(sent)
