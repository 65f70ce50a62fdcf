"""Re-reading a burst's entities from Saleor by id, a page at a time (`filter: {ids}`), instead
of one query each (`burst.py`)."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import SecretStr

from addon.ecommerce.context import Context
from addon.ecommerce.models import EntityKind
from addon.saleor.versions import order_document
from addon.services import Services

DOCUMENTS = {
    EntityKind.PRODUCT: ("ecommerce_products_by_ids", "products"),
    EntityKind.CUSTOMER: ("ecommerce_customers_by_ids", "customers"),
    # Saleor lists no drafts here: a draft is absent, as a deleted order is.
    EntityKind.ORDER: ("ecommerce_orders_by_ids", "orders"),
}
# Pages of one burst read from Saleor side by side.
READS_AT_ONCE = 4


async def read(
    services: Services, ctx: Context, kind: EntityKind, saleor_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """The entities as Saleor serves them now, by id (`read_by_ids`), products as the channel
    sells them."""
    variables: dict[str, Any] = {}
    if kind is EntityKind.PRODUCT:
        variables["channel"] = ctx.channel
        variables.update(ctx.product_options.read_variables())
    document = order_document(DOCUMENTS[kind][0], ctx.saleor_version)
    return await read_by_ids(
        services, ctx.api_url, ctx.token, kind, saleor_ids, variables, document=document
    )


async def read_by_ids(
    services: Services,
    api_url: str,
    token: SecretStr,
    kind: EntityKind,
    saleor_ids: list[str],
    variables: dict[str, Any] | None = None,
    *,
    document: str | None = None,
) -> dict[str, dict[str, Any]]:
    """The entities as Saleor serves them now, by id, a page (Saleor's 100 at most) per
    query; those Saleor does not return (deleted, not in the channel) are absent. `document`:
    the kind's, or a twin selecting more (`versions.order_document`)."""
    default, field = DOCUMENTS[kind]
    document = document or default
    size = services.settings.initial_sync_page_size
    gate = asyncio.Semaphore(READS_AT_ONCE)

    async def page(ids: list[str]) -> list[dict[str, Any]]:
        asked = {**(variables or {}), "ids": ids, "first": len(ids)}
        async with gate:
            data = await services.saleor.execute(api_url, token, document, asked)
        return [edge["node"] for edge in (data.get(field) or {}).get("edges") or []]

    chunks = [saleor_ids[i : i + size] for i in range(0, len(saleor_ids), size)]
    found: dict[str, dict[str, Any]] = {}
    for nodes in await asyncio.gather(*(page(chunk) for chunk in chunks)):
        found.update((str(node["id"]), node) for node in nodes)
    return found
