"""The carts Mailchimp holds for a channel, pushed again: a product's change that may take lines
out of carts with no checkout event (a variant deleted or no longer sold, a product taken off
offer) does not say which carts held it. Each cart's push reads its checkout and leaves out what
nobody can buy, or finds nothing changed. Debounced (`ECOMMERCE_CART_DEBOUNCE_SECONDS`): the
rechecks of many products at once merge into one push a cart. Used by a product's push
(`catalog.py`) and a burst's batch (`burst_plan.py`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.push_queue import enqueue_pushes
from addon.ecommerce.repository import LedgerRepository


async def recheck_carts(
    session: AsyncSession, installation_id: int, channel: str, delay: float
) -> None:
    """Queue the push of each cart Mailchimp holds for the channel, `delay` seconds from now."""
    carts = await LedgerRepository(session).select(
        installation_id, channel=channel, kinds=[EntityKind.CART]
    )
    # Pending ones too: a push running now may have read its checkout before.
    held = (c for c in carts if c.status in (SyncStatus.SYNCED, SyncStatus.PENDING))
    pushes = [(channel, EntityKind.CART, cart.saleor_id) for cart in held]
    await enqueue_pushes(session, installation_id, pushes, delay=delay)
