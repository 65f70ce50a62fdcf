"""A cart push and its order's push run side by side (each in its own lane): the cart's write
may land after the order's push took the cart away. The bought checkout's cart must not stay in
Mailchimp (its abandoned-cart e-mails would go out until the daily sweep)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from addon.db.types import utcnow
from addon.ecommerce.burst_queue import BURST_JOB
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.sync import PUSH_JOB
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from addon.mailchimp.client_ecommerce import EcommerceCalls
from addon.saleor.client import SaleorUnavailable
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import batch_calls, bursty, direct_writes, settle  # noqa: F401


async def _guest_checkout(shop: Shop) -> tuple[Any, Any]:
    """A product, and a guest's checkout of one."""
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email="guest@example.com"
    )
    return fig, checkout


async def _order_keeping_it(shop: Shop, fig: Any, checkout: Any) -> None:
    """`orderCreateFromCheckout(removeCheckout: false)`: the order, the checkout kept."""
    line = shop.saleor.order_line(fig.variants[0], 1)
    await shop.saleor.create_order(
        lines=[line], email="guest@example.com", checkout_token=checkout.token
    )


async def test_a_cart_sent_after_its_order_was_pushed_goes(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, checkout = await _guest_checkout(shop)
    create_cart = EcommerceCalls.create_cart
    raced: list[bool] = []

    async def order_pushed_meanwhile(self: Any, store_id: str, cart: Any) -> Any:
        if not raced:
            raced.append(True)
            # The cart's push read the checkout; the shopper pays before it writes.
            await shop.saleor.complete_checkout(checkout)
            await Worker(shop.services).run_until_idle()
        return await create_cart(self, store_id, cart)

    monkeypatch.setattr(EcommerceCalls, "create_cart", order_pushed_meanwhile)
    await shop.drain()
    assert raced and len(shop.orders()) == 1
    assert str(checkout.token) not in shop.carts()
    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None and record.status is SyncStatus.REMOVED


async def test_a_checkout_saleor_keeps_after_its_order_is_no_cart_again(shop: Shop) -> None:
    """`orderCreateFromCheckout(removeCheckout: false)` (in the schema since 3.20) leaves the
    checkout in Saleor, lines and e-mail: neither the order's push nor a later change of it
    sends it back as a cart."""
    fig, checkout = await _guest_checkout(shop)
    await shop.drain()
    await _order_keeping_it(shop, fig, checkout)
    assert shop.saleor.store.checkouts.get(checkout.token) is not None
    await shop.drain()
    assert len(shop.orders()) == 1 and str(checkout.token) not in shop.carts()
    await shop.saleor.update_checkout(checkout, set_quantities={fig.variants[0].id: 2})
    await shop.drain()
    assert str(checkout.token) not in shop.carts()


async def test_a_kept_checkout_stays_no_cart_after_a_failed_push(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record says its checkout became an order in a part a failure leaves alone."""
    fig, checkout = await _guest_checkout(shop)
    await shop.drain()
    await _order_keeping_it(shop, fig, checkout)
    await shop.drain()
    execute = shop.services.saleor.execute
    failed: list[str] = []

    async def once_unavailable(api_url: str, token: Any, document: str, *a: Any, **kw: Any) -> Any:
        if document == "ecommerce_checkout" and not failed:
            failed.append(document)
            raise SaleorUnavailable("Saleor answered 502")
        return await execute(api_url, token, document, *a, **kw)

    monkeypatch.setattr(shop.services.saleor, "execute", once_unavailable)
    await shop.saleor.update_checkout(checkout, set_quantities={fig.variants[0].id: 2})
    await shop.drain()
    assert failed and str(checkout.token) not in shop.carts()


async def _all_due_but_carts(shop: Shop) -> int:
    """Every waiting push and burst made due but the carts' (debounced): how many. (Not the
    schedules' jobs, always waiting: made due, each round would run them again, fifty times.)"""
    made = 0
    waiting = select(Job).where(
        Job.status == JobStatus.PENDING, Job.kind.in_((PUSH_JOB, BURST_JOB))
    )
    async with shop.services.db.transaction() as session:
        for job in await session.scalars(waiting):
            if (job.payload or {}).get("kind") != "cart":
                job.run_after = utcnow()
                made += 1
    return made


async def test_kept_checkouts_of_orders_sent_in_a_burst_stay_no_carts(
    bursty: Shop,  # noqa: F811
) -> None:
    """Their orders go as a batch (`burst_orders.py`) before the carts' debounced pushes."""
    shop = bursty
    lime = await shop.product("Lime", "1.00")
    await settle(shop)
    variant = lime.variants[0]
    kept = [
        await shop.saleor.create_checkout(lines=[LineSpec(variant.id, 2)], email=f"q{i}@x.example")
        for i in range(5)
    ]
    worker = Worker(shop.services)
    await worker.run_until_idle()  # the carts' pushes wait out the debounce
    start = len(shop.mailchimp.requests)
    for i, checkout in enumerate(kept):  # orderCreateFromCheckout(removeCheckout: false)
        line = shop.saleor.order_line(variant, 2)
        await shop.saleor.create_order(
            lines=[line], email=f"q{i}@x.example", checkout_token=checkout.token
        )
    for _ in range(50):
        await worker.run_until_idle()
        await shop.mailchimp.drain_batches()
        if not await _all_due_but_carts(shop):
            break
    assert batch_calls(shop, start)  # the orders went as a batch
    await settle(shop)  # then the carts' pushes
    assert len(shop.orders()) == 5 and shop.carts() == {}
