"""A product's sale price read again once Saleor has stored it, on Saleor before 3.23.

A variant's price in Mailchimp is its sale price (`payloads.sale_price`): a catalogue
promotion's discount off, as Saleor stores it. A new product, a price edit, or a move into a
promoted category is saved undiscounted and recalculated a little later by a periodic task
(saleor/product/tasks.py `recalculate_discounted_price_for_products_task`, every 30 s), which
sends PRODUCT_VARIANT_DISCOUNTED_PRICE_UPDATED only since 3.23 (registered by the app there:
`webhooks/registered/ecommerce_discounted_prices.graphql`). Before, the product's push read the
full price, and Mailchimp kept it until the promotion next changed.

So on an older Saleor (its version known: from the installation's first check on) each product
event that may change a price (`PRICE_EVENTS`) queues two rechecks of the product,
`reprice.REPRICE_DELAY` and `reprice.REPRICE_AGAIN` after its first event (as a promotion's
re-price: the recalculation waits for Saleor's task queue, busy in a bulk import), one statement
for a webhook batch's. A recheck queues the product's push in each tracked channel where
Mailchimp holds it synced, the rechecks a worker claims together in one transaction
(`push_queue.enqueue_pushes`; many at once go out as a burst), each sending nothing when the
price read is the one sent. A record still pending is left alone: its push, or its burst, reads
the product later anyway (and a recheck's push would overtake a burst not applied yet, making
its records go one by one).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce.models import EntityKind, MailchimpStore, SyncStatus
from addon.ecommerce.push_queue import enqueue_pushes
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.reprice import REPRICE_AGAIN, REPRICE_DELAY
from addon.ecommerce.stores_repository import StoreRepository, pushing_stores
from addon.installations.models import Installation
from addon.jobs.completion import complete_in
from addon.jobs.inserts import CoalescedJob
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.saleor.versions import DISCOUNTED_PRICE_UPDATED_SINCE, SaleorVersion, parse_version
from addon.services import Services

RECHECK_JOB = "ecommerce.price_recheck"
# The product events of a change Saleor may discount later: a product or variant made, a price
# or a category edited (productVariantChannelListingUpdate sends PRODUCT_VARIANT_UPDATED).
PRICE_EVENTS = frozenset(
    {"PRODUCT_CREATED", "PRODUCT_UPDATED", "PRODUCT_VARIANT_CREATED", "PRODUCT_VARIANT_UPDATED"}
)


class PriceRecheck(BaseModel):
    model_config = ConfigDict(frozen=True)
    product_id: str


async def pushing_channels_and_version(
    session: AsyncSession, installation_id: int
) -> tuple[list[str], SaleorVersion | None]:
    """`StoreRepository.pushing_channels`, with the installation's Saleor version, in the one
    query a product webhook makes (its batch's statements stay as few)."""
    rows = (
        await session.execute(
            pushing_stores(MailchimpStore.channel_slug, Installation.saleor_version)
            .join(Installation, Installation.id == MailchimpStore.installation_id)
            .where(MailchimpStore.installation_id == installation_id)
            .order_by(MailchimpStore.channel_slug)
        )
    ).all()
    return [row[0] for row in rows], parse_version(rows[0][1]) if rows else None


async def queue_rechecks(
    session: AsyncSession,
    installation_id: int,
    version: SaleorVersion | None,
    events: Iterable[tuple[str, str]],
) -> None:
    """Queue the rechecks of each product of `events` ((event type, product id)) that may
    change its sale price, where Saleor (of `version`) tells no discounted price it stores."""
    if version is None or version >= DISCOUNTED_PRICE_UPDATED_SINCE:
        return  # unknown only until the installation's first check, right after installing
    products = sorted({product for event, product in events if event in PRICE_EVENTS})
    if not products:
        return
    now = utcnow()
    await JobRepository(session).enqueue_coalesced(
        [
            CoalescedJob(
                installation_id,
                RECHECK_JOB,
                PriceRecheck(product_id=product).model_dump(),
                f"{RECHECK_JOB}:{product}:{step}",
                None,
                now + delay,
            )
            for product in products
            for step, delay in (("first", REPRICE_DELAY), ("again", REPRICE_AGAIN))
        ]
    )


async def handle_recheck(job: ClaimedJob, recheck: PriceRecheck, services: Services) -> None:
    await handle_rechecks([(job, recheck)], services)


async def handle_rechecks(batch: list[tuple[ClaimedJob, PriceRecheck]], services: Services) -> None:
    """The rechecks of one installation a worker claimed together: their pushes queued, and
    the jobs completed, in one transaction."""
    installation_id = batch[0][0].installation_id
    products = sorted({recheck.product_id for _, recheck in batch})
    async with services.db.transaction() as session:
        ledger = LedgerRepository(session)
        pushes = []
        for channel in await StoreRepository(session).pushing_channels(installation_id):
            held = await ledger.held_by_saleor_ids(
                installation_id, channel, EntityKind.PRODUCT, products
            )
            pushes += [
                (channel, EntityKind.PRODUCT, product)
                for product, record in held.items()
                if record.status is SyncStatus.SYNCED
            ]
        await enqueue_pushes(session, installation_id, pushes)
        await complete_in(session)


def register(registry: HandlerRegistry) -> None:
    registry.register(RECHECK_JOB, handle_recheck, payload=PriceRecheck, batch=handle_rechecks)


__all__ = [
    "PRICE_EVENTS",
    "RECHECK_JOB",
    "PriceRecheck",
    "pushing_channels_and_version",
    "queue_rechecks",
    "register",
]
