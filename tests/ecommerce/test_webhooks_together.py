"""Product webhooks a worker claims together are handled together (one transaction, a few
set-based statements): still one coalesced push per entity, newest state in Mailchimp; a bad
delivery among them is quarantined alone without losing the others."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.sync import PUSH_JOB
from addon.installations.webhook_kinds import webhook_job_kind
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import Shop

PRODUCT_WEBHOOK = webhook_job_kind("ecommerce-products")


@contextmanager
def statements(shop: Shop) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs meanwhile."""
    seen: list[str] = []
    engine = shop.services.db.engine.sync_engine

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def jobs_of(shop: Shop, kind: str) -> list[Job]:
    async with shop.services.db.session() as session:
        return list(await session.scalars(select(Job).where(Job.kind == kind).order_by(Job.id)))


async def test_webhooks_claimed_together_queue_one_push_per_product_in_one_go(
    shop: Shop,
) -> None:
    products = [await shop.product(f"Herb {i}", "2.00") for i in range(6)]
    await shop.drain()
    done_before = len(await jobs_of(shop, PRODUCT_WEBHOOK))
    for product in products:
        await shop.saleor.update_product(product, name=f"{product.name} v2")
    for product in products[:3]:  # changed twice before any push: still one push each
        await shop.saleor.update_product(product, name=f"{product.name} v3")
    webhooks = (await jobs_of(shop, PRODUCT_WEBHOOK))[done_before:]
    assert len(webhooks) == 9

    with statements(shop) as seen:
        assert await Worker(shop.services).run_once() == 9
    # One claim (a fresh worker's also looks for lapsed leases: a statement for jobs at their
    # first lapse, one for a job that lapsed again), then one transaction for all nine (not a
    # few statements each).
    assert len([s for s in seen if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]) <= 11

    handled = (await jobs_of(shop, PRODUCT_WEBHOOK))[done_before:]
    assert {job.status for job in handled} == {JobStatus.DONE}
    pushes = [job for job in await jobs_of(shop, PUSH_JOB) if job.status is JobStatus.PENDING]
    assert sorted(job.payload["saleor_id"] for job in pushes) == sorted(
        p.global_id for p in products
    )
    for product in products:
        record = await shop.record(EntityKind.PRODUCT, product.global_id)
        assert record is not None and record.status is SyncStatus.PENDING

    start = len(shop.mailchimp.requests)
    await shop.drain()
    titles = {product_id: p.title for product_id, p in shop.products().items()}
    assert titles == {
        str(p.id): f"Herb {i} v2 v3" if i < 3 else f"Herb {i} v2" for i, p in enumerate(products)
    }
    assert len(shop.writes()[-6:]) == 6
    assert sum(1 for r in shop.mailchimp.requests[start:] if r.method == "PATCH") == 6
    for product in products:
        record = await shop.record(EntityKind.PRODUCT, product.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED


async def test_a_bad_delivery_among_them_is_quarantined_alone(shop: Shop) -> None:
    products = [await shop.product(f"Leaf {i}", "2.00") for i in range(3)]
    await shop.drain()
    await shop.saleor.update_product(products[0], name="Leaf 0 v2")
    installation = (await jobs_of(shop, PRODUCT_WEBHOOK))[-1].installation_id
    async with shop.services.db.transaction() as session:
        # Its body lacks the product's id: it fails its model.
        await JobRepository(session).enqueue(
            installation, PRODUCT_WEBHOOK, {"event": "PRODUCT_UPDATED", "body": {"product": {}}}
        )
    await shop.saleor.update_product(products[1], name="Leaf 1 v2")
    handled = await jobs_of(shop, PRODUCT_WEBHOOK)

    assert await Worker(shop.services).run_once() == 3
    statuses = [job.status for job in await jobs_of(shop, PRODUCT_WEBHOOK)]
    assert statuses[len(handled) - 3 :] == [
        JobStatus.DONE,
        JobStatus.QUARANTINED,
        JobStatus.DONE,
    ]
    await shop.drain()
    titles = {product_id: p.title for product_id, p in shop.products().items()}
    assert titles == {str(products[0].id): "Leaf 0 v2", str(products[1].id): "Leaf 1 v2",
                      str(products[2].id): "Leaf 2"}  # fmt: skip
