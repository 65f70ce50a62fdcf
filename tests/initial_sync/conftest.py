"""Helpers for initial-sync tests: a shop (see tests/ecommerce/conftest.py) with small batches,
the steps that drive a sync, and the checks of what Mailchimp ended with."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update

from addon.db.types import utcnow
from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.sync import PUSH_JOB
from addon.initial_sync.models import InitialSync, InitialSyncBatch, Phase
from addon.initial_sync.state import STEP_JOB
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from addon.mailchimp import MailchimpClient, RateLimited
from sandboxes.saleor.order_models import OrderStatus
from sandboxes.saleor.payments import total_refunded
from tests.ecommerce.conftest import CHANNEL, Shop, shop  # noqa: F401

CHAIN = (STEP_JOB, PUSH_JOB)
SMALL = {
    "initial_sync_batch_size": 40,
    "initial_sync_page_size": 25,
    "initial_sync_max_in_flight": 2,
    "initial_sync_poll_base_seconds": 0.0,
    "initial_sync_poll_max_seconds": 0.0,
    "worker_batch_size": 1,
}
HELD_POLLS = {"initial_sync_poll_base_seconds": 3600.0, "initial_sync_poll_max_seconds": 3600.0}


@pytest.fixture
def small(shop: Shop) -> Shop:  # noqa: F811
    shop.services.settings = shop.services.settings.model_copy(update=SMALL)
    return shop


async def start(tracked: Shop, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await tracked.api("POST", f"/api/ecommerce/channels/{CHANNEL}/initial-sync", body)
    assert response.status_code == 202, response.text
    return dict(response.json())


async def progress(tracked: Shop) -> dict[str, Any]:
    response = await tracked.api("GET", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def make_due(tracked: Shop) -> int:
    """Steps and pushes waiting for a poll interval or a backoff are due now, and so are the
    Mailchimp batches a step waits to poll (a step looks at a batch only once its
    `next_poll_at` has come: under the default settings 2 s of the real clock, which a fast
    machine's rounds may never let pass)."""
    async with tracked.services.db.transaction() as session:
        now = utcnow()
        await session.execute(
            update(InitialSyncBatch)
            .where(InitialSyncBatch.next_poll_at > now)
            .values(next_poll_at=now)
        )
        result = await session.execute(
            update(Job)
            .where(Job.status == JobStatus.PENDING, Job.kind.in_(CHAIN))
            .values(run_after=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def hold_batches(tracked: Shop) -> None:
    """Mailchimp holds the batches sent from now on (paused: `pending`), and a step looks at a
    batch again only once `make_due` says it may (a poll interval of an hour): with none, a
    step finding its batch still held would be due again at once, and `run_until_idle` would
    spin through its thousand rounds."""
    tracked.services.settings = tracked.services.settings.model_copy(update=HELD_POLLS)
    tracked.mailchimp.batches_paused = True


async def first_batch_held(tracked: Shop) -> Worker:
    """Start a sync with Mailchimp holding its batches (`hold_batches`), and run its steps
    until the first is submitted; answer the worker that ran them."""
    hold_batches(tracked)
    await start(tracked)
    worker = Worker(tracked.services)
    while not tracked.mailchimp.batches(tracked.account):
        await make_due(tracked)
        assert await worker.run_once()
    return worker


async def run_jobs(tracked: Shop, limit: int) -> None:
    """Process at most `limit` jobs (one per round) with a fresh worker, then "crash"."""
    worker = Worker(tracked.services)
    for _ in range(limit):
        await tracked.mailchimp.drain_batches()
        await make_due(tracked)
        if not await worker.run_once():
            break


async def finish(tracked: Shop, rounds: int = 300) -> InitialSync:
    """Run the worker (draining Mailchimp's batches in between) until the sync has ended and
    no step or push is left."""
    worker = Worker(tracked.services)
    for _ in range(rounds):
        await tracked.mailchimp.drain_batches()
        await make_due(tracked)
        await worker.run_until_idle()
        async with tracked.services.db.session() as session:
            run = (
                (await session.execute(select(InitialSync).order_by(InitialSync.id.desc())))
                .scalars()
                .first()
            )
            pending = (
                await session.execute(
                    select(func.count()).where(
                        Job.status.in_([JobStatus.PENDING, JobStatus.RUNNING]),
                        Job.kind.in_(CHAIN),
                    )
                )
            ).scalar_one()
        assert run is not None
        if run.status is not RunStatus.RUNNING and not pending:
            return run
    async with tracked.services.db.session() as session:
        jobs = (
            (await session.execute(select(Job).where(Job.status != JobStatus.DONE))).scalars().all()
        )
        left = [
            (j.id, j.kind, j.status, j.lane, j.run_after, j.attempts, j.last_error) for j in jobs
        ]
    raise AssertionError(f"the initial sync did not finish: {run.status if run else None}, {left}")


def assert_equal_to_saleor(tracked: Shop) -> None:
    """Mailchimp's products, customers and orders are Saleor's (ids, names, prices, totals)."""
    store = tracked.saleor.store
    products = tracked.products()
    assert set(products) == {str(p.id) for p in store.products.values()}
    for product in store.products.values():
        mc = products[str(product.id)]
        assert mc.title == product.name
        channel = store.channel_by_slug(CHANNEL)
        expected = {
            str(v.id): float(listing.price)
            for v in product.variants
            if (listing := v.listing_for(channel.id)) is not None and listing.price is not None
        }
        assert {v.id: v.price for v in mc.variants} == expected
    customers = {c.id: c for c in tracked.mailchimp.customers(tracked.account, tracked.store_id)}
    assert len(customers) == len(tracked.mailchimp.customers(tracked.account, tracked.store_id))
    for customer in store.customers.values():
        if not customer.is_staff:
            assert customers[str(customer.id)].email_address == customer.email
    orders = tracked.orders()
    assert set(orders) == {str(o.id) for o in store.orders.values()}
    for order in store.orders.values():
        mc = orders[str(order.id)]
        # Mailchimp's revenue: what was refunded is taken off, and a cancelled order is none.
        kept = max(order.total_gross - total_refunded(order), Decimal(0))
        if order.status is OrderStatus.CANCELED:
            assert (mc.financial_status, mc.order_total) == ("cancelled", 0)
        else:
            assert mc.order_total == float(round(kept, 2))
        assert len(mc.lines) == len(order.lines)


def creations(tracked: Shop) -> Counter[str]:
    """Successful creations (POST) per resource id: a second one would be a duplicate.
    Customers are PUT by id (an upsert: sending one twice cannot duplicate it)."""
    prefix = f"/ecommerce/stores/{tracked.store_id}/"
    counter: Counter[str] = Counter()
    for request in tracked.mailchimp.requests:
        if request.method == "POST" and prefix in request.path and request.status < 300:
            resource = request.path.split(prefix, 1)[1]
            body = request.body if isinstance(request.body, dict) else {}
            counter[f"{resource.split('/')[0]}:{body.get('id', resource)}"] += 1
    return counter


def is_syncing(tracked: Shop) -> bool:
    [store] = [s for s in tracked.mailchimp.stores(tracked.account) if s.id == tracked.store_id]
    return store.is_syncing


async def _phase(tracked: Shop) -> Phase:
    async with tracked.services.db.session() as session:
        return (await session.scalars(select(InitialSync.phase))).one()


def throttle_first_poll(monkeypatch: pytest.MonkeyPatch, retry_after: float) -> list[str]:
    """Mailchimp answers the sync's first look at a batch with a 429 asking for `retry_after`
    seconds, and the others as usual: the batch ids refused (one, once it happened)."""
    real = MailchimpClient.get_batch
    refused: list[str] = []

    async def throttled(self: MailchimpClient, batch_id: str) -> Any:
        if not refused:
            refused.append(batch_id)
            raise RateLimited("Too many requests", status=429, retry_after=retry_after)
        return await real(self, batch_id)

    monkeypatch.setattr(MailchimpClient, "get_batch", throttled)
    return refused
