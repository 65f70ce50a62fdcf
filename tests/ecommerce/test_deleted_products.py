"""Orders whose products Saleor deleted (addon/ecommerce/orphans.py): their lines keep the
variant's id (`productVariantId`) once `variant` is null, and still reach Mailchimp, under the
product Mailchimp held for the variant or else under a hidden placeholder product."""

from __future__ import annotations

from sqlalchemy import update

from addon.ecommerce.models import EntityKind, Fingerprint, SyncRecord, SyncStatus
from addon.ecommerce.push_queue import enqueue_push
from sandboxes.saleor.order_models import Order
from tests.ecommerce.conftest import CHANNEL, Shop


async def _fingerprint(shop: Shop, order: Order) -> Fingerprint:
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED
    return record.fingerprint


async def test_an_order_whose_product_was_deleted_before_its_first_push_reaches_mailchimp(
    shop: Shop,
) -> None:
    basil, mint = await shop.product("Basil", "5.00"), await shop.product("Mint", "3.00")
    gone = basil.variants[0]
    first = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(gone, 2), shop.saleor.order_line(mint.variants[0])],
        email="kim@example.com",
    )
    second = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(gone, 1)], email="lee@example.com"
    )
    await shop.saleor.delete_product(basil)  # before the worker saw anything
    await shop.drain()

    placeholder = f"deleted_{gone.id}"
    lines = [
        (ln.product_id, ln.product_variant_id, ln.quantity)
        for ln in shop.orders()[str(first.id)].lines
    ]
    assert sorted(lines) == sorted(
        [(placeholder, str(gone.id), 2), (str(mint.id), str(mint.variants[0].id), 1)]
    )
    [line] = shop.orders()[str(second.id)].lines
    assert (line.product_id, line.product_variant_id) == (placeholder, str(gone.id))
    # One hidden, out-of-stock placeholder for the variant, from the line's copies.
    products = shop.products()
    assert str(basil.id) not in products
    held = products[placeholder]
    [variant] = held.variants
    assert held.title == "Basil"
    assert (variant.id, variant.sku, variant.price) == (str(gone.id), gone.sku, 5.0)
    assert (variant.inventory_quantity, variant.visibility) == (0, "hidden")
    # Two orders pushed at once may both create it: Mailchimp's "already exists" settles that.
    assert [p for p in products if p.startswith("deleted_")] == [placeholder]
    record = await shop.record(EntityKind.PRODUCT, gone.global_id)
    assert record is not None
    assert (record.status, record.mailchimp_id) == (SyncStatus.SYNCED, placeholder)

    # Unchanged: nothing is sent again.
    writes = len(shop.writes())
    fingerprint = await _fingerprint(shop, first)
    await shop.saleor.emit("ORDER_UPDATED", first)
    await shop.saleor.emit("ORDER_UPDATED", second)
    await shop.drain()
    assert shop.writes()[writes:] == []
    assert await _fingerprint(shop, first) == fingerprint

    # A change still follows Saleor.
    await shop.saleor.cancel_order(second)
    await shop.drain()
    assert shop.writes()[writes:] == [f"PATCH /orders/{second.id}"]
    assert shop.orders()[str(second.id)].financial_status == "cancelled"


async def test_an_order_pushed_before_its_product_was_deleted_keeps_that_product(
    shop: Shop,
) -> None:
    """The ledger remembers which product the deleted variant was pushed in: the order's line
    keeps referencing it (hidden in Mailchimp), and no placeholder is made."""
    basil = await shop.product("Basil", "5.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(basil.variants[0], 2)], email="kim@example.com"
    )
    await shop.drain()
    before = await _fingerprint(shop, order)
    await shop.saleor.delete_product(basil)
    await shop.drain()
    writes = len(shop.writes())
    await shop.saleor.emit("ORDER_UPDATED", order)
    await shop.drain()
    assert shop.writes()[writes:] == []  # unchanged: the same lines, the same fingerprint
    assert await _fingerprint(shop, order) == before
    assert all(v.visibility == "hidden" for v in shop.products()[str(basil.id)].variants)
    assert not [p for p in shop.products() if p.startswith("deleted_")]


async def test_an_order_of_deleted_products_that_mailchimp_lost_is_created_again(
    shop: Shop,
) -> None:
    """The PATCH finds no order: it is created again, with its lines (a create without lines
    would be refused)."""
    basil = await shop.product("Basil", "5.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(basil.variants[0], 2)], email="kim@example.com"
    )
    await shop.drain()
    await shop.saleor.delete_product(basil)
    await shop.drain()
    lost = await shop.mailchimp.call(
        shop.account, "DELETE", f"/ecommerce/stores/{shop.store_id}/orders/{order.id}"
    )
    assert lost.status == 204
    await shop.saleor.cancel_order(order)
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert mc.financial_status == "cancelled"
    assert [(ln.product_id, ln.product_variant_id, ln.quantity) for ln in mc.lines] == [
        (str(basil.id), str(basil.variants[0].id), 2)
    ]
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED


async def test_a_placeholders_own_push_reads_nothing_from_saleor(shop: Shop) -> None:
    """An admin's retry (or a re-created store) queues the placeholder's record: it stays as
    created while Mailchimp holds it, and is forgotten (made again by the next order push that
    needs it) once Mailchimp's copy is unknown."""
    basil = await shop.product("Basil", "5.00")
    gone = basil.variants[0]
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(gone)], email="kim@example.com"
    )
    await shop.saleor.delete_product(basil)
    await shop.drain()
    record = await shop.record(EntityKind.PRODUCT, gone.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED
    writes = len(shop.writes())
    async with shop.services.db.transaction() as session:
        await enqueue_push(
            session, record.installation_id, CHANNEL, EntityKind.PRODUCT, gone.global_id
        )
    await shop.drain()
    assert shop.writes()[writes:] == []
    kept = await shop.record(EntityKind.PRODUCT, gone.global_id)
    assert kept is not None
    assert (kept.status, kept.fingerprint) == (SyncStatus.SYNCED, record.fingerprint)

    async with shop.services.db.transaction() as session:
        await session.execute(
            update(SyncRecord)
            .where(SyncRecord.id == record.id)
            .values(content_hash=None, children={})
        )
        await enqueue_push(
            session, record.installation_id, CHANNEL, EntityKind.PRODUCT, gone.global_id
        )
    await shop.drain()
    forgotten = await shop.record(EntityKind.PRODUCT, gone.global_id)
    assert forgotten is not None
    assert (forgotten.status, forgotten.mailchimp_id) == (SyncStatus.REMOVED, None)
    await shop.saleor.cancel_order(order)
    await shop.drain()
    again = await shop.record(EntityKind.PRODUCT, gone.global_id)
    assert again is not None
    assert (again.status, again.mailchimp_id) == (SyncStatus.SYNCED, f"deleted_{gone.id}")
    assert shop.orders()[str(order.id)].financial_status == "cancelled"


async def test_an_order_no_line_of_which_can_be_referenced_that_mailchimp_lost_is_removed(
    shop: Shop,
) -> None:
    """Its variant deleted, and placed before Saleor kept a line's variant id: Mailchimp kept
    its lines while it held it, but once it lost the order, it cannot be created again
    (Mailchimp answers an order without lines 404). The record says so, with no retry."""
    basil = await shop.product("Basil", "5.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(basil.variants[0], 2)], email="kim@example.com"
    )
    await shop.drain()
    held = shop.saleor.store.orders[order.id]
    held.lines[0] = held.lines[0].model_copy(
        update={"variant_id": None, "product_variant_id": None}
    )
    lost = await shop.mailchimp.call(
        shop.account, "DELETE", f"/ecommerce/stores/{shop.store_id}/orders/{order.id}"
    )
    assert lost.status == 204

    await shop.saleor.cancel_order(order)
    await shop.drain()

    assert str(order.id) not in shop.orders()
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.status is SyncStatus.REMOVED
    assert record.last_error is None
