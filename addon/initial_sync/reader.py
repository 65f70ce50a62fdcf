"""Reading a channel's products, customers and orders from Saleor, page by page, slice by slice.

Owns the documents the initial sync reads with, the variables of each (the channel; a slice's
creation range with the filter the installation's Saleor version has, see `slices`), the bounds
a kind is split by (its oldest and newest entity, one request) and the cursor pagination: the
next page of a slice is fetched while the caller plans the current one, and reading stops after
about `limit` entities so a step stays short and memory stays flat. Every page is read oldest
first; a slice whose cursor is of another sort is read again from its start (see `slices`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

from addon.ecommerce.context import Context
from addon.ecommerce.models import EntityKind
from addon.initial_sync.slices import (
    CREATED_FIELD,
    Slice,
    customer_filter,
    order_filter,
    order_instants,
    parse_time,
)
from addon.saleor.client import SaleorQueryError
from addon.saleor.paging import Page as Page  # the pipeline's and its tests' name for it
from addon.saleor.paging import read_page
from addon.saleor.versions import order_document
from addon.services import Services

logger = logging.getLogger(__name__)

FIELDS = {
    EntityKind.PRODUCT: "products",
    EntityKind.CUSTOMER: "customers",
    EntityKind.ORDER: "orders",
}
INVALID_CURSOR = "Received cursor is invalid."
BOUNDS = {
    EntityKind.CUSTOMER: "initial_sync_customers_bounds",
    EntityKind.ORDER: "initial_sync_orders_bounds",
}


class Reader:
    """Pages of one channel's entities, as the installation's Saleor serves them."""

    def __init__(self, services: Services, context: Context) -> None:
        self.services = services
        self.ctx = context
        self._instants: bool | None = None

    async def orders_by_instant(self) -> bool:
        """Whether Saleor filters orders to the instant (read once per step)."""
        if self._instants is None:
            async with self.services.db.session() as session:
                self._instants = await order_instants(session, self.ctx.installation_id)
        return self._instants

    async def _execute(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        return await self.services.saleor.execute(
            self.ctx.api_url, self.ctx.token, document, variables
        )

    async def bounds(self, kind: EntityKind) -> tuple[datetime | None, datetime | None]:
        """When the kind's oldest and newest entity were created (None, None: there are none)."""
        variables = {"channel": self.ctx.channel} if kind is EntityKind.ORDER else {}
        data = await self._execute(BOUNDS[kind], variables)

        def first(alias: str) -> datetime | None:
            edges = (data.get(alias) or {}).get("edges") or []
            return parse_time(edges[0]["node"].get(CREATED_FIELD[kind])) if edges else None

        return first("oldest"), first("newest")

    async def page(self, kind: EntityKind, piece: Slice) -> Page:
        """The slice's next page: after its cursor if it is one of the documents' sort, else
        from its start; Saleor's total only with its first page ever read."""
        cursor = piece.position
        variables: dict[str, Any] = {
            "first": self.services.settings.initial_sync_page_size,
            "withTotal": not piece.begun,  # Saleor's count (`Page.total`): a slice's first page
        }
        if kind is EntityKind.PRODUCT:
            document = "initial_sync_products"
            variables.update(self.ctx.product_options.read_variables())
        elif kind is EntityKind.CUSTOMER:
            document, filters = customer_filter(piece)
            variables.update(filters)
        else:
            document, filters = order_filter(piece, await self.orders_by_instant())
            document = order_document(document, self.ctx.saleor_version)
            variables.update(filters)
        if kind is not EntityKind.CUSTOMER:
            variables["channel"] = self.ctx.channel
        saleor, field = self.services.saleor, FIELDS[kind]
        try:
            return await read_page(
                saleor, self.ctx.api_url, self.ctx.token, document, field, variables, cursor
            )
        except SaleorQueryError as exc:
            if cursor is None or not cursor_refused(exc):
                raise
            # Not a position in the sort asked for (any more): Saleor changed the sort's fields
            # under a running sync (`OrderSortField.CREATED_AT`, 3.22.0). From the start again.
            logger.warning(
                "Initial sync of channel %s: Saleor refused a %s cursor (%s); reading its slice "
                "from the start again",
                self.ctx.channel,
                kind.value,
                exc,
            )
            return await read_page(
                saleor, self.ctx.api_url, self.ctx.token, document, field, variables, None
            )

    async def pages(self, kind: EntityKind, piece: Slice, limit: int) -> AsyncGenerator[Page]:
        """Pages of the slice after its cursor until about `limit` entities were read (whatever
        the caller skips: its position is recorded) or the last page; the next page is fetched
        while the caller works on the one yielded. Use with `contextlib.aclosing`."""
        read = 0
        fetch: asyncio.Task[Page] | None = asyncio.ensure_future(self.page(kind, piece))
        try:
            while fetch is not None:
                page = await fetch
                fetch = None
                read += len(page.nodes)
                if page.has_next and read < limit:
                    ahead = piece.read_to(page.end_cursor, False)
                    fetch = asyncio.ensure_future(self.page(kind, ahead))
                yield page
        finally:
            if fetch is not None:
                fetch.cancel()


def cursor_refused(exc: SaleorQueryError) -> bool:
    """Whether Saleor refused the page's cursor: "Received cursor is invalid." (a cursor of
    another number of fields, or a value an integer field cannot take), or Django's
    `ValidationError` (a value a date-time or UUID field cannot take): saleor/graphql/core/
    connection.py `connection_from_queryset_slice`, the same at 3.20.119 and 3.22.0."""
    for error in exc.errors:
        if not isinstance(error, dict):
            continue
        extensions = error.get("extensions")
        exception = extensions.get("exception") if isinstance(extensions, dict) else None
        code = exception.get("code") if isinstance(exception, dict) else None
        if error.get("message") == INVALID_CURSOR or code == "ValidationError":
            return True
    return False
