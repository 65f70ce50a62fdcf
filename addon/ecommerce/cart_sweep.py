"""Carts of checkouts Saleor deleted without a word: found once a day, deleted from Mailchimp.

Saleor deletes inactive checkouts in a periodic task that sends no webhook
(saleor/checkout/tasks.py `delete_expired_checkouts` → `checkout.utils.delete_checkouts`, the
same at 3.20.119 and main): one with an e-mail after 90 days without a change
(`USER_CHECKOUTS_TIMEDELTA`, which a deployment may shorten), one emptied after 6 hours; and
`channelDelete` deletes a channel's checkouts likewise. Their carts stayed in Mailchimp for
good: counted as abandoned, their restore links dead.

Once a day (`daily_sweep.SWEEP_EVERY`), the carts Mailchimp holds whose record has not changed for
`QUIET_FOR` (a checkout changed since was there then) are looked up in Saleor, `PAGE` to a
request. Each one Saleor no longer has gets a push (`push_queue.enqueue_pushes`), which reads
the checkout, finds it gone and deletes the cart (`CartPusher.push_cart`): the one ledger path, with
its retries and its record; a quarantined cart Mailchimp holds is looked up too. The quiet
records of carts removed because their checkout was paid (`cart_payment.py`) are looked up too,
with their payment statuses: one whose payment went away (Saleor says nothing of it, see
`_unpaid`) gets a push, which finds it unpaid and sends its cart again. While Mailchimp
is not connected the sweep only waits for the next day (its pushes could not delete anything).
It queues its next run itself while the installation tracks a channel; tracking a channel (or
e-commerce tracking again) queues one, and so does a process start for an installation that
tracks one and has none (`queue_cart_sweeps`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce import cart_discovery, cart_payment
from addon.ecommerce.cart_discovery import ensure_discovery
from addon.ecommerce.cart_payment import CART_PAID_NOTE
from addon.ecommerce.context import Context
from addon.ecommerce.daily_sweep import register_daily, schedule_daily, sweep_round
from addon.ecommerce.models import (
    EntityKind,
    MailchimpStore,
    SyncRecord,
    SyncStatus,
)
from addon.ecommerce.product_sweep import schedule_product_sweep
from addon.ecommerce.push_queue import enqueue_pushes
from addon.ecommerce.stores_repository import pushing_stores
from addon.jobs.completion import complete_in
from addon.jobs.models import Job, JobStatus
from addon.jobs.registry import HandlerRegistry
from addon.jobs.schemas import ClaimedJob, NoPayload
from addon.jobs.statements import in_state
from addon.services import Services

logger = logging.getLogger(__name__)

SWEEP_JOB = "ecommerce.cart_sweep"
QUIET_FOR = timedelta(hours=24)
PAGE = 25  # the aliases of `ecommerce_checkouts_exist.graphql`


async def schedule_sweep(
    session: AsyncSession, installation_id: int, *, at: datetime | None = None
) -> None:
    """Queue the installation's next sweep (merged into a pending one, which keeps its time),
    and its product sweep, the other daily look for what Saleor deletes without a webhook
    (`product_sweep.py`); and its look for the checkouts Saleor makes without one, unless it
    is pending (`cart_discovery.py`, every few minutes)."""
    await schedule_daily(session, installation_id, SWEEP_JOB, at=at)
    await schedule_product_sweep(session, installation_id, at=at)
    await ensure_discovery(session, installation_id)


async def queue_cart_sweeps(services: Services) -> None:
    """At a process start: a sweep for each installation tracking a channel that has none
    pending (one tracked before sweeps existed, or whose sweep was lost), and a look for
    checkouts made without a webhook for each one that has none pending."""
    pending = exists().where(
        Job.installation_id == MailchimpStore.installation_id,
        Job.coalesce_key == SWEEP_JOB,
        in_state(JobStatus.PENDING),
    )
    async with services.db.transaction() as session:
        installations = await session.scalars(
            pushing_stores(MailchimpStore.installation_id).where(~pending).distinct()
        )
        for installation_id in list(installations):
            await schedule_sweep(session, installation_id)
        tracking = await session.scalars(pushing_stores(MailchimpStore.installation_id).distinct())
        for installation_id in list(tracking):
            await ensure_discovery(session, installation_id)


async def handle_sweep(job: ClaimedJob, _: NoPayload, services: Services) -> None:
    sweep = await sweep_round(services, job.installation_id)
    queued = 0
    for context in sweep.to_sweep:
        if not context.store_missing:
            queued += await _sweep_channel(services, context)
    async with services.db.transaction() as session:
        if sweep.tracked:
            await schedule_sweep(session, job.installation_id)
        await complete_in(session)
    if queued:
        logger.info("%d cart(s) of deleted or no longer paid checkouts queued for a push", queued)


# A page of checkout ids → those whose carts need a push.
_Pick = Callable[[Services, Context, list[str]], Awaitable[list[str]]]


async def _sweep_channel(services: Services, context: Context) -> int:
    """The channel's carts Mailchimp holds whose checkout is gone, then the carts removed as
    paid whose checkout is no longer covered: how many pushes were queued."""
    # In Mailchimp: synced, or quarantined after a later change failed.
    held = and_(
        SyncRecord.status.in_([SyncStatus.SYNCED, SyncStatus.QUARANTINED]),
        SyncRecord.mailchimp_id.is_not(None),
    )
    queued = await _sweep_records(services, context, held, _missing)
    if context.carts_enabled:  # else a push would only remove the cart again
        paid = and_(
            SyncRecord.status == SyncStatus.REMOVED, SyncRecord.last_error == CART_PAID_NOTE
        )
        queued += await _sweep_records(services, context, paid, _unpaid)
    return queued


async def _sweep_records(
    services: Services, context: Context, which: ColumnElement[bool], pick: _Pick
) -> int:
    """Look the channel's quiet cart records (`which`) up in Saleor, a page at a time (by
    record id, so memory holds one page); queue a push for each one `pick` picks."""
    cutoff = utcnow() - QUIET_FOR
    after, queued = 0, 0
    while True:
        async with services.db.session() as session:
            rows = (
                await session.execute(
                    select(SyncRecord.id, SyncRecord.saleor_id)
                    .where(
                        SyncRecord.installation_id == context.installation_id,
                        SyncRecord.channel_slug == context.channel,
                        SyncRecord.kind == EntityKind.CART,
                        which,
                        SyncRecord.updated_at <= cutoff,
                        SyncRecord.id > after,
                    )
                    .order_by(SyncRecord.id)
                    .limit(PAGE)
                )
            ).all()
        if not rows:
            return queued
        after = rows[-1].id
        picked = await pick(services, context, [saleor_id for _, saleor_id in rows])
        if picked:
            async with services.db.transaction() as session:
                records = [(context.channel, EntityKind.CART, saleor_id) for saleor_id in picked]
                await enqueue_pushes(session, context.installation_id, records)
            queued += len(picked)


async def _checkouts(
    services: Services, context: Context, saleor_ids: list[str], *, payment: bool
) -> list[dict[str, Any] | None]:
    """These checkouts (at most `PAGE`) as Saleor has them, None for one deleted; with
    `payment`, their payment statuses. The document's unused aliases ask for the last one
    again."""
    variables: dict[str, Any] = {
        f"id{i}": saleor_ids[min(i, len(saleor_ids) - 1)] for i in range(PAGE)
    }
    variables["payment"] = payment
    data = await services.saleor.execute(
        context.api_url, context.token, "ecommerce_checkouts_exist", variables
    )
    return [data.get(f"c{i}") for i in range(len(saleor_ids))]


async def _missing(services: Services, context: Context, saleor_ids: list[str]) -> list[str]:
    """Which of these checkouts Saleor no longer has."""
    found = await _checkouts(services, context, saleor_ids, payment=False)
    return [saleor_id for saleor_id, raw in zip(saleor_ids, found, strict=True) if raw is None]


async def _unpaid(services: Services, context: Context, saleor_ids: list[str]) -> list[str]:
    """Which of these checkouts, whose carts were removed as paid (`cart_payment.py`), are no
    longer covered: the payment went away without a webhook. Saleor's
    `transaction_release_funds_for_checkout_task` cancels / refunds the funds of a checkout left
    alone for the channel's `checkout_ttl_before_releasing_funds` (6 h by default) where
    `release_funds_for_expired_checkouts` is on (saleor/payment/tasks.py
    `transactions_to_release_funds`; turned on for existing channels by the 3.20 migration,
    saleor/channel/migrations/tasks/saleor3_20.py); a pending charge or authorization, counted
    as covering it (saleor/checkout/payment_utils.py `_get_payment_amount_for_checkout`), can
    fail; a payment app can cancel or refund. Saleor sends CHECKOUT_FULLY_PAID / _AUTHORIZED
    only when a status becomes full, nothing when it drops (saleor/checkout/actions.py
    `_transaction_amounts_for_checkout_updated`; 3.20.119 and 723cd4e). The push re-reads the
    checkout and sends its cart again. One still covered stays as it is; a deleted one is
    pushed too, which settles its record as gone (no longer read here). An order made of one
    marks it converted (`pusher._convert_cart`), so it is no longer read here either: also when
    `orderCreateFromCheckout(removeCheckout: false)` kept the checkout, which then reads unpaid
    (its transactions moved to the order: saleor/checkout/complete_checkout.py)."""
    found = await _checkouts(services, context, saleor_ids, payment=True)
    return [
        saleor_id
        for saleor_id, raw in zip(saleor_ids, found, strict=True)
        if raw is None or not cart_payment.paid(raw)
    ]


def register(registry: HandlerRegistry) -> None:
    register_daily(registry, SWEEP_JOB, handle_sweep, schedule_sweep)
    cart_discovery.register(registry)


__all__ = ["SWEEP_JOB", "queue_cart_sweeps", "register", "schedule_sweep"]
