"""A Saleor connection read a page at a time, by its cursor (`pageInfo` of the `NextPage`
fragment), with the app's one Saleor client: the loop every paged read would otherwise write
again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pydantic import SecretStr

from addon.saleor.client import SaleorClient


async def pages(
    saleor: SaleorClient,
    api_url: str,
    token: SecretStr,
    document: str,
    field: str,
    variables: dict[str, Any],
) -> AsyncIterator[list[dict[str, Any]]]:
    """The nodes of the connection `field` that `document` reads, a page at a time (`$after`
    set from each page's `endCursor`), until the last page."""
    after: str | None = None
    while True:
        data = await saleor.execute(api_url, token, document, {**variables, "after": after})
        found = data.get(field) or {}
        yield [edge["node"] for edge in found.get("edges") or []]
        page = found.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            return
        after = page.get("endCursor")


__all__ = ["pages"]
