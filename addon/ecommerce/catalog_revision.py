"""Products Mailchimp holds as an earlier version of the app sent them are sent again.

A push sends a product only when what it would send changed (`fingerprints.py`), so a product
an earlier version sent keeps that version's values until it changes in Saleor. When what the
app sends of a product changes, `models.CATALOG_REVISION` goes up, and at a process's start each
tracked store of an older revision is re-priced (`reprice.py`: every product of the channel
pushed, only the changed ones sent). Revisions:

1. Products not on offer (unpublished, not yet published, not available for purchase) hidden
   with no stock; variants at their sale price (catalogue promotions); amounts in their
   currency's places; products Saleor no longer lists hidden.
2. Variants on preorder with what their preorder can still sell, not their stock
   (`preorder.py`); products deleted with their product type, which sent no webhook, hidden.
3. Variants at the price the channel's storefront shows, with tax or without
   (`displayGrossPrices`), not on the basis prices are entered (`payloads.sale_price`).
4. Product and variant links with their values percent-encoded (a Unicode slug made a link
   Mailchimp does not take), pictures' links encoded where a storage left them not
   (`links.fill_url`, `links.given_url`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from addon.ecommerce.models import CATALOG_REVISION, MailchimpStore
from addon.ecommerce.reprice import queue_reprice_now
from addon.ecommerce.stores_repository import pushing_stores

if TYPE_CHECKING:
    from addon.services import Services

logger = logging.getLogger(__name__)


async def queue_catalog_refresh(services: Services) -> int:
    """Re-price each tracked store of an older revision, and record it as current. Answers how
    many stores."""
    async with services.db.transaction() as session:
        stores = (
            await session.scalars(
                pushing_stores(MailchimpStore)
                .where(MailchimpStore.catalog_revision < CATALOG_REVISION)
                .with_for_update(of=MailchimpStore)
            )
        ).all()
        for store in stores:
            await queue_reprice_now(session, store.installation_id, store.channel_slug)
            store.catalog_revision = CATALOG_REVISION
    if stores:
        logger.info("Products of %d store(s) to send again as this version does", len(stores))
    return len(stores)
