"""A product's push again when its publication or purchase date comes (`publication.py`), or
a variant's preorder ends (`preorder.py`).

Saleor sends no webhook when a product's `publishedAt` or `availableForPurchaseAt` passes, so a
product pushed hidden before its date would stay hidden in Mailchimp until its next edit; nor
when a preorder's `endDate` passes, after which the variant sells its stock, not its preorder.
Its push queues this job for that moment (`look_again_when_on_offer`, `next_look`); the job
queues the product's push, which sends it as it is then. One job per product and channel, at
the soonest date asked for: a date moved later makes that push find it still waiting, and it
asks again.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from addon.ecommerce.context import Context
from addon.ecommerce.models import EntityKind
from addon.ecommerce.preorder import ends_after
from addon.ecommerce.publication import next_change
from addon.ecommerce.push_queue import enqueue_push
from addon.ecommerce.saleor_schemas import SaleorProduct
from addon.ecommerce.stores_repository import StoreRepository
from addon.jobs.completion import complete_in
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.services import Services

OFFER_JOB = "ecommerce.product_on_offer"


class OfferDue(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel: str
    saleor_id: str


def next_look(product: SaleorProduct, channel: str, now: datetime) -> datetime | None:
    """The first moment after `now` at which what the product's push sends changes by the
    clock alone: it goes on offer in the channel, or a variant's preorder ends."""
    preorders = (variant.preorder for variant in product.variants or [])
    moments = [next_change(product.channel_listings, channel, now), ends_after(preorders, now)]
    coming = [moment for moment in moments if moment is not None]
    return min(coming) if coming else None


async def look_again_when_on_offer(
    services: Services, ctx: Context, product: SaleorProduct, now: datetime
) -> None:
    """Queue the product's push for the moment it goes on offer or a preorder of its ends, if
    one is to come (`next_look`)."""
    coming = next_look(product, ctx.channel, now)
    if coming is None:
        return
    due = OfferDue(channel=ctx.channel, saleor_id=product.id)
    async with services.db.transaction() as session:
        await JobRepository(session).enqueue(
            ctx.installation_id,
            OFFER_JOB,
            due.model_dump(),
            coalesce_key=f"{OFFER_JOB}:{ctx.channel}:{product.id}",
            run_after=coming,
            sooner=True,
        )


async def handle_offer_due(job: ClaimedJob, due: OfferDue, services: Services) -> None:
    """The product's push, as a webhook queues it: only while its channel is pushed to (a push
    queued for a channel no longer tracked would stay pending, and a later initial sync skips
    pending records). Tracked again, the channel's initial sync sends it as it is then."""
    async with services.db.transaction() as session:
        if due.channel in await StoreRepository(session).pushing_channels(job.installation_id):
            await enqueue_push(
                session, job.installation_id, due.channel, EntityKind.PRODUCT, due.saleor_id
            )
        await complete_in(session)


def register(registry: HandlerRegistry) -> None:
    registry.register(OFFER_JOB, handle_offer_due, payload=OfferDue)


__all__ = ["OFFER_JOB", "OfferDue", "look_again_when_on_offer", "next_look", "register"]
