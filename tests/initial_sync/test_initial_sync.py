"""Initial sync of a generated store through Mailchimp's Batch Operations API."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update

from addon.clock import ManualClock
from addon.db.types import utcnow
from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import EntityKind, SyncRecord, SyncStatus
from addon.initial_sync.applier import MAX_SENDS
from addon.initial_sync.models import InitialSync, InitialSyncBatch, Phase
from addon.initial_sync.state import STEP_JOB, WATCHDOG_JOB
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from addon.mailchimp import MailchimpClient, RateLimited
from addon.saleor.client import SaleorClient
from sandboxes.saleor.order_models import OrderStatus
from sandboxes.saleor.payments import total_refunded
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.initial_sync.conftest import (
    SMALL,
    finish,
    first_batch_held,
    make_due,
    progress,
    run_jobs,
    start,
)


def assert_equal_to_saleor(shop: Shop) -> None:
    """Mailchimp's products, customers and orders are Saleor's (ids, names, prices, totals)."""
    store = shop.saleor.store
    products = shop.products()
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
    customers = {c.id: c for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    assert len(customers) == len(shop.mailchimp.customers(shop.account, shop.store_id))
    for customer in store.customers.values():
        if not customer.is_staff:
            assert customers[str(customer.id)].email_address == customer.email
    orders = shop.orders()
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


def creations(shop: Shop) -> Counter[str]:
    """Successful creations (POST) per resource id: a second one would be a duplicate.
    Customers are PUT by id (an upsert: sending one twice cannot duplicate it)."""
    prefix = f"/ecommerce/stores/{shop.store_id}/"
    counter: Counter[str] = Counter()
    for request in shop.mailchimp.requests:
        if request.method == "POST" and prefix in request.path and request.status < 300:
            resource = request.path.split(prefix, 1)[1]
            body = request.body if isinstance(request.body, dict) else {}
            counter[f"{resource.split('/')[0]}:{body.get('id', resource)}"] += 1
    return counter


def is_syncing(shop: Shop) -> bool:
    [store] = [s for s in shop.mailchimp.stores(shop.account) if s.id == shop.store_id]
    return store.is_syncing


async def test_full_sync_makes_mailchimp_equal_saleor_in_batches(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=60, customers=90, orders=120, seed=7)
    before = len(shop.mailchimp.requests)
    started = await start(shop)
    assert started["status"] == "running"
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert_equal_to_saleor(shop)
    assert not is_syncing(shop)
    # Everything went through batches: the direct requests are the store, its flag and polls.
    direct = [r for r in shop.mailchimp.requests[before:] if r.via != "batch"]
    assert not [r for r in direct if "/products" in r.path or "/orders" in r.path]
    assert max(creations(shop).values()) == 1
    body = await progress(shop)
    kinds = {k["kind"]: k for k in body["kinds"]}
    assert kinds["product"]["total"] == 60 and kinds["product"]["confirmed"] == 60
    assert kinds["order"]["total"] == 120 and kinds["order"]["confirmed"] == 120
    assert body["status"] == "succeeded" and body["batches_in_flight"] == 0
    # The ledger holds the content hashes: live sync finds nothing to send afterwards.
    record = await shop.record(
        EntityKind.PRODUCT, next(iter(shop.saleor.store.products.values())).global_id
    )
    assert record is not None and record.status is SyncStatus.SYNCED and record.content_hash


async def test_stopping_the_worker_anywhere_resumes_without_duplicates(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=50, customers=60, orders=80, seed=3)
    await start(shop)
    for limit in (1, 2, 3, 5, 8):
        await run_jobs(shop, limit)  # a fresh worker each time, as after a crash
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED
    assert_equal_to_saleor(shop)
    assert max(creations(shop).values()) == 1


async def test_starting_twice_says_it_is_running_and_cancel_clears_is_syncing(
    small: Shop,
) -> None:
    shop = small
    shop.saleor.generate_store(products=30, customers=10, orders=10, seed=1)
    await start(shop)
    again = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
    assert again.status_code == 409 and "running already" in again.text
    await run_jobs(shop, 2)
    assert is_syncing(shop)
    cancelled = await shop.api("DELETE", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    run = await finish(shop)
    assert run.status is RunStatus.CANCELLED
    assert not is_syncing(shop)
    # A new one may start now.
    await start(shop)
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    assert_equal_to_saleor(shop)


async def test_per_operation_errors_quarantine_exactly_those_records(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=10, customers=30, orders=0, seed=5)
    store = shop.saleor.store
    bad = [store.create_customer(f"broken-{i}.example.com", "Bad", "Mail") for i in range(3)]
    await start(shop)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED
    quarantined = set()
    for customer in store.customers.values():
        if customer.is_staff:
            continue
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None
        if record.status is SyncStatus.QUARANTINED:
            quarantined.add(customer.id)
            assert record.last_error and "email" in record.last_error.lower()
        else:
            assert record.status is SyncStatus.SYNCED
    assert quarantined == {c.id for c in bad}
    kinds = {k["kind"]: k for k in (await progress(shop))["kinds"]}
    assert kinds["customer"]["quarantined"] == 3 and kinds["customer"]["confirmed"] == 30
    assert not is_syncing(shop)


async def test_a_failing_sync_ends_failed_and_clears_is_syncing(small: Shop) -> None:
    shop = small
    shop.services.settings = shop.services.settings.model_copy(
        update={"initial_sync_max_attempts": 2}
    )
    shop.saleor.generate_store(products=10, customers=5, orders=5, seed=2)
    await start(shop)
    await run_jobs(shop, 1)  # the store is flagged
    assert is_syncing(shop)
    store = shop.saleor.store
    channel = store.channel_by_slug(CHANNEL)
    # Deleted in Saleor: every page in it comes back empty, as Saleor answers for a slug it
    # does not have, which is no success.
    del store.channels[channel.id]
    run = await finish(shop)
    assert run.status is RunStatus.FAILED
    assert run.error and "Saleor has no channel 'default-channel'" in run.error
    assert not is_syncing(shop)
    assert (await progress(shop))["status"] == "failed"


async def test_a_live_order_change_during_the_sync_ends_with_its_newest_state(
    small: Shop,
) -> None:
    shop = small
    shop.saleor.generate_store(products=20, customers=10, orders=30, seed=9)
    order = next(
        o for o in shop.saleor.store.orders.values() if o.status is not OrderStatus.CANCELED
    )
    await start(shop)
    # Step until the first order batch is submitted (read from Saleor, not yet applied).
    for _ in range(100):
        await run_jobs(shop, 1)
        if any(
            b.operations
            for b in shop.mailchimp.batches(shop.account)
            if b.total_operations and "/orders" in b.operations[0].path
        ):
            break
    else:
        raise AssertionError("no order batch was submitted")
    await shop.saleor.cancel_order(order)  # a webhook: live sync pushes it
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED
    assert shop.orders()[str(order.id)].financial_status == "cancelled"
    assert_equal_to_saleor(shop)


async def _phase(shop: Shop) -> Phase:
    async with shop.services.db.session() as session:
        run = (await session.execute(select(InitialSync))).scalars().one()
        return run.phase


async def test_a_live_customer_change_while_its_batch_waits_is_pushed_again(small: Shop) -> None:
    """The batch (read before the change) reaches Mailchimp after the live push: the live
    state is sent again, so the older one in the batch does not stay."""
    shop = small
    shop.saleor.generate_store(products=5, customers=10, orders=0, seed=4)
    customer = next(c for c in shop.saleor.store.customers.values() if not c.is_staff)
    await start(shop)
    for _ in range(50):
        if await _phase(shop) is Phase.CUSTOMERS:
            break
        await run_jobs(shop, 1)
    shop.mailchimp.batches_paused = True
    worker = Worker(shop.services)

    def customer_batches() -> int:
        return sum(
            1
            for b in shop.mailchimp.batches(shop.account)
            if b.operations and "/customers/" in b.operations[0].path
        )

    while not customer_batches():
        await make_due(shop)
        assert await worker.run_once()
    await shop.saleor.update_customer(customer, email="newest@example.com")
    for _ in range(20):
        await make_due(shop)
        await worker.run_once()
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        if record is not None and record.status is SyncStatus.SYNCED:
            break
    customers = {c.id: c for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    assert customers[str(customer.id)].email_address == "newest@example.com"  # pushed live
    shop.mailchimp.batches_paused = False
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED
    customers = {c.id: c for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    assert customers[str(customer.id)].email_address == "newest@example.com"
    assert_equal_to_saleor(shop)


async def test_a_product_deleted_while_its_batch_waits_is_hidden_in_mailchimp(
    small: Shop,
) -> None:
    """Deleted in Saleor after its page was read: its push finds nothing in Mailchimp and
    records it removed; the batch then creates it. Applying the batch sees that newer verdict
    and pushes it again, which hides what the batch created (a deleted product is hidden, not
    deleted: orders may reference it)."""
    shop = small
    shop.saleor.generate_store(products=5, customers=0, orders=0, seed=5)
    worker = await first_batch_held(shop)
    deleted = next(iter(shop.saleor.store.products.values()))
    await shop.saleor.delete_product(deleted)
    await make_due(shop)
    await worker.run_until_idle()  # its push: nothing in Mailchimp to delete
    record = await shop.record(EntityKind.PRODUCT, deleted.global_id)
    assert record is not None and record.status is SyncStatus.REMOVED

    shop.mailchimp.batches_paused = False
    run = await finish(shop)

    assert run.status is RunStatus.SUCCEEDED
    created = shop.products()[str(deleted.id)]
    assert created.variants
    assert all(v.visibility == "hidden" and v.inventory_quantity == 0 for v in created.variants)
    record = await shop.record(EntityKind.PRODUCT, deleted.global_id)
    assert record is not None and record.status is SyncStatus.REMOVED
    assert record.mailchimp_id == str(deleted.id)


async def test_the_watchdog_fails_a_sync_that_stopped_and_clears_is_syncing(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=5, customers=5, orders=5, seed=6)
    await start(shop)
    await run_jobs(shop, 1)
    assert is_syncing(shop)
    async with shop.services.db.transaction() as session:
        # The chain is lost (say its step was quarantined) and nothing moved for a long time.
        await session.execute(delete(Job).where(Job.kind == STEP_JOB))
        await session.execute(
            update(InitialSync).values(last_progress_at=utcnow() - timedelta(hours=2))
        )
        await session.execute(
            update(Job).where(Job.kind == WATCHDOG_JOB).values(run_after=utcnow())
        )
    run = await finish(shop)
    assert run.status is RunStatus.FAILED and "progress" in (run.error or "")
    assert not is_syncing(shop)


async def test_the_watchdog_leaves_a_progressing_sync_alone(small: Shop) -> None:
    shop = small
    await start(shop)
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job).where(Job.kind == WATCHDOG_JOB).values(run_after=utcnow())
        )
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED
    async with shop.services.db.session() as session:
        watchdogs = (
            (await session.execute(select(Job).where(Job.kind == WATCHDOG_JOB).order_by(Job.id)))
            .scalars()
            .all()
        )
    # It ran, found progress, and looks again one stall period after the last progress.
    assert [j.status for j in watchdogs] == [JobStatus.DONE, JobStatus.PENDING]


async def test_the_watchdog_leaves_a_sync_waiting_for_mailchimps_queue_alone(
    small: Shop,
) -> None:
    """Its batches wait `pending` in Mailchimp (an account's batches run one at a time, another
    app's long one first, say) for longer than the stall time: each look at them shows the
    sync alive, so the watchdog lets it wait."""
    shop = small
    shop.saleor.generate_store(products=5, customers=5, orders=0, seed=3)
    worker = await first_batch_held(shop)
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(InitialSync).values(last_progress_at=utcnow() - timedelta(hours=2))
        )
    await make_due(shop)  # the step looks at its batch: still pending
    await worker.run_until_idle()
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job).where(Job.kind == WATCHDOG_JOB).values(run_after=utcnow())
        )
    await worker.run_until_idle()
    assert (await progress(shop))["status"] == "running"
    assert all(b.status == "pending" for b in shop.mailchimp.batches(shop.account))

    shop.mailchimp.batches_paused = False
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED
    assert_equal_to_saleor(shop)


@pytest.mark.parametrize("held", ["pending", "started"])
async def test_a_batch_mailchimp_never_finishes_fails_the_sync_in_the_end(
    small: Shop, held: str
) -> None:
    """A batch Mailchimp holds unfinished (waiting its turn, or running) counts as progress for
    `INITIAL_SYNC_BATCH_WAIT_SECONDS` only: still `pending` or `started` after that, it no
    longer keeps the sync (and the store's `is_syncing`) alive."""
    shop = small
    shop.saleor.generate_store(products=5, customers=5, orders=0, seed=3)
    worker = await first_batch_held(shop)
    if held == "started":
        # It starts, and its first operation never ends.
        shop.mailchimp.batch_operation_latency = 3600
        shop.mailchimp.batches_paused = False
        while shop.mailchimp.batches(shop.account)[0].status != "started":  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    long_ago = utcnow() - timedelta(
        seconds=shop.services.settings.initial_sync_batch_wait_seconds + 3600
    )
    async with shop.services.db.transaction() as session:
        await session.execute(update(InitialSyncBatch).values(submitted_at=long_ago))
        await session.execute(
            update(InitialSync).values(last_progress_at=utcnow() - timedelta(hours=2))
        )
    await make_due(shop)  # the step looks at its batch: still unfinished, for too long
    await worker.run_until_idle()
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job).where(Job.kind == WATCHDOG_JOB).values(run_after=utcnow())
        )
    await worker.run_until_idle()

    sync = await progress(shop)
    assert sync["status"] == "failed" and "progress" in (sync["error"] or "")
    assert not is_syncing(shop)


async def test_a_crash_after_submitting_a_batch_resends_it_without_duplicates(
    small: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker dies after `POST /batches`, before recording it: the step runs again."""
    shop = small
    shop.saleor.generate_store(products=80, customers=80, orders=120, seed=8)
    real = MailchimpClient.create_batch
    calls: list[int] = []
    crashes: list[int] = []

    async def create_then_crash(self: MailchimpClient, operations: Any) -> Any:
        batch = await real(self, operations)
        calls.append(1)
        if len(calls) in (1, 4, 7):  # far enough apart to hit different steps
            crashes.append(1)
            raise RuntimeError("worker killed")
        return batch

    monkeypatch.setattr(MailchimpClient, "create_batch", create_then_crash)
    await start(shop)
    run = await finish(shop)
    assert len(crashes) == 3
    assert run.status is RunStatus.SUCCEEDED
    assert_equal_to_saleor(shop)
    assert max(creations(shop).values()) == 1
    # Entities of a batch sent twice are recorded from the resent batch's "already exists".
    assert {k["kind"]: k["quarantined"] for k in (await progress(shop))["kinds"]} == {
        "product": 0,
        "customer": 0,
        "order": 0,
    }


async def test_orders_since_a_date_sends_only_newer_orders(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=10, customers=10, orders=40, seed=11)
    orders = sorted(shop.saleor.store.orders.values(), key=lambda o: o.created)
    since = orders[25].created
    await start(shop, {"orders_since": since.isoformat()})
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    assert set(shop.orders()) == {str(o.id) for o in orders if o.created >= since}
    kinds = {k["kind"]: k for k in (await progress(shop))["kinds"]}
    # Saleor filters them (`where: {createdAt: {gte}}`): older orders are never read.
    assert kinds["order"]["total"] == kinds["order"]["read"] == len(orders) - 25
    assert kinds["order"]["confirmed"] == len(orders) - 25
    assert kinds["order"]["skipped"] == 0


async def test_the_api_answers_for_untracked_channels_and_without_a_sync(small: Shop) -> None:
    shop = small
    path = "/api/ecommerce/channels/{}/initial-sync"
    assert (await shop.api("POST", path.format("nowhere"))).status_code == 404
    assert (await shop.api("GET", path.format(CHANNEL))).json()["error"][
        "code"
    ] == "NO_INITIAL_SYNC"
    assert (await shop.api("DELETE", path.format(CHANNEL))).status_code == 404
    assert (await shop.client.post(path.format(CHANNEL))).status_code == 401


async def test_progress_reports_totals_rate_and_eta_while_running(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=120, customers=5, orders=5, seed=12)
    await start(shop)
    await run_jobs(shop, 3)  # flag the store, send a batch, apply it while sending the next
    body = await progress(shop)
    assert body["status"] == "running" and body["phase"] == "products"
    [product] = [k for k in body["kinds"] if k["kind"] == "product"]
    assert product["total"] == 120 and 0 < product["sent"] < 120
    assert product["confirmed"] > 0 and product["rate_per_second"] > 0
    assert product["eta_seconds"] is not None and product["eta_seconds"] > 0


async def test_transient_failures_inside_a_batch_are_batched_again(small: Shop) -> None:
    """Operations Mailchimp fails with a 5xx or 429 go out again in a later batch; after
    `MAX_SENDS` tries live sync (with its own backoff and quarantine) takes over."""
    shop = small
    shop.saleor.generate_store(products=10, customers=30, orders=10, seed=9)
    store = shop.saleor.store
    customers = [c for c in store.customers.values() if not c.is_staff]
    once = [c.global_id for c in customers[:3]]
    [product] = [p.global_id for p in list(store.products.values())[:1]]
    stubborn = customers[3].global_id
    faults = shop.mailchimp.faults
    faults.fail_batch_operations(once, times=1, status=503)
    faults.fail_batch_operations([product], times=2, status=429)
    faults.fail_batch_operations([stubborn], times=MAX_SENDS, status=500)
    before = len(shop.mailchimp.requests)
    await start(shop)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED
    assert_equal_to_saleor(shop)
    assert max(creations(shop).values()) == 1
    requests = shop.mailchimp.requests[before:]

    def sends(saleor_id: str, pk: int, via: str) -> int:
        return sum(1 for r in requests if r.via == via and r.path.endswith(f"/{pk}"))

    # Customers are PUT to their id: each failing one was in two batches, none went live.
    for customer in customers[:3]:
        assert sends(customer.global_id, customer.id, "batch") == 2
        assert sends(customer.global_id, customer.id, "http") == 0
    # The stubborn one was batched MAX_SENDS times, then pushed by live sync.
    assert sends(stubborn, customers[3].id, "batch") == MAX_SENDS
    assert sends(stubborn, customers[3].id, "http") == 1
    product_posts = [
        r
        for r in requests
        if r.via == "batch"
        and r.method == "POST"
        and r.path.endswith("/products")
        and isinstance(r.body, dict)
        and r.body.get("id") == str(next(iter(store.products.values())).id)
    ]
    assert [r.status for r in product_posts] == [429, 429, 200]
    kinds = {k["kind"]: k for k in (await progress(shop))["kinds"]}
    assert kinds["customer"]["confirmed"] == len(customers) - 1
    assert kinds["customer"]["retried"] == 1  # handed to live sync
    assert kinds["product"]["confirmed"] == 10 and kinds["product"]["retried"] == 0
    for customer in customers[:4]:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED


MAX_KILLS = 5  # INITIAL_SYNC_MAX_ATTEMPTS (6) - 1


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_killing_the_worker_at_random_points_still_ends_equal(
    small: Shop, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """The worker dies before or after random calls to Saleor and Mailchimp (a POST that
    reached Mailchimp included), several times; fresh workers finish the sync. At most
    `MAX_KILLS` times, fewer than the attempts a step gets: a pipelined step makes dozens of
    calls, so at a 10 % death rate per call one could die six times running and the sync fail
    as designed (a step failing every attempt gives up: another test), whatever the order in
    which its side-by-side calls drew from the random numbers."""
    shop = small
    # A step that dies again and again is quarantined like any job: the default patience.
    shop.services.settings = shop.services.settings.model_copy(update={"worker_max_attempts": 8})
    shop.saleor.generate_store(products=80, customers=100, orders=160, seed=seed)
    rng = random.Random(seed)
    kills: list[str] = []

    def mortal(name: str, real: Any) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            if len(kills) < MAX_KILLS and rng.random() < 0.05:
                kills.append(f"before {name}")
                raise RuntimeError("worker killed")
            result = await real(*args, **kwargs)
            if len(kills) < MAX_KILLS and rng.random() < 0.05:
                kills.append(f"after {name}")
                raise RuntimeError("worker killed")
            return result

        return call

    for owner, name in (
        (MailchimpClient, "create_batch"),
        (MailchimpClient, "get_batch"),
        (MailchimpClient, "download_batch_results"),
        (SaleorClient, "execute"),
    ):
        monkeypatch.setattr(owner, name, mortal(name, getattr(owner, name)))
    await start(shop)
    for _ in range(6):
        await run_jobs(shop, rng.randint(1, 6))  # a fresh worker each time
    run = await finish(shop)
    assert len(kills) >= 3, kills
    assert run.status is RunStatus.SUCCEEDED, (run.error, kills)
    assert_equal_to_saleor(shop)
    assert max(creations(shop).values()) == 1
    assert not is_syncing(shop)


async def test_an_order_with_a_stale_campaign_goes_to_live_sync_at_once(small: Shop) -> None:
    """Resent as it was it would fail again: live sync sends it without the campaign."""
    shop = small
    shop.saleor.generate_store(products=10, customers=10, orders=20, seed=4)
    stale = next(iter(shop.saleor.store.orders.values()))
    stale.metadata["mailchimp_campaign_id"] = "gone123"
    before = len(shop.mailchimp.requests)
    await start(shop)
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    assert_equal_to_saleor(shop)
    assert shop.orders()[str(stale.id)].campaign_id == ""
    sent = [
        r
        for r in shop.mailchimp.requests[before:]
        if r.method == "POST"
        and r.path.endswith("/orders")
        and isinstance(r.body, dict)
        and r.body.get("id") == str(stale.id)
    ]
    # Live sync's push finds the campaign stale and sends the order without it.
    assert [(r.via, r.status) for r in sent] == [("batch", 400), ("http", 400), ("http", 200)]
    kinds = {k["kind"]: k for k in (await progress(shop))["kinds"]}
    assert kinds["order"]["retried"] == 1 and kinds["order"]["confirmed"] == 19


@pytest.mark.parametrize(("asked", "poll_max"), [(None, 30.0), (864_000.0, 30.0), (None, 7200.0)])
async def test_mailchimp_throttling_polls_and_resends_makes_the_sync_wait_not_fail(
    small: Shop,
    monkeypatch: pytest.MonkeyPatch,
    clock: ManualClock,
    asked: float | None,
    poll_max: float,
) -> None:
    """A Retry-After of days, or a poll wait longer than the worker's longest backoff, is
    waited out as that backoff."""
    shop = small
    shop.services.settings = shop.services.settings.model_copy(
        update={"initial_sync_max_attempts": 2, "initial_sync_poll_max_seconds": poll_max}
    )
    shop.saleor.generate_store(products=30, customers=30, orders=30, seed=6)
    real = MailchimpClient.get_batch
    refused: list[str] = []

    async def throttled(self: MailchimpClient, batch_id: str) -> Any:
        if len(refused) < 5:
            refused.append(batch_id)
            raise RateLimited("Too many requests", status=429, retry_after=asked)
        return await real(self, batch_id)

    monkeypatch.setattr(MailchimpClient, "get_batch", throttled)
    await start(shop)
    await run_jobs(shop, 3)  # flag; submit; a poll refused
    async with shop.services.db.session() as session:
        [step] = (
            await session.execute(
                select(Job).where(Job.kind == STEP_JOB, Job.status == JobStatus.PENDING)
            )
        ).scalars()
    # The next step waits (rather than asking again at once, or failing the step).
    wait = min(asked or poll_max, shop.services.settings.worker_backoff_max_seconds)
    assert step.attempts == 0 and step.run_after == clock.now() + timedelta(seconds=wait)
    run = await finish(shop)
    assert len(refused) == 5
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert_equal_to_saleor(shop)


async def test_a_step_reads_at_most_one_batch_of_entities_even_when_all_are_skipped(
    small: Shop,
) -> None:
    shop = small
    shop.saleor.generate_store(products=20, customers=200, orders=0, seed=13)
    await start(shop)
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    # Everything is in Mailchimp and unchanged: a second sync skips it all, step by step.
    await start(shop)
    await run_jobs(shop, 2)  # flag the store; one step
    kinds = {k["kind"]: k for k in (await progress(shop))["kinds"]}
    batch, page = SMALL["initial_sync_batch_size"], SMALL["initial_sync_page_size"]
    assert kinds["customer"]["read"] == kinds["customer"]["skipped"]
    assert batch <= kinds["customer"]["read"] < batch + page
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    kinds = {k["kind"]: k for k in (await progress(shop))["kinds"]}
    assert kinds["customer"]["skipped"] == 200 and kinds["customer"]["sent"] == 0


async def test_a_finished_sync_refreshes_the_ledgers_statistics_on_postgresql(
    small: Shop,
) -> None:
    """It wrote a ledger record per entity: PostgreSQL plans live sync's lookups by id from
    statistics that have seen them (`Database.analyze`), not from those of an empty table."""
    shop = small
    if shop.services.db.is_sqlite:
        pytest.skip("PostgreSQL's planner statistics")
    shop.saleor.generate_store(products=20, customers=0, orders=0, seed=3)

    async def analysed() -> datetime | None:
        async with shop.services.db.session() as session:
            return await session.scalar(
                text(
                    "SELECT last_analyze FROM pg_stat_user_tables"
                    " WHERE relname = 'ecommerce_sync_records'"
                )
            )

    before = await analysed()
    await start(shop)
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    after = await analysed()
    assert after is not None and (before is None or after > before)


async def test_what_mailchimp_held_before_the_sync_is_brought_up_to_date(small: Shop) -> None:
    """An uninstall leaves Mailchimp alone and a re-installation gets the same store id: its
    sync's creations meet "already exists", and a create never updates. Once, those were
    recorded synced and Mailchimp kept the old prices until each product next changed."""
    shop = small
    shop.saleor.generate_store(products=4, customers=3, orders=3, seed=11)
    await start(shop)
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    # The app forgets what it sent (as a re-installation starts afresh); prices change unseen.
    async with shop.services.db.transaction() as session:
        await session.execute(delete(SyncRecord))
    for variant in shop.saleor.store.variants.values():
        for listing in variant.channel_listings:
            listing.price = (listing.price or Decimal(0)) + Decimal("1.00")
    await start(shop)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert_equal_to_saleor(shop)
