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

import asyncio
import logging
from collections.abc import Collection
from typing import Any

from addon.ecommerce.catalog import CatalogPusher, DependencyFailed
from addon.ecommerce.saleor_schemas import SaleorOrderLine
from addon.ecommerce.unlisted import ensure_unlisted
from addon.mailchimp import InvalidCredentials, MailchimpError, RateLimited
from addon.saleor.client import SaleorError

logger = logging.getLogger(__name__)


class ProductsFirst:
    """Sends a sync's never-held products, one at a time: two slices sending one product at
    once would each record it from a stale read, and the ledger would keep one's variants only
    (live sync repairs that at its next push; an initial sync would drop the other's lines)."""

    def __init__(self, catalog: CatalogPusher) -> None:
        self.catalog = catalog
        self._one_at_a_time = asyncio.Lock()

    async def send(
        self, nodes: list[dict[str, Any]], never_held: Collection[str]
    ) -> tuple[set[str], set[str]]:
        """Send the products in `never_held` that these orders' lines name: the Mailchimp
        variant ids their lines may now reference, and the products that could not be sent. A
        429 or lost credentials are the step's to handle (it waits, or the sync fails), not a
        product's failure."""
        by_product: dict[str, list[SaleorOrderLine]] = {}
        for node in nodes:
            for raw in node.get("lines") or []:
                if raw.get("variant") and raw["variant"]["product"]["id"] in never_held:
                    line = SaleorOrderLine.model_validate(raw)
                    if line.variant is not None:
                        by_product.setdefault(line.variant.product.id, []).append(line)
        available: set[str] = set()
        unsent: set[str] = set()
        async with self._one_at_a_time:
            for product_id, lines in by_product.items():
                try:
                    available |= await self._send_one(lines)
                except (DependencyFailed, MailchimpError, SaleorError) as exc:
                    cause = exc.__cause__ if isinstance(exc, DependencyFailed) else exc
                    if isinstance(cause, RateLimited | InvalidCredentials):
                        raise cause from exc
                    logger.info("A product of a sync's orders was not sent first: %s", exc)
                    unsent.add(product_id)
        return available, unsent

    async def _send_one(self, lines: list[SaleorOrderLine]) -> set[str]:
        refs = [(line.variant.product.id, line.variant.id) for line in lines if line.variant]
        available = await self.catalog.ensure_products(refs, orders=True)
        return available | await ensure_unlisted(self.catalog, lines, available)
