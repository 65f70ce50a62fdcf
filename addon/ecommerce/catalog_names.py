"""A category or attribute value renamed in Saleor: the products whose `vendor` or `type` it is,
pushed again.

A product's vendor and type may be its category's name or the names of its values of an
attribute (the admin's choice: `marketing_settings.py`). Renaming either sends no product event
(`webhooks/ecommerce_catalog_names.graphql` cites Saleor), so Mailchimp kept the old name for
good. The webhook queues, for each tracked channel, a push of each product Saleor lists there
under the category or with the value (`reprice.push_listed_products`: a page of ids at a time;
many pushes go out as a burst). Only while a field reads that kind of name: a category's edit
means nothing to vendors and types read from an attribute. Saleor's event does not say what
changed (a description, a slug): pushes of products whose fields read the same send nothing
(their fingerprints are unchanged).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from addon.ecommerce.context import load_context, product_options
from addon.ecommerce.marketing import ProductOptions
from addon.ecommerce.reprice import push_listed_products
from addon.ecommerce.stores_repository import SettingsRepository, StoreRepository
from addon.installations.webhook_kinds import webhook_job_kind
from addon.jobs.completion import complete_in
from addon.jobs.registry import HandlerRegistry
from addon.jobs.retry import RetryPolicy
from addon.jobs.schemas import ClaimedJob, WebhookJob
from addon.saleor.client import SaleorError
from addon.services import Services


class _Category(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str


class _AttributeValue(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    slug: str | None = None


class _RenameBody(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    category: _Category | None = None
    attribute_value: _AttributeValue | None = Field(None, alias="attributeValue")


CatalogNameEvent = WebhookJob[_RenameBody]


def product_filters(body: _RenameBody, options: ProductOptions) -> list[dict[str, Any]]:
    """The `ProductFilterInput`s of the products whose vendor or type the renamed object may
    be, under the current settings (none when neither field reads it)."""
    fields = (options.vendor, options.type)
    if body.category is not None and any(f.source == "category" for f in fields):
        # Products of its subcategories too (saleor/graphql/product/filters/product_helpers.py
        # `filter_products_by_categories`): a push of one whose category kept its name sends
        # nothing.
        return [{"categories": [body.category.id]}]
    value = body.attribute_value
    if value is None or not value.slug:
        return []
    # Saleor makes attribute slugs lower case (`slugify`); the settings compare them case aside
    # (`marketing.product_field`). A slug no attribute has lists nothing (saleor/graphql/
    # product/filters/product_attributes.py `_update_queries`), nor a value of another attribute.
    keys = sorted({(f.key or "").lower() for f in fields if f.source == "attribute" and f.key})
    return [{"attributes": [{"slug": key, "values": [value.slug]}]} for key in keys]


async def on_catalog_names(job: ClaimedJob, event: CatalogNameEvent, services: Services) -> None:
    async with services.db.session() as session:
        settings = await SettingsRepository(session).find(job.installation_id)
        channels = await StoreRepository(session).pushing_channels(job.installation_id)
    filters = product_filters(event.body, product_options(settings)) if settings else []
    # Saleor is read with no transaction open (`Database.transaction`).
    for channel in channels if filters else []:
        context = await load_context(services, job.installation_id, channel)
        if context is None:
            continue  # tracking turned off since
        for product_filter in filters:
            await push_listed_products(services, context, job.installation_id, product_filter)
    async with services.db.transaction() as session:
        await complete_in(session)


def register(registry: HandlerRegistry) -> None:
    registry.register(
        webhook_job_kind("ecommerce-catalog-names"),
        on_catalog_names,
        payload=CatalogNameEvent,
        retry=RetryPolicy(expected=(SaleorError,)),
    )
