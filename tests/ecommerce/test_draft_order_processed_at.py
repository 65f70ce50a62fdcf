"""An order placed from a draft is dated in Mailchimp when it was placed: `processed_at_foreign`
("the date and time the order was processed", the spec's `E_commerce_Order_1`), which
Mailchimp's reports and automations and the app's engagement figures read, is its completion
(the PLACED_FROM_DRAFT event, `SaleorOrder.placed`), not the draft's `created`, which
`draftOrderComplete` keeps. One Mailchimp holds with the draft's date gets it on its next push
(a PATCH may set it: `E_commerce_Order_2.processed_at_foreign`). An order kept under its UUID
keeps its `created` there: a later adoption of the store reads those dates against `created`
(`sale_payloads.processed_at`, `store_pusher._adopt_orders`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update

from addon.clock import ManualClock
from addon.ecommerce.models import MailchimpStore, SyncRecord
from addon.ecommerce.payloads import mailchimp_id
from sandboxes.saleor import Order
from sandboxes.saleor.order_models import OrderEventType, OrderStatus
from tests.ecommerce.conftest import Shop

AN_DAY = timedelta(days=1)
THREE_DAYS = timedelta(days=3)
AN_HOUR = 3600.0


async def _draft(shop: Shop, *, created: datetime) -> Order:
    """Ann's paid draft, with what `draftOrderComplete` asks of one, begun at `created`."""
    product = await shop.product("Quince", "4.00")
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    return await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)],
        user=customer,
        status=OrderStatus.DRAFT,
        billing_address=shop.saleor.address(first_name="Ann"),
        shipping_address=shop.saleor.address(first_name="Ann"),
        created=created,
    )


def _completed_at(order: Order) -> datetime:
    return next(e.date for e in order.events if e.type is OrderEventType.PLACED_FROM_DRAFT)


async def test_a_draft_completed_days_later_is_dated_at_its_completion(
    clock: ManualClock, shop: Shop
) -> None:
    """Begun three days before it was completed, pushed an hour after (the app's clock moved):
    Mailchimp dates the order at the completion, neither the draft's start nor the push."""
    draft = await _draft(shop, created=clock.now() - THREE_DAYS)
    await shop.drain()
    order = await shop.saleor.complete_draft_order(draft)
    assert order.created == draft.created  # Saleor keeps the draft's
    clock.advance(AN_HOUR)
    await shop.drain()
    held = shop.orders()[str(order.number)]
    assert held.processed_at_foreign == _completed_at(order).isoformat()


async def test_an_order_held_with_the_drafts_date_gets_its_completion_on_its_next_push(
    clock: ManualClock, shop: Shop
) -> None:
    """Sent by an earlier version with the draft's `created`: the next push of the order (a
    note here) corrects the date, and the correction sends no e-mail (only a status does)."""
    draft = await _draft(shop, created=clock.now() - THREE_DAYS)
    order = await shop.saleor.complete_draft_order(draft)
    await shop.drain()
    number = str(order.number)
    path = f"/ecommerce/stores/{shop.store_id}/orders/{number}"
    earlier = {"processed_at_foreign": order.created.isoformat()}
    patched = await shop.mailchimp.call(shop.account, "PATCH", path, body=earlier)
    assert patched.status == 200, patched.body
    async with shop.services.db.transaction() as session:  # the earlier version's body
        await session.execute(
            update(SyncRecord)
            .where(SyncRecord.mailchimp_id == number)
            .values(content_hash="an-earlier-body")
        )
    sent = shop.mailchimp.notifications(shop.account, shop.store_id)

    clock.advance(AN_HOUR)
    await shop.saleor.add_order_note(order, "Gift wrap")
    await shop.drain()
    held = shop.orders()[number]
    assert held.processed_at_foreign == _completed_at(order).isoformat()
    assert shop.mailchimp.notifications(shop.account, shop.store_id) == sent


async def test_an_adopted_store_gets_no_second_orders_from_a_draft_kept_under_its_uuid(
    clock: ManualClock, shop: Shop
) -> None:
    """A draft begun before the upgrade to order numbers (`uuid_orders_before`) and completed
    after goes under its UUID (`order_id` compares `created`). Dated at its completion there,
    a re-installation adopting the store would take the newest UUID order's date for the end
    of the UUID orders, and the orders sent under their number before it for UUID ones: each a
    second order."""
    now = clock.now()
    draft = await _draft(shop, created=now - THREE_DAYS)
    async with shop.services.db.transaction() as session:  # upgraded two days ago
        await session.execute(update(MailchimpStore).values(uuid_orders_before=now - 2 * AN_DAY))
    product = await shop.product("Sloe", "3.00")
    between = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)],
        email="bea@example.com",
        created=now - AN_DAY,
    )
    order = await shop.saleor.complete_draft_order(draft)
    clock.advance(AN_HOUR)
    await shop.drain()
    held = {mailchimp_id(order.global_id), str(between.number)}
    assert set(shop.orders()) == held
    kept = shop.orders()[mailchimp_id(order.global_id)]
    assert kept.processed_at_foreign == order.created.isoformat()

    # The re-installation starts afresh: no ledger, a store row marked nothing; its first push
    # adopts the store Mailchimp holds.
    async with shop.services.db.transaction() as session:
        await session.execute(delete(SyncRecord))
        await session.execute(update(MailchimpStore).values(uuid_orders_before=None))
    for each in (between, order):  # one push at a time: the first adopts, the next reads it
        await shop.saleor.add_order_note(each, "Call first")
        await shop.drain()
    assert set(shop.orders()) == held
