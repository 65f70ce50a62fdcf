"""Burst absorption: above the threshold, pushes go out as Mailchimp batches, each record's
outcome in the ledger; below it, one push per job as before; newest state wins; a transient
failure, a Saleor that cannot be read, a product with a sale date to come; the activity page's
backlog. What the batch's row keeps is in tests/ecommerce/test_burst_batch_rows.py. The
fixture `bursty` and the helpers here are imported by the other burst modules."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from addon.clock import ManualClock
from addon.db.types import utcnow
from addon.ecommerce.burst_queue import BURST_JOB
from addon.ecommerce.models import BurstBatch, BurstStatus, EntityKind, SyncStatus
from addon.ecommerce.sync import PUSH_JOB
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from addon.saleor.client import SaleorError
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import CHANNEL, Shop

BURSTY = {
    "ecommerce_batch_threshold": 3,
    "ecommerce_batch_size": 50,
    "initial_sync_poll_base_seconds": 60.0,
    "initial_sync_poll_max_seconds": 60.0,
    "worker_batch_size": 1,
}


@pytest.fixture
def bursty(shop: Shop) -> Shop:
    shop.services.settings = shop.services.settings.model_copy(update=BURSTY)
    return shop


def reading_batch(
    installation_id: int,
    kind: EntityKind,
    leader_job_id: int,
    saleor_ids: list[str],
    read_at: datetime,
    submitted_at: datetime | None = None,
) -> BurstBatch:
    """A burst's row as its leader left it while reading (or, `submitted_at`, sending)."""
    return BurstBatch(
        installation_id=installation_id,
        channel_slug="default-channel",
        kind=kind,
        status=BurstStatus.READING,
        leader_job_id=leader_job_id,
        records={saleor_id: {} for saleor_id in saleor_ids},
        read_at=read_at,
        submitted_at=submitted_at,
        polls=0,
    )


async def make_due(shop: Shop, kinds: tuple[str, ...] = (PUSH_JOB, BURST_JOB)) -> int:
    """Make the waiting jobs of `kinds` due now: a burst's poll waits a minute (`BURSTY`), so
    a worker run while Mailchimp holds the batch ends instead of polling again and again."""
    async with shop.services.db.transaction() as session:
        result = await session.execute(
            update(Job)
            .where(Job.status == JobStatus.PENDING, Job.kind.in_(kinds))
            .values(run_after=utcnow())
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


async def settle(shop: Shop, rounds: int = 50) -> None:
    """Run the worker, letting Mailchimp finish its batches in between, until nothing is left."""
    worker = Worker(shop.services)
    for _ in range(rounds):
        await worker.run_until_idle()
        await shop.mailchimp.drain_batches()
        if not await make_due(shop):
            return
    raise AssertionError("jobs still pending")


def batch_calls(shop: Shop, start: int = 0) -> int:
    return sum(
        1 for r in shop.mailchimp.requests[start:] if r.method == "POST" and r.path == "/batches"
    )


def direct_writes(shop: Shop, start: int = 0) -> list[str]:
    prefix = f"/ecommerce/stores/{shop.store_id}/"
    return [
        f"{r.method} {r.path.split(prefix, 1)[1]}"
        for r in shop.mailchimp.requests[start:]
        if prefix in r.path and r.method != "GET" and r.via != "batch"
    ]


async def assert_all_synced(shop: Shop, customers: list[Any]) -> None:
    """Every one of `customers` is in Mailchimp, and its ledger record synced."""
    assert {c.id for c in shop.mailchimp.customers(shop.account, shop.store_id)} == {
        str(c.id) for c in customers
    }
    for customer in customers:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED


async def test_a_burst_goes_out_as_batches_with_each_records_outcome(bursty: Shop) -> None:
    shop = bursty
    good = [
        await shop.saleor.create_customer(f"c{i}@example.com", f"First{i}", "Last")
        for i in range(6)
    ]
    poison = await shop.saleor.create_customer("not-an-address", "Bad", "Data")
    start = len(shop.mailchimp.requests)
    await settle(shop)

    assert batch_calls(shop, start) == 1
    assert direct_writes(shop, start) == []  # every customer went in the batch
    in_mailchimp = {c.id for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    assert in_mailchimp == {str(c.id) for c in good}
    for customer in good:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED
        assert record.pushed_at is not None and record.label == customer.email
    # A data error quarantines that record alone, with Mailchimp's reason.
    record = await shop.record(EntityKind.CUSTOMER, poison.global_id)
    assert record is not None and record.status is SyncStatus.QUARANTINED
    assert record.last_error and "valid email" in record.last_error
    async with shop.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(BurstBatch)) == 0

    # The ledger holds what live sync records: an unchanged customer is not sent again.
    before = len(shop.mailchimp.requests)
    await shop.saleor.emit("CUSTOMER_UPDATED", good[0])  # delivered again, nothing changed
    await settle(shop)
    assert direct_writes(shop, before) == [] and batch_calls(shop, before) == 0


async def test_below_the_threshold_each_job_pushes_its_record(bursty: Shop) -> None:
    shop = bursty
    products = [await shop.product(name, "2.00") for name in ("Kale", "Leek", "Okra")]
    start = len(shop.mailchimp.requests)
    await settle(shop)
    assert batch_calls(shop, start) == 0
    assert direct_writes(shop, start) == ["POST products"] * 3
    assert set(shop.products()) == {str(p.id) for p in products}


async def test_newest_state_wins_when_a_product_changes_while_its_batch_is_at_mailchimp(
    bursty: Shop,
) -> None:
    shop = bursty
    products = [await shop.product(f"Herb {i}", "2.00", "3.00") for i in range(5)]
    await settle(shop)  # created (a burst too: five pushes above the threshold)
    assert {p.title for p in shop.products().values()} == {p.name for p in products}

    start = len(shop.mailchimp.requests)
    shop.mailchimp.batches_paused = True
    for i, product in enumerate(products):
        await shop.saleor.update_product(product, name=f"Herb {i} v2")
    worker = Worker(shop.services)
    await worker.run_until_idle()  # the burst is read and submitted; Mailchimp holds it
    assert batch_calls(shop, start) == 1
    async with shop.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(BurstBatch)) == 1

    # Meanwhile the first product changes again and is pushed on its own (below the threshold).
    first = products[0]
    await shop.saleor.update_product(first, name="Herb 0 v3")
    await shop.saleor.update_variant(first.variants[0], quantity=7)
    await worker.run_until_idle()
    assert shop.products()[str(first.id)].title == "Herb 0 v3"

    # Mailchimp now runs the older batch: it overwrites v3 with v2 ...
    shop.mailchimp.batches_paused = False
    await shop.mailchimp.drain_batches()
    assert shop.products()[str(first.id)].title == "Herb 0 v2"
    # ... and applying its results pushes the newer state once more.
    await settle(shop)
    held = shop.products()
    assert held[str(first.id)].title == "Herb 0 v3"
    variants = {v.id: v.inventory_quantity for v in held[str(first.id)].variants}
    assert variants[str(first.variants[0].id)] == 7
    for i, product in enumerate(products[1:], start=1):
        assert held[str(product.id)].title == f"Herb {i} v2"
        record = await shop.record(EntityKind.PRODUCT, product.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED
    record = await shop.record(EntityKind.PRODUCT, first.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED
    assert record.label == "Herb 0 v3"


async def test_a_product_deleted_while_its_create_batch_waits_is_hidden_once_created(
    bursty: Shop,
) -> None:
    shop = bursty
    products = [await shop.product(f"Sage {i}", "2.00", "3.00") for i in range(5)]
    shop.mailchimp.batches_paused = True
    worker = Worker(shop.services)
    start = len(shop.mailchimp.requests)
    await worker.run_until_idle()  # the creations are submitted; Mailchimp holds the batch
    assert batch_calls(shop, start) == 1 and shop.products() == {}
    # Deleted meanwhile: its push finds nothing in Mailchimp to hide and records it removed.
    gone = products[0]
    await shop.saleor.delete_product(gone)
    await worker.run_until_idle()
    record = await shop.record(EntityKind.PRODUCT, gone.global_id)
    assert record is not None and record.mailchimp_id is None

    # Then Mailchimp runs the batch and creates it: the ledger keeps its id, and its push
    # hides it (as for any deleted product) instead of leaving it for sale in Mailchimp.
    shop.mailchimp.batches_paused = False
    await settle(shop)
    held = shop.products()
    assert set(held) == {str(p.id) for p in products}
    assert [(v.visibility, v.inventory_quantity) for v in held[str(gone.id)].variants] == [
        ("hidden", 0)
    ] * 2
    record = await shop.record(EntityKind.PRODUCT, gone.global_id)
    assert record is not None and record.status is SyncStatus.REMOVED
    assert record.mailchimp_id == str(gone.id)


async def test_a_transient_failure_in_the_batch_gives_that_record_a_push_of_its_own(
    bursty: Shop,
) -> None:
    shop = bursty
    customers = [
        await shop.saleor.create_customer(f"t{i}@example.com", f"T{i}", "Last") for i in range(5)
    ]
    shop.mailchimp.faults.fail_batch_operations(
        [f"{customers[2].global_id}#0"], status=503, account=shop.account
    )
    start = len(shop.mailchimp.requests)
    await settle(shop)
    assert batch_calls(shop, start) == 1
    assert direct_writes(shop, start) == [f"PUT customers/{customers[2].id}"]
    await assert_all_synced(shop, customers)


async def test_a_burst_that_cannot_read_saleor_hands_its_records_back(
    bursty: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = bursty
    customers = [
        await shop.saleor.create_customer(f"r{i}@example.com", f"R{i}", "Last") for i in range(5)
    ]
    saleor = shop.services.saleor
    execute = saleor.execute
    failures = []

    async def flaky(api_url: str, token: Any, document: str, variables: Any) -> Any:
        if document == "ecommerce_customers_by_ids" and not failures:
            failures.append(document)
            raise SaleorError("Saleor is briefly unreachable.")
        return await execute(api_url, token, document, variables)

    monkeypatch.setattr(saleor, "execute", flaky)
    start = len(shop.mailchimp.requests)
    await settle(shop)
    assert failures and batch_calls(shop, start) == 0
    # The leader's job retries on its own, the others were handed back: one push each.
    assert sorted(direct_writes(shop, start)) == sorted(f"PUT customers/{c.id}" for c in customers)
    assert {c.id for c in shop.mailchimp.customers(shop.account, shop.store_id)} == {
        str(c.id) for c in customers
    }
    async with shop.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(BurstBatch)) == 0


async def test_the_activity_page_shows_the_backlog_and_its_drain_time(
    clock: ManualClock, bursty: Shop
) -> None:
    """On the test's clock (first, so the set-up runs on it): "the last minute" is the test's,
    not however long the set-up took on a loaded machine."""
    shop = bursty
    shop.mailchimp.batches_paused = True
    for i in range(5):
        await shop.saleor.create_customer(f"b{i}@example.com", f"B{i}", "Last")
    await Worker(shop.services).run_until_idle()  # the burst is at Mailchimp

    backlog = (await shop.api("GET", "/api/activity")).json()["backlog"]
    assert (backlog["waiting"], backlog["in_batches"]) == (0, 5)
    # The pace of the last minute (the store was pushed) gives an estimate.
    assert backlog["applied_last_minute"] >= 1 and backlog["drain_seconds"] > 0

    shop.mailchimp.batches_paused = False
    await settle(shop)
    backlog = (await shop.api("GET", "/api/activity")).json()["backlog"]
    assert (backlog["waiting"], backlog["in_batches"], backlog["drain_seconds"]) == (0, 0, 0.0)
    assert backlog["applied_last_minute"] >= 6


async def test_a_product_with_a_sale_date_to_come_leaves_the_burst_for_its_own_push(
    bursty: Shop, clock: ManualClock
) -> None:
    """Its push schedules the look at that date (`offer_dates.py`); the others go in the
    batch, the unpublished one hidden."""
    from addon.ecommerce.offer_dates import OFFER_JOB

    shop = bursty
    store = shop.saleor.store
    products = [store.create_product(f"P{i}", [VariantSpec(sku=f"P{i}")]) for i in range(5)]
    store.publish(products[0], CHANNEL, available_for_purchase_at=clock.now() + timedelta(days=1))
    store.publish(products[1], CHANNEL, is_published=False)
    start = len(shop.mailchimp.requests)
    for product in products:
        await shop.saleor.emit("PRODUCT_UPDATED", product)
    await settle(shop)
    assert batch_calls(shop, start) == 1
    assert direct_writes(shop, start) == ["POST products"]  # the one with a date to come
    held = {p.id: {v.visibility for v in p.variants} for p in shop.products().values()}
    assert held == {str(p.id): {"hidden" if i < 2 else "visible"} for i, p in enumerate(products)}
    async with shop.services.db.session() as session:
        checks = list(await session.scalars(select(Job).where(Job.kind == OFFER_JOB)))
    assert [c.payload["saleor_id"] for c in checks] == [products[0].global_id]


async def test_products_taken_off_offer_in_a_burst_leave_the_carts_holding_them(
    bursty: Shop,
) -> None:
    """Fails before the fix: a category deleted unpublishes its products, one PRODUCT_UPDATED
    each (saleor/product/utils/__init__.py). Batched, they were hidden, but no cart was
    rechecked: abandoned-cart e-mails showed products nobody could buy. Their batch now
    rechecks the channel's carts, once (as a single push always did)."""
    shop = bursty
    store = shop.saleor.store
    products = [store.create_product(f"P{i}", [VariantSpec(sku=f"P{i}")]) for i in range(6)]
    for product in products:
        await shop.saleor.emit("PRODUCT_UPDATED", product)
    await settle(shop)
    await shop.saleor.create_checkout(
        lines=[LineSpec(products[0].variants[0].id, 1), LineSpec(products[5].variants[0].id, 1)],
        email="cart@example.com",
    )
    await settle(shop)
    [cart] = shop.carts().values()
    assert len(cart.lines) == 2
    writes = len(shop.writes())

    for product in products[:5]:
        store.publish(product, CHANNEL, is_published=False)
        await shop.saleor.emit("PRODUCT_UPDATED", product)
    await settle(shop)

    [cart] = shop.carts().values()
    assert [line.product_id for line in cart.lines] == [str(products[5].id)]
    assert {v.visibility for v in shop.products()[str(products[0].id)].variants} == {"hidden"}
    # Batched: one recheck of the cart (its lines sent anew), not one a product.
    assert [w for w in shop.writes()[writes:] if w.split()[1].startswith("/carts")] == [
        f"DELETE /carts/{cart.id}",
        "POST /carts",
    ]
