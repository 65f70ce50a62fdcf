"""A draft begun for a customer before their erasure and completed after it is a purchase made
after the erasure: new business, which goes to Mailchimp as any other (`erased.py`). Saleor
keeps the draft's `created` on completion (`SaleorOrder.placed`): the order is compared with
when it was placed, its PLACED_FROM_DRAFT event."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, update

from addon.db.types import utcnow
from addon.ecommerce.models import PUSH_JOB, EntityKind, SyncStatus
from addon.jobs.models import Job
from addon.privacy.erased import ErasedAddress
from sandboxes.saleor import Order
from sandboxes.saleor.order_models import OrderStatus
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import SMALL, finish, start

ANN = "ann@example.com"


async def _draft_completed_after_erasure(shop: Shop) -> Order:
    """Ann's draft begun two days ago; she deleted her account, erased (a day ago, set: not
    waited for); the draft completed now, under her address (Saleor keeps a deleted user's)."""
    product = await shop.product("Quince", "4.00")
    ann = await shop.saleor.create_customer(ANN, "Ann", "Lee")
    now = utcnow()
    draft = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)],
        user=ann,
        status=OrderStatus.DRAFT,
        billing_address=shop.saleor.address(first_name="Ann"),
        shipping_address=shop.saleor.address(first_name="Ann"),
        created=now - timedelta(days=2),
    )
    await shop.drain()
    await shop.saleor.delete_account(ann)
    await shop.drain()
    async with shop.services.db.transaction() as session:
        moved = await session.execute(
            update(ErasedAddress).values(erased_at=now - timedelta(days=1))
        )
        assert moved.rowcount == 1  # type: ignore[attr-defined]
    order = await shop.saleor.complete_draft_order(draft)
    assert order.created == draft.created and order.user_email == ANN
    return order


async def test_a_draft_completed_after_the_erasure_goes_as_a_new_order(shop: Shop) -> None:
    order = await _draft_completed_after_erasure(shop)
    await shop.drain()
    assert str(order.number) in shop.orders()
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED


async def test_a_new_initial_sync_sends_a_draft_completed_after_the_erasure(shop: Shop) -> None:
    shop.services.settings = shop.services.settings.model_copy(update=SMALL)
    order = await _draft_completed_after_erasure(shop)
    async with shop.services.db.transaction() as session:  # the sync alone decides on it
        await session.execute(delete(Job).where(Job.kind == PUSH_JOB))
    await start(shop)
    run = await finish(shop)
    assert run.status.value == "succeeded", run.error
    assert str(order.number) in shop.orders()
