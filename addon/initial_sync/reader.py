"""Reading a channel's products, customers and orders from Saleor, page by page.

Owns the documents the initial sync reads with, the variables of each (the channel; orders
since a date with the filter the installation's Saleor version has, see `orders_since`) and the
cursor pagination: the next page is fetched while the caller plans the current one, and reading
stops after about `limit` entities so a step stays short and memory stays flat.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from addon.ecommerce.context import Context
from addon.ecommerce.models import EntityKind
from addon.initial_sync.orders_since import orders_since_query
from addon.services import Services

DOCUMENTS = {
    EntityKind.PRODUCT: ("initial_sync_products", "products"),
    EntityKind.CUSTOMER: ("initial_sync_customers", "customers"),
    EntityKind.ORDER: ("initial_sync_orders", "orders"),
}


@dataclass(frozen=True)
class Page:
    nodes: list[dict[str, Any]]
    end_cursor: str | None
    has_next: bool
    total: int | None  # Saleor's count, asked for with the first page only


class Reader:
    """Pages of one channel's entities, as the installation's Saleor serves them."""

    def __init__(self, services: Services, context: Context, orders_since: datetime | None) -> None:
        self.services = services
        self.ctx = context
        self.orders_since = orders_since

    async def page(self, kind: EntityKind, cursor: str | None) -> Page:
        document, field = DOCUMENTS[kind]
        variables: dict[str, Any] = {
            "first": self.services.settings.initial_sync_page_size,
            "after": cursor,
            "withTotal": cursor is None,
        }
        if kind is not EntityKind.CUSTOMER:
            variables["channel"] = self.ctx.channel
        if kind is EntityKind.ORDER and self.orders_since is not None:
            # Filtered by Saleor, with the filter the installation's Saleor version has.
            async with self.services.db.session() as session:
                document, filters = await orders_since_query(
                    session, self.ctx.installation_id, self.orders_since
                )
            variables.update(filters)
        data = await self.services.saleor.execute(
            self.ctx.api_url, self.ctx.token, document, variables
        )
        connection = data.get(field) or {}
        page_info = connection.get("pageInfo") or {}
        total = connection.get("totalCount")
        return Page(
            nodes=[edge["node"] for edge in connection.get("edges") or []],
            end_cursor=page_info.get("endCursor") or cursor,
            has_next=bool(page_info.get("hasNextPage")),
            total=int(total) if total is not None else None,
        )

    async def pages(self, kind: EntityKind, cursor: str | None, limit: int) -> AsyncGenerator[Page]:
        """Pages after `cursor` until about `limit` entities were read (whatever the caller
        skips: its position is recorded) or the last page; the next page is fetched while the
        caller works on the one yielded. Use with `contextlib.aclosing`."""
        read = 0
        fetch: asyncio.Task[Page] | None = asyncio.ensure_future(self.page(kind, cursor))
        try:
            while fetch is not None:
                page = await fetch
                fetch = None
                read += len(page.nodes)
                if page.has_next and read < limit:
                    fetch = asyncio.ensure_future(self.page(kind, page.end_cursor))
                yield page
        finally:
            if fetch is not None:
                fetch.cancel()
