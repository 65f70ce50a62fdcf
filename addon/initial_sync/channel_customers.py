"""A channel's initial sync under the buyer rule (several channels tracked, now or before): its
customers phase sends the customers whose record goes to its store, and its orders phase brings
its registered buyers there (`addon.ecommerce.customer_stores`). Without the rule, neither does
anything."""

from __future__ import annotations

import asyncio
from typing import Any

from addon.ecommerce.context import Context
from addon.ecommerce.customer_stores import (
    buyer_rule,
    buyers_belong,
    customers_of_channel,
    order_channels,
)
from addon.services import Services


class ChannelCustomers:
    def __init__(self, services: Services, context: Context, lookups: asyncio.Lock) -> None:
        self.services = services
        self.ctx = context
        # The planner's: its pages' database reads are made one at a time.
        self._lookups = lookups

    async def _several(self) -> bool:
        async with self._lookups, self.services.db.session() as session:
            _, rule = await buyer_rule(session, self.ctx.installation_id)
        return rule

    async def of_store(self, nodes: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        """A page's customers whose record goes to this channel's store: those it holds, and
        those who bought in the channel (read from Saleor); and how many are left out."""
        if not nodes or not await self._several():
            return nodes, 0
        ids = [str(node["id"]) for node in nodes]
        shopped = await order_channels(self.services, self.ctx.api_url, self.ctx.token, ids)
        async with self._lookups, self.services.db.session() as session:
            belong = await customers_of_channel(
                session, self.ctx.installation_id, self.ctx.channel, ids, shopped
            )
        kept = [node for node in nodes if str(node["id"]) in belong]
        return kept, len(nodes) - len(kept)

    async def buyers_belong(self, nodes: list[dict[str, Any]]) -> None:
        """A page of orders' registered buyers in this channel: their records go to its store,
        as live pushes of their orders decide (not a draft's customer)."""
        buyers = [
            (node.get("user") or {}).get("id")
            for node in nodes
            if node.get("status") != "DRAFT"
            and (node.get("channel") or {}).get("slug") == self.ctx.channel
        ]
        if not any(buyers) or not await self._several():
            return
        async with self.services.db.transaction() as session:
            await buyers_belong(session, self.ctx.installation_id, self.ctx.channel, buyers)
