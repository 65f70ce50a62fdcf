"""Bursts of orders (a flash sale): above the threshold, orders whose products Mailchimp holds go
out as batches (new ones created, paid or fulfilled ones patched), each record's outcome in the
ledger with what live sync records; an order whose push must first create a product, replace
its lines or delete its cart goes alone."""

from __future__ import annotations

from sqlalchemy import func, select

from addon.ecommerce.models import BurstBatch, EntityKind, SyncStatus
from addon.ecommerce.promo_usage import PromoRepository
from addon.installations.models import Installation
from addon.jobs.worker import Worker
from sandboxes.saleor.models import ProductVariant
from sandboxes.saleor.order_models import Order, OrderStatus
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.ecommerce.test_burst import batch_calls, bursty, direct_writes, settle  # noqa: F401


def order_writes(shop: Shop, start: int) -> list[str]:
    """The orders' own requests (not the stock pushes of their products)."""
    return [w for w in direct_writes(shop, start) if w.split(" ")[1].startswith("orders")]


async def unpaid_orders(
    shop: Shop, variant: ProductVariant, prefix: str, count: int
) -> list[Order]:
    """`count` unpaid orders of one unit of `variant`, by prefix0@example.com and on."""
    return [
        await shop.saleor.create_order(
            lines=[shop.saleor.order_line(variant, 1)], email=f"{prefix}{i}@example.com", paid=False
        )
        for i in range(count)
    ]


async def assert_synced(shop: Shop, orders: list[Order]) -> None:
    for order in orders:
        record = await shop.record(EntityKind.ORDER, order.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED


async def test_a_flash_sale_goes_out_as_batches_with_each_orders_outcome(
    bursty: Shop,  # noqa: F811
) -> None:
    shop = bursty
    products = [await shop.product(name, "3.00", "5.00") for name in ("Fig", "Date")]
    await settle(shop)
    good: list[Order] = []
    for i in range(6):
        line = shop.saleor.order_line(products[i % 2].variants[i % 2], 1 + i)
        order = await shop.saleor.create_order(
            lines=[line], email=f"buyer{i}@example.com", paid=False
        )
        good.append(order)
    line = shop.saleor.order_line(products[0].variants[0], 1)
    poison = await shop.saleor.create_order(lines=[line], email="not-an-address", paid=False)
    start = len(shop.mailchimp.requests)
    await settle(shop)

    assert batch_calls(shop, start) >= 1
    assert order_writes(shop, start) == []  # every order went in a batch
    held = shop.orders()
    assert set(held) == {str(order.id) for order in good}
    assert all(held[str(order.id)].financial_status == "pending" for order in good)
    for order in good:
        record = await shop.record(EntityKind.ORDER, order.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED
        assert record.label == f"#{order.number} — {order.user_email}"
    # A data error quarantines that order alone, with Mailchimp's reason.
    record = await shop.record(EntityKind.ORDER, poison.global_id)
    assert record is not None and record.status is SyncStatus.QUARANTINED
    assert record.last_error and "email" in record.last_error.lower()
    async with shop.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(BurstBatch)) == 0

    # Paid, then fulfilled: the changed fields are patched in batches.
    start = len(shop.mailchimp.requests)
    for order in good:
        await shop.saleor.mark_order_paid(order)
    await settle(shop)
    for order in good[:5]:
        await shop.saleor.fulfill_order(order)
    await settle(shop)
    assert batch_calls(shop, start) >= 2 and order_writes(shop, start) == []
    held = shop.orders()
    assert [held[str(o.id)].financial_status for o in good] == ["paid"] * 6
    assert [held[str(o.id)].fulfillment_status for o in good] == ["shipped"] * 5 + [""]

    # The ledger holds what live sync records: an order redelivered unchanged sends nothing.
    shop.services.settings = shop.services.settings.model_copy(
        update={"ecommerce_batch_threshold": 1000}
    )
    start = len(shop.mailchimp.requests)
    for order in good:
        await shop.saleor.emit("ORDER_UPDATED", shop.saleor.store.get_order(order.id))
    await settle(shop)
    assert order_writes(shop, start) == [] and batch_calls(shop, start) == 0
    await assert_synced(shop, good)


async def test_paid_orders_in_a_burst_get_their_order_confirmation(
    bursty: Shop,  # noqa: F811
) -> None:
    """Mailchimp confirms an order created `pending` and invoices it once `paid`: a burst
    creates new paid orders pending in its batch, then each one's own push makes it paid."""
    shop = bursty
    product = await shop.product("Lime", "2.00")
    await settle(shop)
    orders = [
        await shop.saleor.create_order(
            lines=[shop.saleor.order_line(product.variants[0], 1)], email=f"lime{i}@example.com"
        )
        for i in range(5)
    ]
    start = len(shop.mailchimp.requests)
    await settle(shop)

    assert batch_calls(shop, start) >= 1
    # Created in the batch, then each made paid alone (after its creation was confirmed).
    assert sorted(order_writes(shop, start)) == sorted(f"PATCH orders/{o.id}" for o in orders)
    held = shop.orders()
    assert [held[str(o.id)].financial_status for o in orders] == ["paid"] * 5
    sent = shop.mailchimp.notifications(shop.account, shop.store_id)
    for order in orders:
        assert [kind for held_id, kind in sent if held_id == str(order.id)] == [
            "order_confirmation",
            "order_invoice",
        ]
    await assert_synced(shop, orders)


async def test_an_order_whose_products_are_not_in_mailchimp_goes_alone(
    bursty: Shop,  # noqa: F811
) -> None:
    shop = bursty
    known = await shop.product("Plum", "2.00")
    await settle(shop)
    unseen = shop.saleor.store.create_product("Quince", [])  # no webhook: never pushed
    orders = await unpaid_orders(shop, known.variants[0], "plum", 4)
    # A batch could only send its line of the known product: it goes alone.
    alone = await shop.saleor.create_order(
        lines=[
            shop.saleor.order_line(known.variants[0], 1),
            shop.saleor.order_line(unseen.variants[0], 2),
        ],
        email="quince@example.com",
        paid=False,
    )
    start = len(shop.mailchimp.requests)
    await settle(shop)

    assert batch_calls(shop, start) >= 1
    writes = direct_writes(shop, start)
    # Its own push created the product first, then the order; the others went in the batch.
    assert order_writes(shop, start) == ["POST orders"]
    assert writes.index("POST products") < writes.index("POST orders")
    held = shop.orders()
    assert set(held) == {str(o.id) for o in [*orders, alone]}
    lines = {(ln.product_id, ln.quantity) for ln in held[str(alone.id)].lines}
    assert lines == {(str(known.id), 1), (str(unseen.id), 2)}
    await assert_synced(shop, [*orders, alone])


async def test_checkouts_become_orders_in_a_burst_and_their_carts_go(
    bursty: Shop,  # noqa: F811
) -> None:
    shop = bursty
    product = await shop.product("Lime", "1.00")
    await settle(shop)
    variant = product.variants[0].id
    # One checkout's cart is in Mailchimp (sent after the debounce window) ...
    carted = await shop.saleor.create_checkout(
        lines=[LineSpec(variant, 1)], email="carted@example.com"
    )
    await settle(shop)
    assert set(shop.carts()) == {str(carted.token)}
    # ... the others are completed before theirs is sent.
    quick = [
        await shop.saleor.create_checkout(lines=[LineSpec(variant, 2)], email=f"q{i}@example.com")
        for i in range(4)
    ]
    await Worker(shop.services).run_until_idle()  # the carts' pushes wait for the debounce
    start = len(shop.mailchimp.requests)
    orders = [await shop.saleor.complete_checkout(checkout) for checkout in quick]
    orders.append(await shop.saleor.complete_checkout(carted))
    await settle(shop)

    assert batch_calls(shop, start) >= 1
    # The order of the checkout whose cart Mailchimp held went alone: its push deleted the cart.
    # (Each paid order is then made `paid` by a PATCH of its own: `order_confirmation.py`.)
    posts = [w for w in order_writes(shop, start) if not w.startswith("PATCH")]
    assert posts == ["POST orders"]
    assert f"DELETE carts/{carted.token}" in direct_writes(shop, start)
    assert shop.carts() == {}
    assert set(shop.orders()) == {str(o.id) for o in orders}
    for checkout in [*quick, carted]:
        record = await shop.record(EntityKind.CART, checkout.global_id)
        assert record is not None and record.status is SyncStatus.REMOVED


async def test_changed_lines_go_alone_and_a_failed_patch_is_patched_again(
    bursty: Shop,  # noqa: F811
) -> None:
    shop = bursty
    product = await shop.product("Kiwi", "2.00", "4.00")
    await settle(shop)
    # The order whose lines change is unconfirmed (saleor/order/__init__.py
    # `ORDER_EDITABLE_STATUS`), and paid, or Mailchimp would not hold it yet.
    changed = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)],
        email="kiwi@example.com",
        status=OrderStatus.UNCONFIRMED,
    )
    orders = [changed, *await unpaid_orders(shop, product.variants[0], "kiwi", 4)]
    await settle(shop)
    assert set(shop.orders()) == {str(o.id) for o in orders}

    failing = orders[4]
    shop.mailchimp.faults.fail_batch_operations(
        [f"{failing.global_id}#0"], status=503, account=shop.account
    )
    [old_line] = [line.id for line in shop.orders()[str(changed.id)].lines]
    [old_pk] = [line.id for line in shop.saleor.store.get_order(changed.id).lines]
    start = len(shop.mailchimp.requests)
    # Its kiwi swapped for three of the other size: `orderLinesCreate`, `orderLineDelete`.
    await shop.saleor.add_order_lines(changed, [shop.saleor.order_line(product.variants[1], 3)])
    await shop.saleor.delete_order_line(changed, old_pk)
    for order in orders[1:]:
        await shop.saleor.mark_order_paid(order)
    await settle(shop)

    assert batch_calls(shop, start) >= 1
    # The changed lines: its push patched them in and deleted the line gone (never the order).
    # The PATCH that failed in the batch: its push patched it again (its lines, untouched, are
    # still what the ledger records).
    assert sorted(order_writes(shop, start)) == sorted(
        [
            f"PATCH orders/{changed.id}",
            f"DELETE orders/{changed.id}/lines/{old_line}",
            f"PATCH orders/{failing.id}",
        ]
    )
    held = shop.orders()
    assert [(ln.product_variant_id, ln.quantity) for ln in held[str(changed.id)].lines] == [
        (str(product.variants[1].id), 3)
    ]
    assert [held[str(o.id)].financial_status for o in orders[1:]] == ["paid"] * 4
    await assert_synced(shop, orders)


async def test_an_order_its_own_push_creates_while_its_batch_waits_is_patched_not_replaced(
    bursty: Shop,  # noqa: F811
) -> None:
    shop = bursty
    product = await shop.product("Fig", "3.00")
    await settle(shop)
    orders = await unpaid_orders(shop, product.variants[0], "fig", 5)
    shop.mailchimp.batches_paused = True
    worker = Worker(shop.services)
    start = len(shop.mailchimp.requests)
    await worker.run_until_idle()
    assert batch_calls(shop, start) == 1
    # Paid while the batch waits: its own push (below the threshold) creates it, `pending`
    # then `paid` (`order_confirmation.py`); the batch's creation then finds it exists.
    paid = orders[0]
    await shop.saleor.mark_order_paid(paid)
    await worker.run_until_idle()
    shop.mailchimp.batches_paused = False
    await settle(shop)

    # Its lines are the ones the batch sent: its next push patches it (as one push after
    # another would), never deletes and re-creates it.
    assert order_writes(shop, start) == ["POST orders", *[f"PATCH orders/{paid.id}"] * 2]
    held = shop.orders()
    assert set(held) == {str(o.id) for o in orders}
    assert held[str(paid.id)].financial_status == "paid"
    record = await shop.record(EntityKind.ORDER, paid.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED
    assert record.content_hash and all(record.children.values())


async def test_a_voucher_is_counted_only_for_an_order_mailchimp_confirmed(
    bursty: Shop,  # noqa: F811
) -> None:
    shop = bursty
    product = await shop.product("Pear", "10.00")
    await settle(shop)
    await shop.saleor.vouchers.create("Sale", ["SALE"], channels={CHANNEL: 2})
    plain = await unpaid_orders(shop, product.variants[0], "pear", 3)
    line = shop.saleor.order_line(product.variants[0], 1)
    good = await shop.saleor.vouchers.create_order("SALE", lines=[line], email="ok@example.com")
    line = shop.saleor.order_line(product.variants[0], 1)
    bad = await shop.saleor.vouchers.create_order("SALE", lines=[line], email="not-an-address")
    start = len(shop.mailchimp.requests)
    await settle(shop)

    # In batches; the paid one then made paid alone (its Order Confirmation first).
    assert batch_calls(shop, start) >= 1
    assert order_writes(shop, start) == [f"PATCH orders/{good.id}"]
    assert set(shop.orders()) == {str(o.id) for o in [*plain, good]}
    record = await shop.record(EntityKind.ORDER, bad.global_id)
    assert record is not None and record.status is SyncStatus.QUARANTINED
    # Mailchimp refused one of the two orders with the code: one use, as single pushes count.
    async with shop.services.db.session() as session:
        installation_id = (await session.scalars(select(Installation.id))).one()
        used = await PromoRepository(session).usage(installation_id, CHANNEL, ["SALE"])
    assert used == {"SALE": 1}
