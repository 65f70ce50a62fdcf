"""Saleor's e-commerce webhooks: decide what to push (the entity and the channels tracking it).

A webhook only says *what* changed; its handler queues the entity's push (`push_queue.py`) for
every tracked channel it belongs to (a customer's: `customer_stores.py`), the push reads the rest
from Saleor. So does the subscriptions capability's event of a customer's names written from
Mailchimp, whose Saleor echo is not handled (`on_names_written`). An order of a channel not
tracked queues its products' stock pushes in the tracked ones (`on_orders`). The job is recorded
done in the same transaction (`complete_in`).

Product and customer webhooks a worker claims together are handled together (`batch=`, see
`addon.jobs.registry`): the channels read once, every record marked pending and every push
queued in a few statements, and all the webhook jobs completed in that same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce.burst_read import read_by_ids
from addon.ecommerce.customer_stores import stores_of
from addon.ecommerce.models import EntityKind
from addon.ecommerce.price_recheck import pushing_channels_and_version, queue_rechecks
from addon.ecommerce.push_queue import enqueue_push, enqueue_pushes, enqueue_stock_pushes
from addon.ecommerce.stores_repository import SettingsRepository, StoreRepository
from addon.installations.models import Installation
from addon.installations.repository import InstallationRepository
from addon.installations.webhook_kinds import webhook_job_kind
from addon.jobs.completion import complete_in
from addon.jobs.registry import HandlerRegistry
from addon.jobs.schemas import ClaimedJob, WebhookJob
from addon.saleor.address_owners import AddressEvent, address_owners, is_deletion
from addon.services import Services
from addon.subscriptions.profile_writeback import CustomerNamesWritten


class _Ref(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str


class _ChannelSlug(BaseModel):
    model_config = ConfigDict(extra="ignore")
    slug: str


class _InChannel(_Ref):
    channel: _ChannelSlug


class _VariantRef(_Ref):
    product: _Ref


class _OrderLine(BaseModel):
    model_config = ConfigDict(extra="ignore")
    variant: _VariantRef | None = None


class _OrderLines(_Ref):
    """What an untracked channel's order is read for: its lines' products."""

    lines: list[_OrderLine] = []


class _EventBody(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    product: _Ref | None = None
    product_variant: _VariantRef | None = Field(None, alias="productVariant")
    user: _Ref | None = None
    order: _InChannel | None = None
    orders: list[_InChannel] | None = None  # ORDER_BULK_CREATED (`orderBulkCreate`)
    checkout: _InChannel | None = None


# Order events that allocate, release or ship nothing (a payment, a refund without a return, a
# tracking number): an untracked channel's order is not read for its stock on them.
MOVES_NO_STOCK = frozenset(
    {
        "ORDER_FULLY_PAID",
        "ORDER_REFUNDED",
        "ORDER_FULLY_REFUNDED",
        "FULFILLMENT_TRACKING_NUMBER_UPDATED",
    }
)

# The payload of an e-commerce webhook job: only the entity's id (and channel) matter, the push
# reads the entity itself from Saleor.
EcommerceEvent = WebhookJob[_EventBody]


async def _tracked_channels(session: Any, installation_id: int) -> Sequence[str]:
    """Channels to push to; none while e-commerce tracking is off."""
    return await StoreRepository(session).pushing_channels(installation_id)


async def on_products(job: ClaimedJob, event: EcommerceEvent, services: Services) -> None:
    body = event.body
    product = body.product or (body.product_variant.product if body.product_variant else None)
    if product is None:
        return
    async with services.db.transaction() as session:
        channels, version = await pushing_channels_and_version(session, job.installation_id)
        for channel in channels:
            await enqueue_push(
                session, job.installation_id, channel, EntityKind.PRODUCT, product.id
            )
        # And again once Saleor has discounted it (`price_recheck`).
        await queue_rechecks(session, job.installation_id, version, [(event.event, product.id)])
        await complete_in(session)


async def _customer_pushes(
    services: Services, installation_id: int, user_ids: Sequence[str]
) -> list[tuple[str, EntityKind, str]]:
    """Each customer's push, to the stores their record goes to (`customer_stores.py`): read
    before the job's transaction, which a Saleor read must not hold open."""
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(installation_id)
    if installation is None or not user_ids:
        return []
    return [
        (channel, EntityKind.CUSTOMER, user_id)
        for user_id, channels in (await stores_of(services, installation, user_ids)).items()
        for channel in channels
    ]


async def on_customers(job: ClaimedJob, event: EcommerceEvent, services: Services) -> None:
    body = event.body
    if body.user is None:
        return
    pushes = await _customer_pushes(services, job.installation_id, [body.user.id])
    async with services.db.transaction() as session:
        await enqueue_pushes(session, job.installation_id, pushes)
        await complete_in(session)


def _product_id(body: _EventBody) -> str | None:
    product = body.product or (body.product_variant.product if body.product_variant else None)
    return product.id if product is not None else None


def _user_id(body: _EventBody) -> str | None:
    return body.user.id if body.user is not None else None


async def _pushes_together(
    batch: list[tuple[ClaimedJob, EcommerceEvent]],
    services: Services,
    kind: EntityKind,
    entity_id: Callable[[_EventBody], str | None],
) -> None:
    """The webhooks of one installation (one claim's): each entity's push queued for every
    tracked channel, all in one transaction that completes the jobs too."""
    installation_id = batch[0][0].installation_id
    ids = [found for _, event in batch if (found := entity_id(event.body)) is not None]
    if kind is EntityKind.CUSTOMER:
        pushes = await _customer_pushes(services, installation_id, ids)
    async with services.db.transaction() as session:
        version = None
        if kind is not EntityKind.CUSTOMER:
            channels, version = (
                await pushing_channels_and_version(session, installation_id) if ids else ([], None)
            )
            pushes = [(channel, kind, id_) for id_ in ids for channel in channels]
        await enqueue_pushes(session, installation_id, pushes)
        if kind is EntityKind.PRODUCT:  # again once discounted (`price_recheck`)
            events = [(e.event, found) for _, e in batch if (found := entity_id(e.body))]
            await queue_rechecks(session, installation_id, version, events)
        await complete_in(session)


async def on_products_together(
    batch: list[tuple[ClaimedJob, EcommerceEvent]], services: Services
) -> None:
    await _pushes_together(batch, services, EntityKind.PRODUCT, _product_id)


async def on_customers_together(
    batch: list[tuple[ClaimedJob, EcommerceEvent]], services: Services
) -> None:
    await _pushes_together(batch, services, EntityKind.CUSTOMER, _user_id)


async def on_orders(job: ClaimedJob, event: EcommerceEvent, services: Services) -> None:
    orders = ([event.body.order] if event.body.order else []) + (event.body.orders or [])
    if not orders:
        return
    async with services.db.transaction() as session:
        tracked = await _tracked_channels(session, job.installation_id)
        # An order of a channel not tracked moves the stock tracked ones show all the same
        # (warehouses are shared between channels: `enqueue_stock_pushes`).
        moved = tracked and event.event not in MOVES_NO_STOCK
        elsewhere = [o.id for o in orders if o.channel.slug not in tracked] if moved else []
        installation = (
            await InstallationRepository(session).get(job.installation_id) if elsewhere else None
        )
        if installation is None:
            await _queue_orders(session, job.installation_id, orders, tracked)
            await complete_in(session)
            return
    # Read with no transaction open (`Database.transaction`).
    products = await _ordered_products(services, installation, elsewhere)
    async with services.db.transaction() as session:
        await _queue_orders(session, job.installation_id, orders, tracked)
        await enqueue_stock_pushes(session, job.installation_id, None, products)
        await complete_in(session)


async def _queue_orders(
    session: AsyncSession, installation_id: int, orders: list[_InChannel], tracked: Sequence[str]
) -> None:
    """Each order's push, in its channel if tracked."""
    pushes = [(o.channel.slug, EntityKind.ORDER, o.id) for o in orders if o.channel.slug in tracked]
    await enqueue_pushes(session, installation_id, pushes)


async def _ordered_products(
    services: Services, installation: Installation, order_ids: list[str]
) -> list[str]:
    """The products of the orders' lines (those whose variant Saleor still has), read a page of
    orders at a time (`burst_read.read_by_ids`); a draft, which Saleor leaves out here and
    which holds no stock, has none."""
    orders = await read_by_ids(
        services, installation.saleor_api_url, installation.app_token, EntityKind.ORDER, order_ids
    )
    products: list[str] = []
    for node in orders.values():
        order = _OrderLines.model_validate(node)
        products.extend(line.variant.product.id for line in order.lines if line.variant)
    return products


async def on_checkouts(job: ClaimedJob, event: EcommerceEvent, services: Services) -> None:
    checkout = event.body.checkout
    if checkout is None:
        return
    async with services.db.transaction() as session:
        await complete_in(session)  # whatever follows, this transaction is the job's last
        settings = await SettingsRepository(session).find(job.installation_id)
        if settings is None or not settings.abandoned_carts_enabled:
            return
        if checkout.channel.slug in await _tracked_channels(session, job.installation_id):
            await enqueue_push(
                session,
                job.installation_id,
                checkout.channel.slug,
                EntityKind.CART,
                checkout.id,
                delay=services.settings.ecommerce_cart_debounce_seconds,
            )


async def on_names_written(
    job: ClaimedJob, event: CustomerNamesWritten, services: Services
) -> None:
    """The app wrote a customer's names from Mailchimp: its record follows (Saleor's echo of
    the write is the app's own, and not handled)."""
    pushes = await _customer_pushes(services, job.installation_id, [event.user_id])
    async with services.db.transaction() as session:
        await enqueue_pushes(session, job.installation_id, pushes)
        await complete_in(session)


async def on_addresses(
    job: ClaimedJob, event: WebhookJob[AddressEvent], services: Services
) -> None:
    """A customer's address edited or deleted: their record follows, its address being their
    default billing address (Saleor sent no CUSTOMER_UPDATED; addon/saleor/address_owners.py).
    A push sends nothing unless the record changed."""
    async with services.db.session() as session:
        channels = await _tracked_channels(session, job.installation_id)
        installation = await InstallationRepository(session).get(job.installation_id)
    if not channels or installation is None:
        return
    owners = await address_owners(
        services.saleor,
        installation.saleor_api_url,
        installation.app_token,
        event.body,
        deleted=is_deletion(event.event),
    )
    pushes = await _customer_pushes(services, job.installation_id, [o.id for o in owners])
    async with services.db.transaction() as session:
        await enqueue_pushes(session, job.installation_id, pushes)
        await complete_in(session)


def register_webhooks(registry: HandlerRegistry) -> None:
    for slug, handler, together in (
        ("ecommerce-products", on_products, on_products_together),
        # Registered by the app on Saleor 3.23+ (webhooks/registered/).
        ("ecommerce-discounted-prices", on_products, on_products_together),
        ("ecommerce-customers", on_customers, on_customers_together),
        ("ecommerce-orders", on_orders, None),
        ("ecommerce-checkouts", on_checkouts, None),
        # Registered by the app on Saleor 3.22+ (webhooks/registered/).
        ("ecommerce-checkouts-authorized", on_checkouts, None),
    ):
        registry.register(webhook_job_kind(slug), handler, payload=EcommerceEvent, batch=together)
    registry.register(
        webhook_job_kind("ecommerce-addresses"), on_addresses, payload=WebhookJob[AddressEvent]
    )
