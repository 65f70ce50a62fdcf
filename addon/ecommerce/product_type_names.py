"""A product type renamed in Saleor: its products, whose Mailchimp `type` (or `vendor`) is the
type's name, pushed again.

Renaming a product type (`productTypeUpdate`) saves none of its products and sends no product
event (saleor/graphql/product/mutations/product_type/product_type_update.py); its own
PRODUCT_TYPE_UPDATED exists only from 3.24, and reaches only apps holding
MANAGE_PRODUCT_TYPES_AND_ATTRIBUTES, which the app does not ask. So Mailchimp kept the old name
until each product's next edit. The daily product sweep (`product_sweep.py`) therefore reads
Saleor's product types (`productTypes`: public, saleor/graphql/product/schema.py
`resolve_product_types` checks no permission), a page at a time, and compares their names with
those of its last read (`ProductTypeName`). Each renamed type queues a push of each product of
the type in each swept channel (`reprice.push_listed_products`, `{"productTypes": [id]}`), only
while a field reads the type's name (the default `type`); pushes whose fields read the same send
nothing. The names are recorded once the pushes are queued: a crash between the two queues them
again the next day, never loses them. The first read only records: a rename before it (between
the app's upgrade and its first sweep) waits for the products' next change, or a Resync.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel
from sqlalchemy import delete, select

from addon.ecommerce.context import Context
from addon.ecommerce.models import ProductTypeName
from addon.ecommerce.reprice import push_listed_products
from addon.services import Services

logger = logging.getLogger(__name__)

PAGE = 100  # Saleor's largest `first`


class _ProductType(BaseModel):
    id: str
    name: str


def reads_type_names(context: Context) -> bool:
    """Whether the channel's products carry their type's name (as `type` or `vendor`)."""
    options = context.product_options
    return any(f.source == "product_type" for f in (options.vendor, options.type))


async def note_type_names(services: Services, contexts: list[Context]) -> int:
    """Read Saleor's product types and queue, in each of `contexts` (channels of one
    installation, swept now) whose products carry type names, a push of the products of each
    type renamed since the last read; record the names read. How many types were renamed."""
    if not contexts:
        return 0
    first = contexts[0]
    types = await _read_types(services, first)
    async with services.db.session() as session:
        known = {
            row.type_id: row.name
            for row in await session.scalars(ProductTypeName.of_installation(first.installation_id))
        }
    renamed = [t.id for t in types if t.id in known and known[t.id] != t.name]
    for context in contexts if renamed else []:
        if reads_type_names(context):
            # Saleor is read with no transaction open (`Database.transaction`).
            await push_listed_products(
                services, context, context.installation_id, {"productTypes": renamed}
            )
    if renamed:
        logger.info(
            "%d product type(s) renamed in Saleor: their products are pushed again", len(renamed)
        )
    await _record(services, first.installation_id, types, known)
    return len(renamed)


async def _read_types(services: Services, context: Context) -> list[_ProductType]:
    types: list[_ProductType] = []
    after: str | None = None
    while True:
        data = await services.saleor.execute(
            context.api_url,
            context.token,
            "ecommerce_product_type_names",
            {"first": PAGE, "after": after},
        )
        found = data.get("productTypes") or {}
        types += [_ProductType.model_validate(e["node"]) for e in found.get("edges") or []]
        page = found.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            return types
        after = page.get("endCursor")


async def _record(
    services: Services, installation_id: int, types: list[_ProductType], known: dict[str, str]
) -> None:
    """The names read, as the next read compares them; types Saleor no longer has are
    forgotten."""
    read = {t.id: t.name for t in types}
    async with services.db.transaction() as session:
        gone = [type_id for type_id in known if type_id not in read]
        if gone:
            await session.execute(
                delete(ProductTypeName).where(
                    ProductTypeName.installation_id == installation_id,
                    ProductTypeName.type_id.in_(gone),
                )
            )
        rows = {
            row.type_id: row
            for row in await session.scalars(
                select(ProductTypeName).where(ProductTypeName.installation_id == installation_id)
            )
        }
        for type_id, name in read.items():
            row = rows.get(type_id)
            if row is None:
                session.add(
                    ProductTypeName(installation_id=installation_id, type_id=type_id, name=name)
                )
            elif row.name != name:
                row.name = name


__all__ = ["note_type_names", "reads_type_names"]
