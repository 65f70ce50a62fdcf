"""Carts of checkouts Saleor made without a word: found every few minutes, pushed as any other.

`checkoutCreateFromOrder` (a signed-in shopper's "buy again") makes a checkout with the
shopper's e-mail and the order's lines and sends no webhook at all, no CHECKOUT_CREATED, no
CHECKOUT_UPDATED (saleor/graphql/checkout/mutations/checkout_create_from_order.py
`create_checkout` saves it, `add_variants_to_checkout` fills it; the same at 3.20.119 and main).
A shopper who left it as it was (the commonest abandonment: a look at the cart) never had a cart
in Mailchimp, so no abandoned-cart e-mail.

Every `DISCOVER_EVERY`, the checkouts created since the last look (newest first, `PAGE_LIMIT`
pages at most) are read; each one with an e-mail and lines, of a channel whose carts are sent,
that the ledger has never heard of gets a push (`push_queue.enqueue_pushes`), which reads it
and sends its cart (`CartPusher.push_cart`): the one ledger path. A checkout whose webhook came
has a record already and is left alone. The look runs while the installation tracks a channel
(queued with the daily cart sweep, `cart_sweep.schedule_sweep`, and by itself after each run).
While Mailchimp is not connected, or no channel sends carts, it reads nothing and moves on: the
checkouts made meanwhile are not owed a cart later (as their webhooks were dropped then).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce.context import Context
from addon.ecommerce.daily_sweep import sweep_round
from addon.ecommerce.models import EntityKind, SyncRecord
from addon.ecommerce.push_queue import enqueue_pushes
from addon.jobs.completion import complete_in
from addon.jobs.models import Job, JobStatus
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.retry import Failure, RetryPolicy
from addon.jobs.schemas import ClaimedJob
from addon.jobs.statements import in_state
from addon.saleor.client import SaleorError
from addon.saleor.paging import Pager
from addon.services import Services

logger = logging.getLogger(__name__)

DISCOVERY_JOB = "ecommerce.cart_discovery"
DISCOVER_EVERY = timedelta(minutes=15)
# A checkout saved just before a look may be committed just after it: each look reads again
# the last minute before the newest creation it saw (the ledger tells those it knows).
OVERLAP = timedelta(minutes=1)
# How far back a look queued without a start reads: a first look, or one `ensure_discovery`
# queued (maybe in place of a running look's next), past the last look's span.
LOOK_BACK = DISCOVER_EVERY + 2 * OVERLAP
PAGE_LIMIT = 20  # of 100 (`ecommerce_new_checkouts.graphql`): a look's work stays bounded


class DiscoveryPayload(BaseModel):
    """Where the next look starts: the creation time (Saleor's) from which it reads."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    since: datetime | None = None


class _Channel(BaseModel):
    slug: str


class NewCheckout(BaseModel):
    """A node of `ecommerce_new_checkouts.graphql`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    created: datetime
    email: str | None = None
    quantity: int = 0
    channel: _Channel


async def schedule_discovery(
    session: AsyncSession,
    installation_id: int,
    *,
    since: datetime | None = None,
    at: datetime | None = None,
) -> None:
    """Queue the installation's next look (merged into a pending one), at the checkouts
    created at `since` or later (None: those of the last look's span, `LOOK_BACK`)."""
    await JobRepository(session).enqueue(
        installation_id,
        DISCOVERY_JOB,
        DiscoveryPayload(since=since).model_dump(mode="json"),
        coalesce_key=DISCOVERY_JOB,
        run_after=at or utcnow() + DISCOVER_EVERY,
    )


async def ensure_discovery(session: AsyncSession, installation_id: int) -> None:
    """The installation's look, queued unless one is pending already (whose payload, where the
    last look stopped, a merge would replace). With no start of its own: one queued by a
    running look between the check and the insert is merged into, and it then reads back
    `LOOK_BACK`, past where that look stopped (it ran within `DISCOVER_EVERY`)."""
    pending = await session.scalar(
        select(Job.id).where(
            Job.installation_id == installation_id,
            Job.coalesce_key == DISCOVERY_JOB,
            in_state(JobStatus.PENDING),
        )
    )
    if pending is None:
        await schedule_discovery(session, installation_id)


async def handle_discovery(job: ClaimedJob, payload: DiscoveryPayload, services: Services) -> None:
    sweep = await sweep_round(services, job.installation_id)
    since = payload.since or utcnow() - LOOK_BACK  # (one queued without a time)
    newest = since
    carts = [c for c in sweep.to_sweep if c.carts_enabled and not c.store_missing]
    if carts:
        found, newest = await _created_since(services, carts[0], since)
        slugs = {c.channel for c in carts}
        wanted = [c for c in found if c.email and c.quantity > 0 and c.channel.slug in slugs]
        queued = await _push_unknown(services, job.installation_id, wanted)
        if queued:
            logger.info("%d cart(s) of checkouts Saleor made without a webhook queued", queued)
    else:
        newest = utcnow()  # no cart to send: those made meanwhile are not owed one later
    async with services.db.transaction() as session:
        if sweep.tracked:
            since = max(since, newest - OVERLAP)
            await schedule_discovery(session, job.installation_id, since=since)
        await complete_in(session)


async def _created_since(
    services: Services, context: Context, since: datetime
) -> tuple[list[NewCheckout], datetime]:
    """The checkouts created at `since` or later (every channel's), and the newest creation
    time seen (`since` if none)."""
    found: list[NewCheckout] = []
    newest = since
    pager = Pager(
        services.saleor,
        context.api_url,
        context.token,
        "ecommerce_new_checkouts",
        "checkouts",
        {},
        max_pages=PAGE_LIMIT,
    )
    async for page in pager:
        nodes = [NewCheckout.model_validate(node) for node in page.nodes]
        recent = [n for n in nodes if n.created >= since]
        found.extend(recent)
        newest = max([newest, *(n.created for n in recent)])
        if len(recent) < len(nodes):
            return found, newest  # newest first: the rest are older still
    if pager.more:
        logger.warning("More checkouts created than a look reads: the oldest were left out")
    return found, newest


async def _push_unknown(
    services: Services, installation_id: int, checkouts: list[NewCheckout]
) -> int:
    """Queue the push of each checkout the ledger has no record of, in its channel."""
    if not checkouts:
        return 0
    async with services.db.transaction() as session:
        known = set(
            await session.scalars(
                select(SyncRecord.saleor_id).where(
                    SyncRecord.installation_id == installation_id,
                    SyncRecord.kind == EntityKind.CART,
                    SyncRecord.saleor_id.in_([c.id for c in checkouts]),
                )
            )
        )
        pushes = [(c.channel.slug, EntityKind.CART, c.id) for c in checkouts if c.id not in known]
        await enqueue_pushes(session, installation_id, pushes)
    return len(pushes)


async def _next_all_the_same(
    session: AsyncSession, job: ClaimedJob, payload: DiscoveryPayload, failure: Failure
) -> None:
    """Saleor failing for the retries' length: the next look is queued all the same."""
    if failure.gave_up:
        await schedule_discovery(session, job.installation_id, since=payload.since)


def register(registry: HandlerRegistry) -> None:
    registry.register(
        DISCOVERY_JOB,
        handle_discovery,
        payload=DiscoveryPayload,
        retry=RetryPolicy(expected=(SaleorError,)),
        on_failure=_next_all_the_same,
    )


__all__ = ["DISCOVERY_JOB", "ensure_discovery", "register", "schedule_discovery"]
