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

A type given another tax class (`productTypeUpdate(input: {taxClass})`) changes the prices of
its products that have none of their own (saleor/graphql/tax/dataloaders.py
`TaxClassIdByProductIdLoader`), and sends them no event either: its products are pushed again
in every swept channel, whatever the fields read (`ProductType.taxClass`, for any app). The
first read of a type's tax class only records it, as for names.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict, Field

from addon.ecommerce.context import Context
from addon.ecommerce.models import ProductTypeName
from addon.ecommerce.reprice import push_listed_products
from addon.ecommerce.saleor_schemas import IdRef
from addon.saleor.paging import read_all
from addon.services import Services

logger = logging.getLogger(__name__)


class _ProductType(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    name: str
    tax_class: IdRef | None = Field(None, alias="taxClass")

    @property
    def tax_class_id(self) -> str:
        return self.tax_class.id if self.tax_class else ""


def reads_type_names(context: Context) -> bool:
    """Whether the channel's products carry their type's name (as `type` or `vendor`)."""
    options = context.product_options
    return any(f.source == "product_type" for f in (options.vendor, options.type))


async def note_type_names(services: Services, contexts: list[Context]) -> int:
    """Read Saleor's product types and queue, in each of `contexts` (channels of one
    installation, swept now), a push of the products of each type given another tax class
    since the last read, and, where the products carry type names, of each type renamed; record
    the names and tax classes read. How many types were renamed or given another tax class."""
    if not contexts:
        return 0
    first = contexts[0]
    types = await _read_types(services, first)
    async with services.db.session() as session:
        known = {
            row.type_id: (row.name, row.tax_class_id)
            for row in await session.scalars(ProductTypeName.of_installation(first.installation_id))
        }
    renamed = [t.id for t in types if t.id in known and known[t.id][0] != t.name]
    retaxed = [
        t.id for t in types if t.id in known and known[t.id][1] not in (None, t.tax_class_id)
    ]
    for context in contexts if renamed or retaxed else []:
        pushed = set(retaxed) | (set(renamed) if reads_type_names(context) else set())
        if pushed:
            # Saleor is read with no transaction open (`Database.transaction`).
            await push_listed_products(
                services, context, context.installation_id, {"productTypes": sorted(pushed)}
            )
    if renamed or retaxed:
        logger.info(
            "%d product type(s) renamed and %d given another tax class in Saleor: their "
            "products are pushed again",
            len(renamed),
            len(retaxed),
        )
    await _record(services, first.installation_id, types)
    return len(set(renamed) | set(retaxed))


async def _read_types(services: Services, context: Context) -> list[_ProductType]:
    return await read_all(
        services.saleor,
        context.api_url,
        context.token,
        "ecommerce_product_type_names",
        "productTypes",
        _ProductType,
    )


async def _record(services: Services, installation_id: int, types: list[_ProductType]) -> None:
    """The names and tax classes read, as the next read compares them; types Saleor no longer
    has are forgotten."""
    read = {t.id: t for t in types}
    async with services.db.transaction() as session:
        rows = await session.scalars(ProductTypeName.of_installation(installation_id))
        for row in rows:
            found = read.pop(row.type_id, None)
            if found is None:
                await session.delete(row)
                continue
            if row.name != found.name:
                row.name = found.name
            if row.tax_class_id != found.tax_class_id:
                row.tax_class_id = found.tax_class_id
        for type_id, found in read.items():
            session.add(
                ProductTypeName(
                    installation_id=installation_id,
                    type_id=type_id,
                    name=found.name,
                    tax_class_id=found.tax_class_id,
                )
            )


__all__ = ["note_type_names", "reads_type_names"]
