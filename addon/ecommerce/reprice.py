"""Products re-priced after a catalogue promotion changed, started or ended.

A variant's price in Mailchimp is its sale price (`payloads.sale_price`): what Saleor's
storefront charges, a catalogue promotion taken off. Saleor sends no product webhook when a
promotion changes that price. It marks the listings concerned and a periodic task stores their
new discounted prices (saleor/product/tasks.py `recalculate_discounted_price_for_products_task`,
every 30 s by default, after `update_variant_relations_for_active_promotion_rules_task`, also
every 30 s). So a promotion's webhook (`webhooks/ecommerce_promotions.graphql`, with the
older sale mutations' SALE_*) queues, for each tracked channel, a re-price `REPRICE_DELAY` after
the last of them (and another later); it queues a push of each of the channel's products, a page
of ids at a time. Pushes of products whose price did not change send nothing (their
fingerprint is unchanged); many at once go out as a burst (`burst.py`), its reads a page at a
time. All of the channel's products, not those of the promotion's rules: an edit can take
products out of a rule as well as put them in, and a rule names categories and collections too.

A channel deactivated or activated again is re-pushed the same way (`queue_reprice_now`, from
`channel_presence.note_activity`): its products go hidden while it sells nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce.context import Context, load_context
from addon.ecommerce.models import EntityKind
from addon.ecommerce.push_queue import enqueue_pushes
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.stores_repository import StoreRepository
from addon.installations.webhook_kinds import webhook_job_kind
from addon.jobs.completion import complete_in
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.retry import RetryPolicy
from addon.jobs.schemas import ClaimedJob, WebhookJob
from addon.saleor.client import SaleorError
from addon.saleor.paging import Pager
from addon.services import Services

REPRICE_JOB = "ecommerce.reprice"
# After the last of a promotion's changes: two runs of Saleor's 30-second tasks, and a margin;
# then once more, for a promotion of many products (the recalculation stores a batch of
# listings a run and queues the next: `DISCOUNTED_PRODUCT_BATCH`) or a busy task queue.
REPRICE_DELAY = timedelta(minutes=2)
REPRICE_AGAIN = timedelta(minutes=10)
PAGE = 100  # Saleor's largest `first`


class _Promotion(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str | None = None


class _Rule(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    predicate_type: str | None = Field(None, alias="predicateType")


class _PromotionBody(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    promotion: _Promotion | None = None
    promotion_rule: _Rule | None = Field(None, alias="promotionRule")

    def changes_prices(self) -> bool:
        """Not an order promotion's (a null type: a sale from before promotions, a catalogue
        one; SALE_* carry neither a promotion nor a rule: a sale is a catalogue one)."""
        kind = self.promotion.type if self.promotion else None
        if self.promotion_rule is not None:
            kind = self.promotion_rule.predicate_type
        return kind != "ORDER"


PromotionEvent = WebhookJob[_PromotionBody]


class RepriceDue(BaseModel):
    model_config = ConfigDict(frozen=True)
    channel: str


def _reprice_key(channel: str, step: str) -> str:
    """A channel's pending re-price, "first" (debounced) or "again": `queue_reprice_now` merges
    into the waiting "first" one."""
    return f"{REPRICE_JOB}:{channel}:{step}"


async def on_promotions(job: ClaimedJob, event: PromotionEvent, services: Services) -> None:
    async with services.db.transaction() as session:
        if event.body.changes_prices():
            channels = await StoreRepository(session).pushing_channels(job.installation_id)
            for channel in channels:
                for step, delay in (("first", REPRICE_DELAY), ("again", REPRICE_AGAIN)):
                    # The first is debounced (a change merged into it moves it later); the second
                    # keeps its time, so changes that keep coming are re-priced within it.
                    await JobRepository(session).enqueue(
                        job.installation_id,
                        REPRICE_JOB,
                        RepriceDue(channel=channel).model_dump(),
                        coalesce_key=_reprice_key(channel, step),
                        run_after=utcnow() + delay,
                        later=step == "first",
                    )
        await complete_in(session)


async def queue_reprice_now(session: AsyncSession, installation_id: int, channel: str) -> None:
    """Re-price the channel now (merged into a waiting first pass, which then runs now too): what
    Mailchimp holds of its products may be out of date for another reason than a promotion."""
    await JobRepository(session).enqueue(
        installation_id,
        REPRICE_JOB,
        RepriceDue(channel=channel).model_dump(),
        coalesce_key=_reprice_key(channel, "first"),
        run_after=utcnow(),
        sooner=True,
    )


async def handle_reprice(job: ClaimedJob, due: RepriceDue, services: Services) -> None:
    """Queue a push of each of the channel's products (while it is still tracked), and of each
    product Mailchimp holds that Saleor no longer lists there (deleted or unlisted while no
    webhook could tell: its push hides it)."""
    context = await load_context(services, job.installation_id, due.channel)
    if context is None:
        return
    listed = await push_listed_products(services, context, job.installation_id)
    async with services.db.session() as session:
        held = await LedgerRepository(session).held_ids(
            job.installation_id, due.channel, EntityKind.PRODUCT
        )
    await _push(services, job.installation_id, due.channel, sorted(set(held) - listed))
    async with services.db.transaction() as session:
        await complete_in(session)


async def push_listed_products(
    services: Services,
    context: Context,
    installation_id: int,
    product_filter: dict[str, Any] | None = None,
) -> set[str]:
    """Queue a push of each product Saleor lists in the context's channel (those
    `product_filter`, a `ProductFilterInput`, keeps), a page of ids at a time; the ids listed."""
    listed: set[str] = set()
    variables = {"channel": context.channel, "first": PAGE, "filter": product_filter}
    async for page in Pager(
        services.saleor,
        context.api_url,
        context.token,
        "ecommerce_channel_product_ids",
        "products",
        variables,
    ):
        ids = [node["id"] for node in page.nodes]
        listed.update(ids)
        await _push(services, installation_id, context.channel, ids)
    return listed


async def _push(services: Services, installation_id: int, channel: str, ids: list[str]) -> None:
    for start in range(0, len(ids), PAGE):
        async with services.db.transaction() as session:
            records = [(channel, EntityKind.PRODUCT, id_) for id_ in ids[start : start + PAGE]]
            await enqueue_pushes(session, installation_id, records)


def register(registry: HandlerRegistry) -> None:
    registry.register(
        webhook_job_kind("ecommerce-promotions"), on_promotions, payload=PromotionEvent
    )
    registry.register(
        REPRICE_JOB,
        handle_reprice,
        payload=RepriceDue,
        retry=RetryPolicy(expected=(SaleorError,)),
    )


__all__ = ["REPRICE_DELAY", "REPRICE_JOB", "RepriceDue", "push_listed_products", "register"]
