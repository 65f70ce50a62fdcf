"""The products a page of orders names that Mailchimp never held, sent before the page's batch.

An initial sync sends the products the channel lists, then the orders. An order may name a
product Mailchimp never held: the channel stopped listing it before the sync (a discontinued
product), or it was made after the products were read. Its line would be left out, and an
order of such products alone would not be sent at all: the store's revenue and purchase
segments missing its history. So before a page of orders is planned, each such product is sent
as live sync sends it (`CatalogPusher.ensure_products`: listed, as it is; no longer listed,
recorded removed, then made hidden from the lines' copies, `ecommerce/unlisted.py`), one request
each and once, so that the orders go in their batches with every line. A product that could not
be sent (Mailchimp or Saleor failing) hands its orders to live sync, whose push retries it
(`planner.py`, and `handoff.py` holds `is_syncing` for it).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from addon.ecommerce.catalog import CatalogPusher, DependencyFailed
from addon.ecommerce.schemas import SaleorOrderLine
from addon.ecommerce.unlisted import ensure_unlisted
from addon.mailchimp import MailchimpError
from addon.saleor.client import SaleorError

logger = logging.getLogger(__name__)


async def send_products_first(
    catalog: CatalogPusher, nodes: list[dict[str, Any]], never_held: Collection[str]
) -> tuple[set[str], set[str]]:
    """Send the products in `never_held` that these orders' lines name: the Mailchimp variant
    ids their lines may now reference, and the products that could not be sent."""
    lines = [
        SaleorOrderLine.model_validate(line)
        for node in nodes
        for line in node.get("lines") or []
        if line.get("variant") and line["variant"]["product"]["id"] in never_held
    ]
    if not lines:
        return set(), set()
    refs = [(line.variant.product.id, line.variant.id) for line in lines if line.variant]
    try:
        available = await catalog.ensure_products(refs, orders=True)
        available |= await ensure_unlisted(catalog, lines, available)
    except (DependencyFailed, MailchimpError, SaleorError) as exc:
        logger.info(
            "Products of an initial sync's orders not sent first, left to live sync: %s", exc
        )
        return set(), set(never_held)
    return available, set()
