"""A step's slices are planned one at a time: their pages, read side by side, never hold more
than one database session for their ledger lookups at once (on SQLite each session at once is
a connection, with its thread and page cache, which the pool keeps: the worker's memory would
grow with the slices and the store). Planning them side by side gives what planning them one
after the other does."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select

from addon.connection.service import mailchimp_for
from addon.ecommerce.catalog import CatalogPusher
from addon.ecommerce.context import load_context
from addon.ecommerce.models import EntityKind
from addon.initial_sync.planner import Planner
from addon.initial_sync.reader import Reader
from addon.initial_sync.slices import Slice
from addon.installations.models import Installation
from tests.ecommerce.conftest import CHANNEL, Shop


async def test_slices_pages_are_planned_with_one_session_at_a_time(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=6, customers=40, orders=30, seed=11)
    async with shop.services.db.session() as session:
        installation_id = (await session.execute(select(Installation.id))).scalar_one()
    context = await load_context(shop.services, installation_id, CHANNEL)
    assert context is not None
    reader = Reader(shop.services, context)
    pages: list[list[dict[str, Any]]] = []
    piece = Slice()
    while not piece.done:  # customers, page by page (25 a page: 2 pages)
        page = await reader.page(EntityKind.CUSTOMER, piece)
        pages.append(page.nodes)
        piece = piece.read_to(page.end_cursor, not page.has_next)
    pages = [nodes[i : i + 5] for nodes in pages for i in range(0, len(nodes), 5)]
    assert len(pages) >= 8

    async with mailchimp_for(shop.services, installation_id) as client:
        catalog = CatalogPusher(shop.services, context, client)
    sequential = [
        await Planner(shop.services, context, catalog).plan(EntityKind.CUSTOMER, nodes, Slice())
        for nodes in pages
    ]

    database = shop.services.db
    opened = database.session
    now = peak = 0

    @contextlib.asynccontextmanager
    async def counted() -> AsyncIterator[Any]:
        nonlocal now, peak
        async with opened() as session:
            now += 1
            peak = max(peak, now)
            try:
                await asyncio.sleep(0)  # let the other slices run meanwhile
                yield session
            finally:
                now -= 1

    database.session = counted  # type: ignore[method-assign]
    try:
        planner = Planner(shop.services, context, catalog)
        together = await asyncio.gather(
            *(planner.plan(EntityKind.CUSTOMER, nodes, Slice()) for nodes in pages)
        )
    finally:
        database.session = opened  # type: ignore[method-assign]
    assert peak == 1
    assert [p.operations for p in together] == [p.operations for p in sequential]
    assert sum(len(p.operations) for p in together) == sum(len(nodes) for nodes in pages)
