"""Products of a deleted product type are hidden by the daily product sweep: productTypeDelete /
productTypeBulkDelete delete them by CASCADE and send no product webhook
(saleor/graphql/product/mutations/product_type/product_type_delete.py, 3.20.119 and 3.23.28;
`ecommerce/product_sweep.py`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from addon.clock import ManualClock
from addon.db.types import utcnow
from addon.ecommerce.daily_sweep import SWEEP_EVERY
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.payloads import mailchimp_id
from addon.ecommerce.product_sweep import PRODUCT_SWEEP_JOB
from addon.jobs.models import Job, JobStatus
from tests.conftest import RecordingTransport
from tests.ecommerce.conftest import Shop


async def _pending_sweeps(shop: Shop) -> list[Job]:
    async with shop.services.db.session() as session:
        return list(
            await session.scalars(
                select(Job).where(Job.kind == PRODUCT_SWEEP_JOB, Job.status == JobStatus.PENDING)
            )
        )


def _shown(shop: Shop, product_id: str) -> list[tuple[str, int]]:
    product = shop.products()[mailchimp_id(product_id)]
    return [(v.visibility, v.inventory_quantity) for v in product.variants]


def _reads(outbound: RecordingTransport) -> int:
    return sum(b"EcommerceProductsByIds" in r.content for r in outbound.requests)


async def test_products_of_a_deleted_product_type_are_hidden_the_next_day(
    shop: Shop, clock: ManualClock, outbound: RecordingTransport
) -> None:
    basil = await shop.product("Basil", "5.00", product_type="Herbs")
    thyme = await shop.product("Thyme", "3.00", product_type="Herbs")
    kale = await shop.product("Kale", "2.00")
    await shop.drain()
    [sweep] = await _pending_sweeps(shop)  # queued when the channel was tracked
    assert sweep.run_after is not None

    before = len(shop.saleor.deliveries)
    deleted = await shop.saleor.delete_product_type(basil)
    assert {p.id for p in deleted} == {basil.id, thyme.id}
    assert shop.saleor.deliveries[before:] == []  # not one webhook
    await shop.drain()
    assert _shown(shop, basil.global_id) == [("visible", 100)]  # nothing told the app yet

    clock.advance(SWEEP_EVERY.total_seconds())
    await shop.drain()
    assert _shown(shop, basil.global_id) == [("hidden", 0)]
    assert _shown(shop, thyme.global_id) == [("hidden", 0)]
    assert _shown(shop, kale.global_id) == [("visible", 100)]
    assert _reads(outbound) == 1  # three products, one page
    for product in (basil, thyme):
        record = await shop.record(EntityKind.PRODUCT, product.global_id)
        assert record is not None and record.status is SyncStatus.REMOVED
    [next_sweep] = await _pending_sweeps(shop)
    assert next_sweep.run_after is not None
    assert next_sweep.run_after.replace(tzinfo=None) >= (
        utcnow() + SWEEP_EVERY - timedelta(minutes=1)
    ).replace(tzinfo=None)

    # The next day: the hidden ones are not looked up again, nothing more is sent.
    writes = len(shop.writes())
    clock.advance(SWEEP_EVERY.total_seconds())
    await shop.drain()
    assert _reads(outbound) == 2
    [last] = [r for r in outbound.requests if b"EcommerceProductsByIds" in r.content][1:]
    assert kale.global_id.encode() in last.content
    assert basil.global_id.encode() not in last.content
    assert len(shop.writes()) == writes


async def test_a_page_of_products_is_one_read(
    shop: Shop, clock: ManualClock, outbound: RecordingTransport
) -> None:
    shop.services.settings = shop.services.settings.model_copy(update={"initial_sync_page_size": 2})
    products = [await shop.product(name, "1.00") for name in ("Dill", "Mint", "Sage")]
    await shop.drain()
    shop.saleor.store.delete_product(products[1])  # gone with no word (its type's deletion)
    clock.advance(SWEEP_EVERY.total_seconds())
    await shop.drain()
    assert _reads(outbound) == 2  # three products, two to a page
    assert [_shown(shop, p.global_id)[0][0] for p in products] == ["visible", "hidden", "visible"]
