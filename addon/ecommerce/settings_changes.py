"""What a change of the E-commerce settings queues, once saved (tracking on): the stores'
pushes, every product's, every cart's removal."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce.cart_sweep import schedule_sweep
from addon.ecommerce.models import EntityKind, MailchimpStore, SyncStatus
from addon.ecommerce.orphans import is_placeholder_key
from addon.ecommerce.push_queue import enqueue_pushes
from addon.ecommerce.repository import LedgerRepository

# What a change of re-pushes: the stores, every product. Tracking rules apply to the orders
# pushed from then on (Mailchimp's shipping confirmation went out with the shipment already).
STORE_FIELDS = {"store_email", "product_url_template", "default_locale", "default_timezone"}
PRODUCT_FIELDS = {"product_url_template", "product_vendor", "product_type"}


async def queue_settings_changes(
    session: AsyncSession,
    installation_id: int,
    stores: Sequence[MailchimpStore],
    changed: set[str],
    was_enabled: bool,
    carts_on: bool,
) -> None:
    """`changed`: the settings' names whose values changed; `was_enabled`: tracking was on
    before; `carts_on`: abandoned-cart tracking is on now."""
    ledger = LedgerRepository(session)
    if not was_enabled and stores:
        await schedule_sweep(session, installation_id)
    if not was_enabled or STORE_FIELDS & changed:
        # The stores' details (domain, e-mail, language, time zone) may have changed, or
        # sync was just enabled.
        await enqueue_pushes(
            session,
            installation_id,
            [(s.channel_slug, EntityKind.STORE, s.channel_slug) for s in stores],
        )
    if was_enabled and PRODUCT_FIELDS & changed:
        # Every product's vendor, type or page may read differently now: each is pushed
        # again (as Resync queues them, in bursts); only those whose fields changed are
        # sent, the rest are found unchanged by their fingerprints.
        for store in stores:
            products = await ledger.select(
                installation_id, channel=store.channel_slug, kinds=[EntityKind.PRODUCT]
            )
            await enqueue_pushes(
                session,
                installation_id,
                [
                    (store.channel_slug, EntityKind.PRODUCT, record.saleor_id)
                    for record in products
                    if record.status is not SyncStatus.REMOVED
                    and not is_placeholder_key(record.saleor_id)
                ],
            )
    if "abandoned_carts_enabled" in changed and not carts_on:
        # Checkouts send nothing while carts are off: the carts Mailchimp holds would go on
        # being e-mailed as they stand. Each one's push, carts off, takes it away.
        for store in stores:
            held = await ledger.held_ids(installation_id, store.channel_slug, EntityKind.CART)
            await enqueue_pushes(
                session, installation_id, [(store.channel_slug, EntityKind.CART, i) for i in held]
            )
